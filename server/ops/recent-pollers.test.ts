import { describe, expect, it } from 'vitest';
import { RecentPollers } from './recent-pollers.ts';

describe('RecentPollers', () => {
  it('counts each key once while its lease runs, and forgets it after', () => {
    let now = 0;
    const p = new RecentPollers(30_000, 100, () => now);
    p.polled('alice');
    p.polled('alice');
    p.polled('bob');
    expect(p.count()).toBe(2);
    now = 20_000;
    p.polled('alice');
    now = 30_001;
    expect(p.count()).toBe(1);
    now = 50_001;
    expect(p.count()).toBe(0);
  });

  it('holds at most `max` keys, dropping the longest silent', () => {
    let now = 0;
    const p = new RecentPollers(30_000, 3, () => now);
    for (const k of ['a', 'b', 'c', 'd', 'e']) {
      p.polled(k);
      now += 1;
    }
    expect(p.count()).toBe(3);
    p.polled('c');
    p.polled('f');
    // a, b and then d were pushed out; e's lease (from 4) ends, c and f (polled at 5) hold on.
    now = 30_004;
    expect(p.count()).toBe(2);
  });
});
