/**
 * Per-room log bookkeeping as pure functions over immutable records. Since
 * protocol 2.0 a room's log holds messages and changes to them (edits,
 * deletes, reactions), each entry with its own seq. The client holds the
 * messages in their current state (log-entries.ts folds the changes in) and
 * a resume point: the highest seq up to which it saw every entry, message or
 * change, so the live stream stays gap-checked and a re-join with `since`
 * replays exactly what was missed.
 */
import type { HistoryOk, JoinOk, Message, ReplyPreview, User } from '../../../shared/protocol.ts';
import { applyEntries, mergeCopies, snippet, type HeldMessage } from './log-entries.ts';

export type { HeldMessage, HeldReaction } from './log-entries.ts';

export type RoomStatus = 'idle' | 'joining' | 'joined' | 'error';

export interface RoomState {
  name: string;
  /** Identity of the room's log; null until the first join answered. */
  epoch: string | null;
  /** Highest seq up to which this client saw every entry, messages and changes alike (resume point). */
  lastSeq: number;
  /** Seqs seen past `lastSeq + 1` (beyond a gap), ascending: the resume point moves over them once the gap fills. */
  ahead: readonly number[];
  /** Messages in their current state, ascending by seq, no duplicates. Changes are folded in, not listed. */
  messages: readonly HeldMessage[];
  /** The lowest seq the held copy starts at (messages or changes): scrollback asks for what lies below it. */
  floor: number;
  /** Messages prepended by scrollback since the list was last replaced (the virtual list's first index moves by this). */
  prepended: number;
  /** Who is present, one entry per user (two users of one name are two entries). */
  members: readonly User[];
  /** Who is typing, not counting this user. */
  typing: readonly User[];
  status: RoomStatus;
  /** Whether a join has answered at least once, so "empty" means empty. */
  loaded: boolean;
  olderState: 'idle' | 'loading' | 'done';
  /** Bumped whenever the list is replaced rather than extended, so views can reset their scroll. */
  generation: number;
  error: string | null;
}

export function emptyRoom(name: string): RoomState {
  return {
    name,
    epoch: null,
    lastSeq: 0,
    ahead: [],
    messages: [],
    floor: 1,
    prepended: 0,
    members: [],
    typing: [],
    status: 'idle',
    loaded: false,
    olderState: 'idle',
    generation: 0,
    error: null,
  };
}

/**
 * Merges two seq-ordered lists of messages into one, keeping the first copy
 * of each seq. Returns `existing` itself when nothing new arrived, so views
 * do not re-render.
 */
export function mergeMessages(existing: readonly HeldMessage[], incoming: readonly Message[]): readonly HeldMessage[] {
  return mergeCopies(existing, incoming, false);
}

/**
 * Records entries as seen: seqs past the resume point wait in `ahead` until
 * every seq before them has been seen, then the resume point moves over them.
 */
export function advance(lastSeq: number, ahead: readonly number[], seqs: Iterable<number>): { lastSeq: number; ahead: readonly number[] } {
  let added = false;
  const set = new Set(ahead);
  for (const s of seqs) {
    if (s > lastSeq && !set.has(s)) {
      set.add(s);
      added = true;
    }
  }
  if (!added) return { lastSeq, ahead };
  let end = lastSeq;
  while (set.delete(end + 1)) end++;
  return { lastSeq: end, ahead: [...set].sort((a, b) => a - b) };
}

/**
 * Applies a join answer. A recovered resume (same epoch, something held)
 * applies what was missed, entry by entry. Anything else (the first join, a
 * reset log, a client too far behind) replaces the copy with the page and
 * takes the answer's `lastSeq` as the resume point: a page holds messages in
 * their current state, and the changes before its end are already in them.
 */
