/**
 * The one waiting primitive the fiber vocabulary is built on: a FIFO of
 * parked promises, each optionally tied to an AbortSignal. A waiter whose
 * signal aborts leaves the queue at once and rejects with `Cancelled`, so no
 * wake-up is ever handed to a waiter that is no longer there.
 */

/** Thrown into a fiber's awaits when its scope is cancelled. */
export class Cancelled extends Error {
  override readonly name = 'Cancelled';
  constructor(readonly reason?: unknown) {
    super(typeof reason === 'string' ? `cancelled: ${reason}` : 'cancelled');
  }
}

export function isCancelled(err: unknown): err is Cancelled {
  return err instanceof Cancelled;
}

export function cancelledBy(signal: AbortSignal): Cancelled {
  return signal.reason instanceof Cancelled ? signal.reason : new Cancelled(signal.reason);
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class WaitQueue<T = void> {
  // A Set keeps insertion order (FIFO) and removes a cancelled waiter in O(1).
  private readonly waiters = new Set<Waiter<T>>();

  get size(): number {
    return this.waiters.size;
  }

  wait(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelledBy(signal));
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          this.waiters.delete(w);
          reject(cancelledBy(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.add(w);
    });
  }

  /** Wakes the oldest waiter with `value`; false when nobody waits. */
  wakeOne(value: T): boolean {
    const w = this.shift();
    if (!w) return false;
    w.resolve(value);
    return true;
  }

  wakeAll(value: T): number {
    let n = 0;
    while (this.wakeOne(value)) n++;
    return n;
  }

  failAll(err: unknown): void {
    for (let w = this.shift(); w; w = this.shift()) w.reject(err);
  }

  private shift(): Waiter<T> | undefined {
    const first = this.waiters.values().next();
    if (first.done) return undefined;
    const w = first.value;
    this.waiters.delete(w);
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    return w;
  }
}
