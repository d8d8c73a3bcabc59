import { describe, expect, it } from 'vitest';
import { RoomList } from './room-list.ts';

/** A connection's rooms behave as the `Set` they replace. */
describe('RoomList', () => {
  it.each([
    { ops: [['add', 'a']], rooms: ['a'] },
    { ops: [['add', 'a'], ['add', 'a']], rooms: ['a'] },
    { ops: [['add', 'a'], ['add', 'b'], ['delete', 'a']], rooms: ['b'] },
    { ops: [['add', 'a'], ['delete', 'x']], rooms: ['a'] },
    { ops: [['add', 'a'], ['add', 'b'], ['clear', '']], rooms: [] },
    { ops: [['add', 'b'], ['add', 'a'], ['add', 'c'], ['delete', 'a'], ['add', 'a']], rooms: ['b', 'c', 'a'] },
  ] as Array<{ ops: Array<['add' | 'delete' | 'clear', string]>; rooms: string[] }>)('$ops → $rooms', ({ ops, rooms }) => {
    const list = new RoomList();
    const set = new Set<string>();
    for (const [op, room] of ops) {
      if (op === 'clear') {
        list.clear();
        set.clear();
      } else {
        expect(list[op](room)).toBe(op === 'delete' ? set.delete(room) : undefined);
        if (op === 'add') set.add(room);
      }
    }
    expect([...list]).toEqual(rooms);
    expect([...set]).toEqual(rooms);
    expect(list.size).toBe(rooms.length);
    for (const r of ['a', 'b', 'c', 'x']) expect(list.has(r)).toBe(set.has(r));
  });
});
