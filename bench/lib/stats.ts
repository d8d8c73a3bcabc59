/** Small statistics helpers shared by the generator and the report. */

/** The q-quantile (0..1) of `xs` by nearest rank; NaN when empty. Sorts a copy. */
export function quantile(xs: readonly number[] | Float64Array, q: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] as number };
}

/**
 * A bounded sample: keeps at most `cap` values by reservoir sampling, so a
 * long run's latencies cost fixed memory yet stay an unbiased sample.
 */
export class Reservoir {
  readonly values: number[] = [];
  seen = 0;
  constructor(private readonly cap = 200_000) {}

  add(v: number): void {
    this.seen++;
    if (this.values.length < this.cap) this.values.push(v);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.cap) this.values[j] = v;
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
