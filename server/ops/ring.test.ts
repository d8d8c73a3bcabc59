import { describe, expect, it } from 'vitest';
import { Ring } from './ring.ts';

describe('Ring', () => {
  it.each([
    { capacity: 1, pushes: 5, kept: [4] },
    { capacity: 3, pushes: 2, kept: [0, 1] },
    { capacity: 3, pushes: 3, kept: [0, 1, 2] },
    { capacity: 3, pushes: 10, kept: [7, 8, 9] },
    { capacity: 900, pushes: 5000, kept: Array.from({ length: 900 }, (_, i) => 4100 + i) },
  ])('capacity $capacity after $pushes pushes holds the newest, oldest first', ({ capacity, pushes, kept }) => {
    const ring = new Ring<number>(capacity);
    for (let i = 0; i < pushes; i++) ring.push(i);
    expect(ring.toArray()).toEqual(kept);
    expect(ring.last()).toBe(pushes - 1);
  });

  it('never grows past its capacity, however many items go through it', () => {
    const ring = new Ring<{ t: number }>(900);
    let largest = 0;
    for (let i = 0; i < 20_000; i++) {
      ring.push({ t: i });
      largest = Math.max(largest, ring.size, ring.toArray().length);
    }
    expect(largest).toBe(900);
    // The backing array was allocated once, at its capacity.
    expect((ring as unknown as { items: unknown[] }).items.length).toBe(900);
  });

  it('hands out the newest items after a point, oldest first', () => {
    const ring = new Ring<number>(4);
    for (let i = 0; i < 7; i++) ring.push(i);
    expect(ring.newestWhile((x) => x > 4)).toEqual([5, 6]);
    expect(ring.newestWhile((x) => x > 100)).toEqual([]);
    expect(ring.newestWhile(() => true)).toEqual([3, 4, 5, 6]);
  });

  it('is empty before the first push and refuses a capacity below 1', () => {
    expect(new Ring<number>(2).last()).toBeUndefined();
    expect(new Ring<number>(2).toArray()).toEqual([]);
    expect(() => new Ring<number>(0)).toThrow(RangeError);
    expect(() => new Ring<number>(1.5)).toThrow(RangeError);
  });
});
