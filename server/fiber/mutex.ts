import { WaitQueue, cancelledBy } from './wait-queue.ts';

/**
 * A FIFO mutex for async critical sections that span awaits. The lock is
 * handed directly to the next waiter on release, so no newcomer can barge in
 * between. A waiter cancelled while queued leaves without taking the lock.
 */
export class Mutex {
  private held = false;
  private readonly queue = new WaitQueue<void>();

  get locked(): boolean {
    return this.held;
  }

  /** Acquires the lock; call the returned function exactly once to release. */
  async lock(signal?: AbortSignal): Promise<() => void> {
    if (!this.held) {
      if (signal?.aborted) throw cancelledBy(signal);
      this.held = true;
    } else {
      await this.queue.wait(signal);
      // Ownership was handed over by the releaser; `held` stayed true.
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (!this.queue.wakeOne()) this.held = false;
    };
  }

  async withLock<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const release = await this.lock(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
