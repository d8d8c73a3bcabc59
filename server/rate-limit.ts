/**
 * Token buckets keyed by connection or identity. A bucket refills at `rate`
 * tokens per second up to `burst`. Keys idle long enough to be full again are
 * swept, so the table stays bounded by the number of recently active keys.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweepAt = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token. Returns 0 when allowed, else the ms to wait before retrying. */
  take(key: string): number {
    return this.takeAll([key]);
  }

  /**
   * Takes one token from each key's bucket, or from none: a request refused by
   * one bucket (say, the identity's) costs nothing from the others (the
   * connection's). Returns 0 when allowed, else the longest wait.
   */
  takeAll(keys: readonly string[]): number {
    const t = this.now();
    this.sweep(t);
    let wait = 0;
    const buckets = keys.map((key) => {
      const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
      b.at = t;
      this.buckets.set(key, b);
      if (b.tokens < 1) wait = Math.max(wait, Math.ceil(((1 - b.tokens) / this.rate) * 1000));
      return b;
    });
    if (wait === 0) for (const b of buckets) b.tokens -= 1;
    return wait;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(t: number): void {
    if (t < this.sweepAt) return;
    const fullAfterMs = (this.burst / this.rate) * 1000;
    this.sweepAt = t + Math.max(1000, fullAfterMs);
    for (const [k, b] of this.buckets) if (t - b.at >= fullAfterMs) this.buckets.delete(k);
  }
}
