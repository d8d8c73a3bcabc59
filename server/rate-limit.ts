/**
 * Token buckets keyed by connection, identity, address or room. A bucket
 * refills at `rate` tokens per second up to `burst`. Keys idle long enough to
 * be full again are swept, so the table stays bounded by the number of
 * recently active keys.
 *
 * Two ways to spend: `takeAll` (one token per request, from every key or from
 * none) and `charge` (a cost known only after the work, such as the bytes of
 * an answer, which may take a bucket into debt; `check` then refuses until
 * the debt is repaid, so the average stays at `rate` however large one
 * answer was).
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
    const wait = this.waitFor(keys, 1);
    if (wait === 0) this.charge(keys, 1);
    return wait;
  }

  /** The ms until every key's bucket holds `need` tokens (0: now). Takes nothing. */
  waitFor(keys: readonly string[], need = 1): number {
    const t = this.now();
    this.sweep(t);
    let wait = 0;
    for (const key of keys) {
      const b = this.refill(key, t);
      if (b.tokens < need) wait = Math.max(wait, Math.ceil(((need - b.tokens) / this.rate) * 1000));
    }
    return wait;
  }

  /** The ms until no key's bucket is in debt: 0 when work may start. */
  check(keys: readonly string[]): number {
    return this.waitFor(keys, 0);
  }

  /** Spends `cost` from every key's bucket, into debt if need be. */
  charge(keys: readonly string[], cost: number): void {
    const t = this.now();
    for (const key of keys) this.refill(key, t).tokens -= cost;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string, t: number): { tokens: number; at: number } {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    return b;
  }

  private sweep(t: number): void {
    if (t < this.sweepAt) return;
    const fullAfterMs = (this.burst / this.rate) * 1000;
    this.sweepAt = t + Math.max(1000, fullAfterMs);
    // A bucket in debt is not full after `fullAfterMs`; `refill` tells.
    for (const [k, b] of this.buckets) if (t - b.at >= fullAfterMs && this.refill(k, t).tokens >= this.burst) this.buckets.delete(k);
  }
}

/**
 * Takes one token from each of several limiters (different rates for one
 * request, e.g. a send's connection, address and room budgets), from all or
 * from none. Returns 0 when allowed, else the longest wait.
 */
export function takeFromAll(parts: ReadonlyArray<readonly [RateLimiter, readonly string[]]>): number {
  let wait = 0;
  for (const [limiter, keys] of parts) wait = Math.max(wait, limiter.waitFor(keys, 1));
  if (wait === 0) for (const [limiter, keys] of parts) limiter.charge(keys, 1);
  return wait;
}