export function applyJoin(room: RoomState, ack: JoinOk): RoomState {
  const sameEpoch = room.epoch === null || room.epoch === ack.epoch;
  const replace = !ack.recovered || !sameEpoch || room.epoch === null;
  const common = { epoch: ack.epoch, members: usersOf(ack), status: 'joined' as const, loaded: true, error: null };
  if (!replace) {
    const messages = applyEntries(room.messages, ack.messages, ack.lastSeq);
    const pos = advance(room.lastSeq, room.ahead, ack.messages.map((m) => m.seq));
    return { ...room, ...common, messages, ...pos };
  }
  // Pushes that raced ahead of the answer (seq past its lastSeq) are newer than the page: keep them.
  const newer = sameEpoch ? room.messages.filter((m) => m.seq > ack.lastSeq) : [];
  const ahead = sameEpoch ? room.ahead.filter((s) => s > ack.lastSeq) : [];
  const page = applyEntries([], ack.messages, ack.lastSeq);
  const messages = mergeCopies(page, newer, false);
  const pos = advance(ack.lastSeq, [], [...ahead, ...newer.map((m) => m.seq)]);
  return {
    ...room,
    ...common,
    messages,
    ...pos,
    floor: Math.min(ack.messages[0]?.seq ?? ack.lastSeq + 1, ack.lastSeq + 1),
    prepended: 0,
    olderState: 'idle',
    generation: room.loaded ? room.generation + 1 : room.generation,
  };
}

/** Result of applying live entries: the room, and whether a gap was seen that a re-join must fill. */
export interface LiveResult {
  room: RoomState;
  gap: boolean;
}

/**
 * Applies pushed entries (or the client's own acked ones) to the room:
 * messages merge, changes update their targets, and the resume point moves
 * over every seq seen. An entry beyond `lastSeq + 1` means a gap.
 */
export function applyLive(room: RoomState, incoming: readonly Message[]): LiveResult {
  const messages = applyEntries(room.messages, incoming);
  const pos = advance(room.lastSeq, room.ahead, incoming.map((m) => m.seq));
  if (messages === room.messages && pos.lastSeq === room.lastSeq && pos.ahead === room.ahead) return { room, gap: false };
  return { room: { ...room, messages, ...pos }, gap: room.loaded && pos.ahead.length > 0 };
}

/**
 * Prepends an older page from `history`. Its messages come in their current
 * state, which includes every change the client has seen (the page was read
 * after them), so its own change entries have nothing left to do.
 */
export function applyHistory(room: RoomState, ack: HistoryOk): RoomState {
  const page = applyEntries([], ack.messages, room.lastSeq);
  const messages = mergeCopies(room.messages, page, false);
  const lowest = ack.messages.reduce((min, m) => Math.min(min, m.seq), room.floor);
  const done = ack.messages.length === 0 || lowest <= 1;
  return {
    ...room,
    messages,
    floor: lowest,
    prepended: room.prepended + (messages.length - room.messages.length),
    olderState: done ? 'done' : 'idle',
  };
}

/**
 * Gives the replies to `preview.seq` that came without a preview of their
 * original (a live push carries only `replyTo`) the one now known.
 */
export function withReplyPreview(room: RoomState, preview: ReplyPreview): RoomState {
  let changed = false;
  const messages = room.messages.map((m) => {
    if (m.replyTo !== preview.seq || m.reply !== undefined) return m;
    changed = true;
    return { ...m, reply: preview };
  });
  return changed ? { ...room, messages } : room;
}

/** How a reply previews its original, from the original as it is now. */
export function previewOf(m: Message): ReplyPreview {
  const base = { seq: m.seq, author: m.author, authorId: m.authorId };
  return m.deleted ? { ...base, text: '', deleted: true } : { ...base, text: snippet(m.text) };
}

/** True when older entries may exist below the held copy. */
export function hasOlder(room: RoomState): boolean {
  return room.olderState !== 'done' && room.loaded && room.floor > 1;
}

/** The `before` of the next scrollback page, or null when there is nothing older. */
export function olderBefore(room: RoomState): number | null {
  return hasOlder(room) ? room.floor : null;
}

/** Prefix of the stand-in ids `usersOf` makes for an older server's names. */
const NAME_ONLY_PREFIX = 'name:';

/**
 * The users of a presence list. Servers since protocol 1.5 send `users`
 * (userId and name); from an older one, each name stands for one user.
 */
export function usersOf(ev: { members: readonly string[]; users?: readonly User[] | undefined }): readonly User[] {
  return ev.users ?? ev.members.map((name) => ({ userId: `${NAME_ONLY_PREFIX}${name}`, name }));
}

/** False for a stand-in from an older server's presence list: it names a user but cannot tell them apart. */
export function hasUserId(user: User): boolean {
  return !user.userId.startsWith(NAME_ONLY_PREFIX);
}
