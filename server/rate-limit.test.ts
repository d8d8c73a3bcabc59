import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

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
});
