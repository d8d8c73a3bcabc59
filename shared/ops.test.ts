import { describe, expect, it } from 'vitest';
import { ACK_BUCKETS, quantileFromBuckets } from './ops.ts';

const bounds = [1, 2, 4];

describe('quantileFromBuckets', () => {
  it.each([
    { name: 'empty', cumulative: [0, 0, 0, 0], q: 0.5, want: null },
    { name: 'all in the first bucket, median', cumulative: [10, 10, 10, 10], q: 0.5, want: 0.5 },
    { name: 'all in the first bucket, p99', cumulative: [10, 10, 10, 10], q: 0.99, want: 0.99 },
    { name: 'half and half, median at the first bound', cumulative: [5, 10, 10, 10], q: 0.5, want: 1 },
    { name: 'half and half, p75 inside the second bucket', cumulative: [5, 10, 10, 10], q: 0.75, want: 1.5 },
    { name: 'in the third bucket', cumulative: [0, 0, 4, 4], q: 0.5, want: 3 },
    { name: 'past the last bound: the highest finite bound', cumulative: [0, 0, 0, 7], q: 0.5, want: 4 },
  ])('$name', ({ cumulative, q, want }) => {
    const got = quantileFromBuckets(bounds, cumulative, q);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 9);
  });

  it('agrees with the bucket layout of the send→ack histogram', () => {
    const cumulative = [...ACK_BUCKETS.map((_, i) => (i >= 3 ? 100 : 0)), 100];
    // Every observation in (0.002, 0.005]: the median is half way through it.
    expect(quantileFromBuckets(ACK_BUCKETS, cumulative, 0.5)).toBeCloseTo(0.0035, 9);
  });
});
