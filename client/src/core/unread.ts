/**
 * Unread arithmetic for one room, as pure functions over immutable records,
 * so the rules are table-tested without a server.
 *
 * The server counts what the client cannot see: `myRooms` says how many
 * messages by others follow the user's read position (and how many of those
 * mention them) up to the room's `lastSeq` at that moment. Past that point
 * the client counts for itself, from the live stream, and keeps each counted
 * message by seq so that moving the read position, a deletion or a repeated
 * delivery changes the count exactly. Only messages count: edits, deletions
 * and reactions are log entries too, but nobody has anything new to read in
 * them, and the user's own messages never count.
 *
 * The read position only moves forward, whoever moves it (this tab, another
 * tab's `read` event, a fresh `myRooms`): the highest one known wins.
 */
import type { Message, MyRoom } from '../../../shared/protocol.ts';

/** The server stops counting here (`myRooms` answers at most this); shown as "999+". */
export const UNREAD_CAP = 999;

/** A message by someone else, counted after the server's count ends. */
export interface CountedMessage {
  seq: number;
  mention: boolean;
}

export interface RoomCounts {
  /** The user's read position: every seq up to it counts as read. */
  lastRead: number;
  /** The server counted `(lastRead, baseSeq]`… */
  baseSeq: number;
  /** …and found this many unread messages… */
  baseUnread: number;
  /** …of which this many mention the user. */
  baseMentions: number;
  /** Messages by others after `baseSeq`, ascending by seq, each once. */
  live: readonly CountedMessage[];
  /** Highest seq this client has looked at in the room (counted or not). */
  seen: number;
}

export const NO_COUNTS: RoomCounts = { lastRead: 0, baseSeq: 0, baseUnread: 0, baseMentions: 0, live: [], seen: 0 };

/** What a room shows: unread messages and mentions of the user among them. */
export interface UnreadView {
  unread: number;
  mentions: number;
}

/** Counts as the server gave them. */
export function countsFromServer(r: Pick<MyRoom, 'lastRead' | 'lastSeq' | 'unread' | 'mentions'>): RoomCounts {
  return { lastRead: r.lastRead, baseSeq: r.lastSeq, baseUnread: r.unread, baseMentions: r.mentions, live: [], seen: r.lastSeq };
}

/**
 * A fresh `myRooms` answer: the server's count replaces ours up to its
 * `lastSeq`; what we counted beyond it stays. A read position we already
 * know to be further on (a `read` still on its way) is kept; if it covers
 * the server's whole count, nothing of that count is unread.
 */
export function refreshCounts(prev: RoomCounts, r: Pick<MyRoom, 'lastRead' | 'lastSeq' | 'unread' | 'mentions'>): RoomCounts {
  const lastRead = Math.max(prev.lastRead, r.lastRead);
  const covered = lastRead >= r.lastSeq;
  return {
    lastRead,
    baseSeq: r.lastSeq,
    baseUnread: covered ? 0 : r.unread,
    baseMentions: covered ? 0 : r.mentions,
    live: prev.live.filter((m) => m.seq > r.lastSeq && m.seq > lastRead),
    seen: Math.max(prev.seen, r.lastSeq),
  };
}

/** True when a log entry is a message (not an edit, deletion or reaction). */
export function isMessage(m: Pick<Message, 'kind'>): boolean {
  return m.kind === undefined || m.kind === 'message';
}

/** True when `m` names `userId` among the people it mentions. */
export function mentions(m: Pick<Message, 'mentions'>, userId: string): boolean {
  return m.mentions?.includes(userId) ?? false;
}

/**
 * Entries of the room's log, live or replayed, in any order and possibly
 * again. Messages by others past everything counted are counted; a deletion
 * uncounts its target; an edit updates whether its target mentions the user.
 */
export function applyEntries(prev: RoomCounts, entries: readonly Message[], me: string): RoomCounts {
  let live = prev.live;
  let seen = prev.seen;
  let changed = false;
  const counted = (seq: number) => live.findIndex((m) => m.seq === seq);
  for (const e of entries) {
    if (isMessage(e)) {
      // At or below baseSeq the server's count has it; at or below lastRead it is read; seen before, we have it.
      if (e.seq <= prev.baseSeq || e.seq <= prev.lastRead || e.deleted || e.authorId === me || counted(e.seq) >= 0) {
        seen = Math.max(seen, e.seq);
        continue;
      }
      live = insertBySeq(live, { seq: e.seq, mention: mentions(e, me) });
    } else if (e.target !== undefined && counted(e.target) >= 0) {
      const i = counted(e.target);
      if (e.kind === 'delete') live = live.filter((_, j) => j !== i);
      else if (e.kind === 'edit') live = live.map((m, j) => (j === i ? { ...m, mention: mentions(e, me) } : m));
      else continue;
    } else {
      seen = Math.max(seen, e.seq);
      continue;
    }
    changed = true;
    seen = Math.max(seen, e.seq);
  }
  if (!changed && seen === prev.seen) return prev;
  return { ...prev, live, seen };
}

function insertBySeq(list: readonly CountedMessage[], m: CountedMessage): readonly CountedMessage[] {
  const last = list[list.length - 1];
  if (last === undefined || last.seq < m.seq) return [...list, m];
  const out = [...list];
  out.splice(
    out.findIndex((x) => x.seq > m.seq),
    0,
    m,
  );
  return out;
}

/**
 * The read position moved to `seq` (this tab, another tab, another device).
 * Never backwards. Reading past the server's count clears it; reading part
 * of it leaves it as it was until the next `myRooms` (the client does not
 * hold those messages, so it cannot tell which of them were read), which
 * errs on the side of showing a count.
 */
export function applyRead(prev: RoomCounts, seq: number): RoomCounts {
  if (seq <= prev.lastRead) return prev;
  const coversBase = seq >= prev.baseSeq;
  return {
    ...prev,
    lastRead: seq,
    baseUnread: coversBase ? 0 : prev.baseUnread,
    baseMentions: coversBase ? 0 : prev.baseMentions,
    live: prev.live.filter((m) => m.seq > seq),
    seen: Math.max(prev.seen, seq),
  };
}

/** Unread messages and mentions, capped as the server caps them. */
export function unreadOf(c: RoomCounts): UnreadView {
  let unread = c.baseSeq > c.lastRead ? c.baseUnread : 0;
  let mentioned = c.baseSeq > c.lastRead ? c.baseMentions : 0;
  for (const m of c.live) {
    if (m.seq <= c.lastRead) continue;
    unread++;
    if (m.mention) mentioned++;
  }
  return { unread: Math.min(unread, UNREAD_CAP), mentions: Math.min(mentioned, UNREAD_CAP) };
}

/**
 * Whether a read marker for `seq` is worth sending: only forward of every
 * position known (the server's, another tab's, one already sent).
 */
export function shouldMarkRead(known: number, sent: number, seq: number): boolean {
  return seq > known && seq > sent;
}

/** "12", or "999+" once the server's cap is reached. */
export function countText(n: number): string {
  return n >= UNREAD_CAP ? `${UNREAD_CAP}+` : String(n);
}
