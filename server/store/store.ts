import type { Message } from '../../shared/protocol.ts';

/** What the store knows of a room's log. */
export interface RoomLog {
  /** Identity of this log: changes only if the room's history is reset. */
  epoch: string;
  /** Highest committed seq; 0 for an empty room. */
  lastSeq: number;
}

/** A message as the room hands it to the store: everything but its seq, which the store assigns. */
export interface Draft {
  /** Globally unique message id, chosen by the room. */
  id: string;
  /** The sender's idempotency key: one stored message per (authorId, clientId) in a room. */
  clientId: string;
  author: string;
  authorId: string;
  text: string;
  ts: number;
}

/** The outcome of one draft: the stored message, and whether it had been stored before (a retry). */
export interface Committed {
  message: Message;
  duplicate: boolean;
}

export interface CommitResult {
  /** The room's log right after the commit (its epoch, and the highest seq any writer committed). */
  log: RoomLog;
  /** One per draft, in the drafts' order. */
  results: Committed[];
}

/**
 * Durable message storage. The store, not the room, is the source of order:
 * `commit` assigns seqs inside one atomic write, so several writers (room
 * fibers of one room on several nodes, or a fiber and a repair tool) can
 * never produce a gap or a duplicate. A room fiber keeps its own `lastSeq`
 * as a cache; when a commit's seqs do not follow it, another writer
 * committed meanwhile and the room reads the missing range back.
 *
 * Nothing is written for a room until its first message is committed, so
 * reading an unknown room costs a lookup and leaves nothing behind.
 */
export interface Store {
  /** The room's log, or undefined when the room has never stored a message. Writes nothing. */
  roomLog(room: string): Promise<RoomLog | undefined>;
  /**
   * The logs of several rooms in one call (rooms never stored are absent).
   * A cluster node checks its live rooms with it every second, so a hint the
   * bus dropped delays delivery by at most that long.
   */
  roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>>;
  /**
   * Commits a batch atomically: all of it or none of it (the promise rejects).
   * A draft whose (authorId, clientId) is already stored in the room, or
   * appears earlier in the batch, is answered with the stored original and
   * `duplicate: true`; every other draft gets the next seq. The room's row is
   * created with the first message, with `epochIfNew` as its epoch.
   */
  commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult>;
  /** Up to `limit` messages with seq > `after`, ascending. */
  readAfter(room: string, after: number, limit: number): Promise<Message[]>;
  /** The `limit` messages just below `before`, ascending. */
  readBefore(room: string, before: number, limit: number): Promise<Message[]>;
  close(): Promise<void>;
}
