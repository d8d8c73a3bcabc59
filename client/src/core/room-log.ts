/**
 * Per-room message bookkeeping as pure functions over immutable records:
 * messages de-duplicated and ordered by `seq`, the last contiguous `seq` and
 * the room's `epoch` remembered for gap-free resume.
 */
import type { HistoryOk, JoinOk, Message, User } from '../../../shared/protocol.ts';

export type RoomStatus = 'idle' | 'joining' | 'joined' | 'error';

export interface RoomState {
  name: string;
  /** Identity of the room's log; null until the first join answered. */
  epoch: string | null;
  /** Highest seq up to which this client holds every message (resume point). */
  lastSeq: number;
  /** Ascending by seq, no duplicates. */
  messages: readonly Message[];
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
    messages: [],
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
 * Merges two seq-ordered lists into one, keeping the first copy of each seq.
 * Returns `existing` itself when nothing new arrived, so views do not re-render.
 */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): readonly Message[] {
  if (incoming.length === 0) return existing;
  const sortedIncoming = isAscending(incoming) ? incoming : [...incoming].sort((a, b) => a.seq - b.seq);
  const last = existing[existing.length - 1];
  const first = sortedIncoming[0];
  // Fast path: the live stream appends after everything we have.
  if (last === undefined || (first !== undefined && first.seq > last.seq)) {
    return dedupe([...existing, ...sortedIncoming]);
  }
  const out: Message[] = [];
  let i = 0;
  let j = 0;
  let added = false;
  while (i < existing.length || j < sortedIncoming.length) {
    const a = existing[i];
    const b = sortedIncoming[j];
    let next: Message;
    if (b === undefined || (a !== undefined && a.seq <= b.seq)) {
      next = a as Message;
      i++;
    } else {
      next = b;
      j++;
    }
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.seq === next.seq) continue;
    if (next === b) added = true;
    out.push(next);
  }
  return added ? out : existing;
}

function isAscending(list: readonly Message[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if ((list[i] as Message).seq < (list[i - 1] as Message).seq) return false;
  }
  return true;
}

function dedupe(list: Message[]): Message[] {
  const out: Message[] = [];
  for (const m of list) {
    const prev = out[out.length - 1];
    if (prev === undefined || prev.seq !== m.seq) out.push(m);
  }
  return out;
}

/** Advances `from` while the list holds the next seq: the resume point never skips a gap. */
export function contiguousEnd(messages: readonly Message[], from: number): number {
  let end = from;
  for (const m of messages) {
    if (m.seq <= end) continue;
    if (m.seq === end + 1) end = m.seq;
    else break;
  }
  return end;
}

/** Applies a join answer: merge when the server could replay, replace with the latest page otherwise. */
export function applyJoin(room: RoomState, ack: JoinOk): RoomState {
  const sameEpoch = room.epoch === null || room.epoch === ack.epoch;
  // A first join (nothing held yet) takes the page as the start of the room's
  // copy, like a page that could not be recovered: its first seq, not 0, is
  // where the contiguous run begins.
  const replace = !ack.recovered || !sameEpoch || room.epoch === null;
  // Pushes that raced ahead of the answer (seq past its lastSeq) are newer than the page: keep them.
  const newer = sameEpoch ? room.messages.filter((m) => m.seq > ack.lastSeq) : [];
  const messages = replace ? mergeMessages(sortedCopy(ack.messages), newer) : mergeMessages(room.messages, ack.messages);
  const base = replace ? (messages[0]?.seq ?? ack.lastSeq + 1) - 1 : room.lastSeq;
  return {
    ...room,
    epoch: ack.epoch,
    messages,
    lastSeq: contiguousEnd(messages, base),
    members: usersOf(ack),
    status: 'joined',
    loaded: true,
    olderState: replace ? 'idle' : room.olderState,
    generation: replace && room.loaded ? room.generation + 1 : room.generation,
    error: null,
  };
}

function sortedCopy(list: readonly Message[]): readonly Message[] {
  return isAscending(list) ? list : [...list].sort((a, b) => a.seq - b.seq);
}

/** Result of applying live messages: the room, and whether a gap was seen that a re-join must fill. */
export interface LiveResult {
  room: RoomState;
  gap: boolean;
}

/** Applies pushed messages (or our own acked message) to the room. */
export function applyLive(room: RoomState, incoming: readonly Message[]): LiveResult {
  const messages = mergeMessages(room.messages, incoming);
  if (messages === room.messages) return { room, gap: false };
  const lastSeq = contiguousEnd(messages, room.lastSeq);
  const highest = messages[messages.length - 1]?.seq ?? 0;
  return { room: { ...room, messages, lastSeq }, gap: room.loaded && highest > lastSeq };
}

/** Prepends an older page from `history`. */
export function applyHistory(room: RoomState, ack: HistoryOk): RoomState {
  const messages = mergeMessages(room.messages, ack.messages);
  const first = messages[0]?.seq ?? 0;
  const done = ack.messages.length === 0 || first <= 1;
  return { ...room, messages, olderState: done ? 'done' : 'idle' };
}

/** True when older messages may exist before the first one held. */
export function hasOlder(room: RoomState): boolean {
  const first = room.messages[0];
  return room.olderState !== 'done' && first !== undefined && first.seq > 1;
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
