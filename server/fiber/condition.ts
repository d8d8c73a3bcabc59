import { WaitQueue } from './wait-queue.ts';

/**
 * A condition variable for cooperative fibers: `wait` parks until `notify`,
 * and is cancellable through the caller's signal. Because JavaScript runs one
 * fiber at a time, checking a predicate and calling `wait` is already atomic;
 * `waitUntil` packages the usual re-check loop.
 */
export class Condition {
  private readonly queue = new WaitQueue<void>();

  get waiting(): number {
    return this.queue.size;
  }

  wait(signal?: AbortSignal): Promise<void> {
    return this.queue.wait(signal);
  }

  /** Resolves once `predicate()` holds, re-checking after every notify. */
  async waitUntil(predicate: () => boolean, signal?: AbortSignal): Promise<void> {
    while (!predicate()) await this.queue.wait(signal);
  }

  notify(): void {
    this.queue.wakeOne();
  }

  notifyAll(): void {
    this.queue.wakeAll();
  }
}
