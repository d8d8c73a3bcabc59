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
import { applyEntries, isChange, mergeCopies, snippet, type HeldMessage } from './log-entries.ts';

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
  /**
   * Set while `messages` is a page far back (opened around a search result)
   * that does not reach the live tail: the tail is held here, kept current by
   * the live stream, until scrolling down joins the page onto it.
   */
  detached: Detached | null;
}

/** The live tail held aside while an older stretch of the log is shown. */
export interface Detached {
  /** The live tail's messages, in their current state. */
  tail: readonly HeldMessage[];
  /** The tail's floor (the `floor` it had when the older stretch was opened). */
  tailFloor: number;
  /** The highest seq the shown stretch holds every entry up to: scrolling down asks for what follows. */
  ceiling: number;
  newerState: 'idle' | 'loading';
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
    detached: null,
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
export function applyJoin(current: RoomState, ack: JoinOk): RoomState {
  const sameEpoch = current.epoch === null || current.epoch === ack.epoch;
  const replace = !ack.recovered || !sameEpoch || current.epoch === null;
  const common = { epoch: ack.epoch, members: usersOf(ack), status: 'joined' as const, loaded: true, error: null };
  if (!replace) {
    const pos = advance(current.lastSeq, current.ahead, ack.messages.map((m) => m.seq));
    return { ...current, ...common, ...entriesApplied(current, ack.messages, ack.lastSeq), ...pos };
  }
  // The copy is replaced: an older stretch on show gives way to the live tail.
  const room = current.detached ? backToLive(current) : current;
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
  const { messages, detached } = entriesApplied(room, incoming);
  const pos = advance(room.lastSeq, room.ahead, incoming.map((m) => m.seq));
  if (messages === room.messages && detached === room.detached && pos.lastSeq === room.lastSeq && pos.ahead === room.ahead) {
    return { room, gap: false };
  }
  return { room: { ...room, messages, detached, ...pos }, gap: room.loaded && pos.ahead.length > 0 };
}

/**
 * New entries applied to what the room holds: all of them to the live copy;
 * while an older stretch is on show, that is the held-aside tail, and the
 * stretch takes only the changes (an edit or delete of a message in it).
 */
function entriesApplied(room: RoomState, entries: readonly Message[], asOf?: number): Pick<RoomState, 'messages' | 'detached'> {
  const d = room.detached;
  if (!d) return { messages: applyEntries(room.messages, entries, asOf), detached: null };
  const tail = applyEntries(d.tail, entries, asOf);
  return {
    messages: applyEntries(room.messages, entries.filter(isChange)),
    detached: tail === d.tail ? d : { ...d, tail },
  };
}

/** The live copy: the held-aside tail while an older stretch is on show, else the messages. */
function liveCopy(room: RoomState): { messages: readonly HeldMessage[]; floor: number } {
  return room.detached ? { messages: room.detached.tail, floor: room.detached.tailFloor } : { messages: room.messages, floor: room.floor };
}

function seqBounds(messages: readonly Message[], seq: number): { lowest: number; highest: number } {
  let lowest = seq;
  let highest = seq;
  for (const m of messages) {
    lowest = Math.min(lowest, m.seq);
    highest = Math.max(highest, m.seq);
  }
  return { lowest, highest };
}

/**
 * Shows the page around `seq` (a `history` answer with `around`). A page that
 * reaches the live copy joins onto it; one further back replaces what is
 * shown, with the live tail held aside until scrolling down reaches it. The
 * page's copies are current as of the server's read, which took in every
 * entry up to its highest seq.
 */
export function applyAround(room: RoomState, ack: HistoryOk, seq: number): RoomState {
  const { lowest, highest } = seqBounds(ack.messages, seq);
  const page = applyEntries([], ack.messages, Math.max(room.lastSeq, highest));
  const live = liveCopy(room);
  const replaced = { ...room, prepended: 0, generation: room.generation + 1 };
  if (highest + 1 >= live.floor) {
    const messages = mergeCopies(page, live.messages, false);
    const floor = Math.min(lowest, live.floor);
    return { ...replaced, messages, floor, olderState: floor <= 1 ? 'done' : 'idle', detached: null };
  }
  return {
    ...replaced,
    messages: page,
    floor: lowest,
    olderState: lowest <= 1 ? 'done' : 'idle',
    detached: { tail: live.messages, tailFloor: live.floor, ceiling: highest, newerState: 'idle' },
  };
}

/**
 * Appends the page after the shown stretch's ceiling (a `history` answer with
 * `after`); once it reaches the held-aside tail, or nothing follows, the tail
 * joins on and the room is live again. Rows are only added at the bottom, so
 * the view keeps its place.
 */
export function applyNewer(room: RoomState, ack: HistoryOk): RoomState {
  const d = room.detached;
  if (!d) return room;
  const { highest } = seqBounds(ack.messages, d.ceiling);
  const messages = mergeCopies(room.messages, applyEntries([], ack.messages, Math.max(room.lastSeq, highest)), false);
  if (ack.messages.length > 0 && highest + 1 < d.tailFloor) {
    return { ...room, messages, detached: { ...d, ceiling: highest, newerState: 'idle' } };
  }
  return { ...room, messages: mergeCopies(messages, d.tail, false), detached: null };
}

/** Leaves an older stretch for the live tail ("Jump to present", or sending): a new list, at the bottom. */
export function backToLive(room: RoomState): RoomState {
  const d = room.detached;
  if (!d) return room;
  return { ...room, messages: d.tail, floor: d.tailFloor, prepended: 0, olderState: 'idle', detached: null, generation: room.generation + 1 };
}

/** The `after` of the next page down, or null when the room shows its live tail. */
export function newerAfter(room: RoomState): number | null {
  return room.detached && room.detached.newerState !== 'loading' ? room.detached.ceiling : null;
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
