/**
 * Ajax clients seen polling lately. An Ajax client holds no connection to
 * count: it is "connected" while it keeps polling, the same lease after which
 * a room stops listing it as present. Keyed by identity; bounded by `max`
 * (the oldest poller is forgotten first), and swept from the oldest end, so
 * a count costs only the entries that expired.
 */
export class RecentPollers {
  /** key → time of its latest poll; Map order is oldest poll first (a poll moves its key to the end). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly leaseMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  polled(key: string): void {
    this.seen.delete(key);
    this.seen.set(key, this.now());
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string);
  }

  /** Pollers whose latest poll is within the lease. */
  count(): number {
    const cutoff = this.now() - this.leaseMs;
    for (const [key, at] of this.seen) {
      if (at > cutoff) break;
      this.seen.delete(key);
    }
    return this.seen.size;
  }
}
