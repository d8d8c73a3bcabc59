import { describe, expect, it } from 'vitest';
import { RateLimiter, takeFromAll } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows the burst, then refills at the rate, with the wait to the next token', () => {
    let now = 0;
    const rl = new RateLimiter(2, 3, () => now);
    expect([rl.take('k'), rl.take('k'), rl.take('k')]).toEqual([0, 0, 0]);
    expect(rl.take('k')).toBe(500);
    now = 499;
    expect(rl.take('k')).toBe(2);
    now = 500;
    expect(rl.take('k')).toBe(0);
    expect(rl.take('other')).toBe(0); // keys are independent
  });

  it('takeAll charges every bucket or none', () => {
    let now = 0;
    const rl = new RateLimiter(1, 2, () => now);
    expect(rl.takeAll(['c:1', 'u:a'])).toBe(0);
    expect(rl.takeAll(['c:2', 'u:a'])).toBe(0);
    // The identity is out of tokens: a third connection of the same user is refused...
    expect(rl.takeAll(['c:3', 'u:a'])).toBe(1000);
    // ...and the refusal cost connection 3 nothing.
    now = 1000;
    expect(rl.takeAll(['c:3'])).toBe(0);
    expect(rl.takeAll(['c:3'])).toBe(0);
  });

  it('forgets idle keys once their buckets are full again', () => {
    let now = 0;
    const rl = new RateLimiter(10, 10, () => now);
    for (let i = 0; i < 100; i++) rl.take(`k${i}`);
    expect(rl.size).toBe(100);
    now = 5000;
    rl.take('fresh');
    expect(rl.size).toBe(1);
  });

  it('charges a cost known after the work into debt, and refuses until the debt is repaid', () => {
    let now = 0;
    const bytes = new RateLimiter(1000, 4000, () => now);
    expect(bytes.check(['c:1'])).toBe(0);
    bytes.charge(['c:1'], 10_000); // one large answer: 6000 in debt
    expect(bytes.check(['c:1'])).toBe(6000);
    now = 5999;
    expect(bytes.check(['c:1'])).toBe(1);
    now = 6000;
    expect(bytes.check(['c:1'])).toBe(0);
    // A bucket in debt is not swept as idle.
    bytes.charge(['c:2'], 100_000);
    now = 10_000;
    bytes.check(['other']);
    expect(bytes.check(['c:2'])).toBeGreaterThan(0);
  });

  it('takeFromAll spends from several limiters, all or nothing', () => {
    const now = 0;
    const perConn = new RateLimiter(1, 5, () => now);
    const perRoom = new RateLimiter(1, 1, () => now);
    expect(takeFromAll([[perConn, ['c:1']], [perRoom, ['r:a']]])).toBe(0);
    expect(takeFromAll([[perConn, ['c:1']], [perRoom, ['r:a']]])).toBe(1000);
    // The refusal cost the connection nothing: 4 tokens left.
    expect(perConn.waitFor(['c:1'], 4)).toBe(0);
    expect(perConn.waitFor(['c:1'], 5)).toBeGreaterThan(0);
  });
});
