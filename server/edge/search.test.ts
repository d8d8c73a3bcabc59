import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './search.ts';

describe('search cursors', () => {
  it('carry any store position, below zero too, and refuse what this server did not make', () => {
    for (const p of [0, 1, 1_843_200_000_000_000, -2_657_000_000_000_000]) expect(decodeCursor(encodeCursor(p))).toBe(p);
    expect(encodeCursor(42)).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const bad of ['', 'not-ours', Buffer.from('s2:5').toString('base64url'), Buffer.from('s1:1e5').toString('base64url'), Buffer.from(`s1:${'9'.repeat(18)}`).toString('base64url')]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
  });
});
