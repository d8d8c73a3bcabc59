/**
 * Bounds the password hashes in progress. Each scrypt hash holds a thread of
 * libuv's pool (4 by default, shared with file reads) and 32 MiB for about
 * 0.15 s: without a bound, a burst of sign-ins would hold every thread (the
 * static files would wait) and grow memory by 32 MiB per request.
 *
 * At most `running` hashes at once (2: leaves half the pool to file reads);
 * at most `queued` more wait their turn, in order; past that a sign-in is
 * answered `unavailable` at once, which costs nothing.
 */
/** Hashes at once: half of libuv's default pool of 4, so file reads always have threads. */
export const HASHES_RUNNING = 2;
/** Hashes waiting at most: about 2.5 s of work at 0.15 s each, two at a time. */
export const HASHES_QUEUED = 32;

export class HashGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly running = HASHES_RUNNING,
    private readonly queued = HASHES_QUEUED,
  ) {}

  /** Runs `work` when a slot is free; undefined (and `work` not run) when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.active >= this.running) {
      if (this.waiting.length >= this.queued) return undefined;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return { value: await work() };
    } finally {
      // The slot passes straight to the next waiter, so `active` counts it without a gap another caller could take.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Hashes running and waiting (metrics, tests). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
