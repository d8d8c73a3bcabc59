import type { JoinedRooms } from './caller.ts';

/**
 * A connection's rooms (at most `LIMITS.roomsPerConnection`) in an array of
 * exactly their number, replaced on each change: most connections are in one
 * or two rooms, where a `Set` costs its hash table (about 150 bytes) and an
 * array grown by `push` the room for 17.
 */
export class RoomList implements JoinedRooms {
  private rooms: readonly string[] = [];

  get size(): number {
    return this.rooms.length;
  }

  has(room: string): boolean {
    return this.rooms.includes(room);
  }

  add(room: string): void {
    if (!this.has(room)) this.rooms = [...this.rooms, room];
  }

  delete(room: string): boolean {
    const had = this.has(room);
    if (had) this.rooms = this.rooms.filter((r) => r !== room);
    return had;
  }

  clear(): void {
    this.rooms = [];
  }

  [Symbol.iterator](): Iterator<string> {
    return this.rooms[Symbol.iterator]();
  }
}
