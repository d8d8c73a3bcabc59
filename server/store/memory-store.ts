import type { Message } from '../../shared/protocol.ts';
import type { CommitResult, Draft, RoomLog, Store } from './store.ts';

interface MemoryRoom {
  epoch: string;
  messages: Message[];
  /** `authorId \0 clientId` → index in `messages`. */
  byClient: Map<string, number>;
}

/**
 * In-memory Store for unit tests and throwaway demos. Same contract as the
 * SQLite store (see store.contract.test.ts), plus switches that make calls
 * fail, so tests can prove that a failed commit never produces an ok ack and
 * that every failure is reported.
 */
export class MemoryStore implements Store {
  private readonly rooms = new Map<string, MemoryRoom>();
  /** When set, every commit rejects with this error. */
  failCommits: Error | undefined;
  /** When set, every read (roomLog, readAfter, readBefore) rejects with this error. */
  failReads: Error | undefined;
  commitCalls = 0;

  async roomLog(room: string): Promise<RoomLog | undefined> {
    this.checkRead();
    const r = this.rooms.get(room);
    return r && { epoch: r.epoch, lastSeq: r.messages.length };
  }

  async roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>> {
    const out = new Map<string, RoomLog>();
    for (const room of rooms) {
      const log = await this.roomLog(room);
      if (log) out.set(room, log);
    }
    return out;
  }

  async commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
    this.commitCalls++;
    if (this.failCommits) throw this.failCommits;
    let r = this.rooms.get(room);
    if (!r) {
      if (drafts.length === 0) return { log: { epoch: epochIfNew, lastSeq: 0 }, results: [] };
      r = { epoch: epochIfNew, messages: [], byClient: new Map() };
      this.rooms.set(room, r);
    }
    const results = drafts.map((d) => {
      const key = `${d.authorId}\u0000${d.clientId}`;
      const at = r.byClient.get(key);
      if (at !== undefined) return { message: { ...(r.messages[at] as Message) }, duplicate: true };
      const message: Message = { room, seq: r.messages.length + 1, ...d };
      r.byClient.set(key, r.messages.length);
      r.messages.push(message);
      return { message: { ...message }, duplicate: false };
    });
    return { log: { epoch: r.epoch, lastSeq: r.messages.length }, results };
  }

  async readAfter(room: string, after: number, limit: number): Promise<Message[]> {
    this.checkRead();
    return (this.rooms.get(room)?.messages ?? []).slice(after, after + limit).map((m) => ({ ...m }));
  }

  async readBefore(room: string, before: number, limit: number): Promise<Message[]> {
    this.checkRead();
    const messages = this.rooms.get(room)?.messages ?? [];
    const end = Math.max(0, Math.min(before - 1, messages.length));
    return messages.slice(Math.max(0, end - limit), end).map((m) => ({ ...m }));
  }

  async close(): Promise<void> {}

  private checkRead(): void {
    if (this.failReads) throw this.failReads;
  }
}
