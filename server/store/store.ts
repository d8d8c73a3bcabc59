import type { Message } from '../../shared/protocol.ts';

/** What the store knows of a room's log. */
export interface RoomLog {
  /** Identity of this log: changes only if the room's history is reset. */
  epoch: string;
  /** Highest committed seq; 0 for an empty room. */
  lastSeq: number;
}

/**
 * Durable message storage. The room fiber is the only writer of a room, so
 * implementations need no locking of their own; every write is one atomic
 * batch. Methods are async so a worker-thread or network implementation
 * (PostgreSQL) can stand in without touching the callers.
 */
export interface Store {
  /** Loads a room's log, creating it (with a fresh epoch) on first use. */
  openRoom(room: string): Promise<RoomLog>;
  /**
   * Appends a batch atomically: all of it is committed, or none of it and the
   * promise rejects. Seqs must continue the room's log without a gap.
   */
  append(room: string, messages: readonly Message[]): Promise<void>;
  /** Up to `limit` messages with seq > `after`, ascending. */
  readAfter(room: string, after: number, limit: number): Promise<Message[]>;
  /** The `limit` messages just below `before`, ascending. */
  readBefore(room: string, before: number, limit: number): Promise<Message[]>;
  /** Already-stored messages of `authorId` in `room` carrying these client ids. */
  findByClientIds(room: string, authorId: string, clientIds: readonly string[]): Promise<Message[]>;
  close(): Promise<void>;
}

/** Thrown by `append` when seqs do not continue the log: a bug, never retried blindly. */
export class SeqConflict extends Error {
  override readonly name = 'SeqConflict';
}
