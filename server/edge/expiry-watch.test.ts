import { describe, expect, it } from 'vitest';
import { ExpiryWatch } from './expiry-watch.ts';

describe('ExpiryWatch', () => {
  it('expires items in time order, skips the ones already gone, and keeps nothing', () => {
    let now = 0;
    const gone = new Set<string>();
    const expired: string[] = [];
    const w = new ExpiryWatch<string>((x) => expired.push(x), (x) => !gone.has(x), () => now);
    for (const [x, at] of [['c', 30], ['a', 10], ['d', 40], ['b', 20], ['e', 40]] as const) w.add(x, at);
    gone.add('b');
    now = 25;
    w.run();
    expect(expired).toEqual(['a']);
    now = 100;
    w.run();
    expect(expired).toEqual(['a', 'c', 'd', 'e']);
    expect(w.size).toBe(0);
    w.stop();
  });

  it('closed connections do not pin memory: churn keeps the heap near the live count', () => {
    const gone = new Set<number>();
    const w = new ExpiryWatch<number>(() => {}, (x) => !gone.has(x), () => 0);
    for (let i = 0; i < 100_000; i++) {
      w.add(i, 30 * 86_400_000 + i); // a 30-day token, reconnecting over and over
      if (i >= 10) {
        gone.add(i - 10);
        w.forget();
      }
    }
    expect(w.size).toBeLessThan(200);
    w.stop();
  });
});
