import { randomUUID } from 'node:crypto';
import type { Message } from '../../shared/protocol.ts';
import { SeqConflict, type RoomLog, type Store } from './store.ts';

/**
 * In-memory Store for unit tests and throwaway demos. Same contract as the
 * SQLite store (see store.contract.test.ts), plus a switch to make writes
 * fail, so tests can prove that a failed commit never produces an ok ack.
 */
export class MemoryStore implements Store {
  private readonly rooms = new Map<string, { epoch: string; messages: Message[] }>();
  /** When set, every append rejects with this error. */
  failAppends: Error | undefined;
  appendCalls = 0;

  async openRoom(room: string): Promise<RoomLog> {
    const r = this.room(room);
    return { epoch: r.epoch, lastSeq: r.messages.length };
  }

  async append(room: string, messages: readonly Message[]): Promise<void> {
    this.appendCalls++;
    if (this.failAppends) throw this.failAppends;
    const r = this.room(room);
    messages.forEach((m, i) => {
      if (m.seq !== r.messages.length + 1 + i) throw new SeqConflict(`room ${room}: seq ${m.seq} does not continue the log`);
    });
    r.messages.push(...messages.map((m) => ({ ...m })));
  }

  async readAfter(room: string, after: number, limit: number): Promise<Message[]> {
    return this.room(room).messages.slice(after, after + limit);
  }

  async readBefore(room: string, before: number, limit: number): Promise<Message[]> {
    const end = Math.min(before - 1, this.room(room).messages.length);
    return this.room(room).messages.slice(Math.max(0, end - limit), Math.max(0, end));
  }

  async findByClientIds(room: string, authorId: string, clientIds: readonly string[]): Promise<Message[]> {
    const wanted = new Set(clientIds);
    return this.room(room).messages.filter((m) => m.authorId === authorId && m.clientId !== undefined && wanted.has(m.clientId));
  }

  async close(): Promise<void> {}

  private room(room: string) {
    let r = this.rooms.get(room);
    if (!r) {
      r = { epoch: randomUUID(), messages: [] };
      this.rooms.set(room, r);
    }
    return r;
  }
}
