import { describe, expect, it } from 'vitest';
import { DecayingTopK } from './top-k.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('DecayingTopK', () => {
  it('ranks keys by weight and keeps the latest meta', () => {
    const c = clock();
    const top = new DecayingTopK<string>({ capacity: 8, halfLifeMs: 60_000, now: c.now });
    top.add('a', 1, 'first');
    top.add('b', 5);
    top.add('a', 1, 'second');
    top.add('c', 3);
    expect(top.top(2).map((e) => [e.key, e.weight, e.meta])).toEqual([
      ['b', 5, undefined],
      ['c', 3, undefined],
    ]);
    expect(top.top(10).find((e) => e.key === 'a')?.meta).toBe('second');
  });

  it.each([
    { elapsedMs: 0, weight: 8 },
    { elapsedMs: 60_000, weight: 4 },
    { elapsedMs: 120_000, weight: 2 },
    { elapsedMs: 600_000, weight: 8 / 1024 },
  ])('halves weight every half-life ($elapsedMs ms later: $weight)', ({ elapsedMs, weight }) => {
    const c = clock();
    const top = new DecayingTopK({ capacity: 4, halfLifeMs: 60_000, now: c.now });
    top.add('x', 8);
    c.advance(elapsedMs);
    expect(top.weight('x')).toBeCloseTo(weight, 9);
  });

  it('turns a steady rate into per-minute figures', () => {
    const c = clock();
    const top = new DecayingTopK({ capacity: 4, halfLifeMs: 30_000, now: c.now });
    // 2 per second for 10 minutes (20 half-lives): the decayed sum settles at rate × h / ln 2.
    for (let i = 0; i < 1200; i++) {
      top.add('steady', 1);
      c.advance(500);
    }
    expect(top.perMin('steady')).toBeGreaterThan(115);
    expect(top.perMin('steady')).toBeLessThan(125);
  });

  it('never holds more than its capacity, and a heavy key survives a flood of one-off keys', () => {
    const c = clock();
    const top = new DecayingTopK({ capacity: 16, halfLifeMs: 60_000, now: c.now });
    let largest = 0;
    for (let i = 0; i < 50_000; i++) {
      if (i % 10 === 0) top.add('heavy', 1);
      top.add(`one-off-${i}`, 1);
      largest = Math.max(largest, top.size);
      if (i % 100 === 0) c.advance(10);
    }
    expect(largest).toBe(16);
    expect(top.top(1)[0]?.key).toBe('heavy');
  });

  it('lets a newcomer replace the lightest key and inherit its weight (Space-Saving)', () => {
    const c = clock();
    const top = new DecayingTopK({ capacity: 2, halfLifeMs: 60_000, now: c.now });
    top.add('a', 10);
    top.add('b', 2);
    top.add('c', 1);
    expect(top.top(5).map((e) => [e.key, e.weight])).toEqual([
      ['a', 10],
      ['c', 3],
    ]);
  });

  it('stays finite and ordered over days (the landmark moves forward)', () => {
    const c = clock();
    const top = new DecayingTopK({ capacity: 4, halfLifeMs: 1000, now: c.now });
    for (let day = 0; day < 3; day++) {
      c.advance(86_400_000);
      top.add('late', 2);
      top.add('later', 1);
    }
    const [first, second] = top.top(2);
    expect(first?.key).toBe('late');
    expect(Number.isFinite(first?.weight)).toBe(true);
    expect(first?.weight).toBeCloseTo(2, 9);
    expect(second?.weight).toBeCloseTo(1, 9);
  });

  it('ignores weights that are not positive', () => {
    const top = new DecayingTopK({ capacity: 2, halfLifeMs: 1000 });
    top.add('z', 0);
    top.add('z', -1);
    top.add('z', Number.NaN);
    expect(top.size).toBe(0);
  });
});
