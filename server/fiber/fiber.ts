import { setMaxListeners } from 'node:events';
import { Cancelled, cancelledBy, isCancelled } from './wait-queue.ts';

/**
 * Structured concurrency for one event loop.
 *
 * A Fiber is a cooperative task with a scope: it owns the fibers it spawns,
 * cancelling it cancels them first, and it is not done until they are. Every
 * blocking primitive (Mailbox.take, Condition.wait, Mutex.lock, sleep, guard)
 * takes the fiber's `signal`, so a cancel interrupts whatever the fiber awaits
 * and its `finally` blocks and `defer`red cleanups run, awaited, before
 * `cancel()` resolves. A failure inside a fiber reaches its parent: the parent
 * either handles it (`onChildError`, a supervisor) or fails with it in turn,
 * up to the root, whose handler is mandatory.
 */

export type Outcome<T> =
  | { status: 'ok'; value: T }
  | { status: 'error'; error: unknown }
  | { status: 'cancelled' };

export type FiberState = 'running' | 'cancelling' | 'done';

export interface SpawnOptions {
  /**
   * Decides what a child's failure means. Return normally to contain it (the
   * parent keeps running: a supervisor); throw to fail the parent. Without a
   * handler, the child's error fails the parent.
   */
  onChildError?: (error: unknown, child: Fiber<unknown>) => void;
}

export class Fiber<T = void> {
  readonly name: string;
  readonly parent: Fiber<unknown> | undefined;
  readonly done: Promise<Outcome<T>>;
  private readonly controller = new AbortController();
  private readonly children = new Set<Fiber<unknown>>();
  private readonly cleanups: Array<() => unknown> = [];
  private readonly onChildError: SpawnOptions['onChildError'];
  private failure: { error: unknown } | undefined;
  private current: FiberState = 'running';

  private constructor(
    name: string,
    parent: Fiber<unknown> | undefined,
    body: (fiber: Fiber<T>) => Promise<T>,
    opts: SpawnOptions,
  ) {
    this.name = name;
    this.parent = parent;
    this.onChildError = opts.onChildError;
    // Each parked wait adds one abort listener, removed when it ends; a fiber
    // may have many parked at once, so Node's leak warning at 11 does not
    // apply. The fiber tests check that none are left behind.
    setMaxListeners(0, this.controller.signal);
    // Cancellation reaches children through the parent's child set, not
    // through abort listeners on the parent's signal: an EventTarget scans its
    // listener list on every add and remove, which made spawning the n-th
    // child of a supervisor cost O(n).
    parent?.children.add(this as Fiber<unknown>);
    this.done = this.run(body);
  }

  /**
   * Starts a root fiber. `onError` receives any failure that reaches the root;
   * a root has no parent to hand it to, so the handler is required.
   */
  static root(name: string, onError: (error: unknown, child: Fiber<unknown>) => void): Fiber<void> {
    return new Fiber<void>(name, undefined, (self) => self.untilCancelled(), { onChildError: onError });
  }

  /** Aborts when this fiber is cancelled; pass it to every await. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get state(): FiberState {
    return this.current;
  }

  get childCount(): number {
    return this.children.size;
  }

  spawn<U>(name: string, body: (fiber: Fiber<U>) => Promise<U>, opts: SpawnOptions = {}): Fiber<U> {
    if (this.current !== 'running') throw new Cancelled(`cannot spawn "${name}" in ${this.current} fiber "${this.name}"`);
    return new Fiber<U>(name, this as Fiber<unknown>, body, opts);
  }

  /** Registers a cleanup to run (LIFO, awaited) when this fiber ends, however it ends. */
  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /** Cancels this fiber and its children; resolves once all their cleanups have run. */
  async cancel(reason?: unknown): Promise<Outcome<T>> {
    this.abort(reason);
    return this.done;
  }

  /** The body's result; rejects with its error, or Cancelled. */
  async join(): Promise<T> {
    const o = await this.done;
    if (o.status === 'ok') return o.value;
    throw o.status === 'error' ? o.error : new Cancelled(this.name);
  }

  /** Awaits a foreign promise, but gives up with Cancelled when this fiber is cancelled. */
  guard<U>(promise: Promise<U>): Promise<U> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(cancelledBy(signal));
    return new Promise<U>((resolve, reject) => {
      const onAbort = () => reject(cancelledBy(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /** Parks until this fiber is cancelled (the body of long-lived scopes). */
  untilCancelled(): Promise<never> {
    return this.guard(new Promise<never>(() => {}));
  }

  private abort(reason: unknown): void {
    if (this.current !== 'running') return;
    this.current = 'cancelling';
    this.controller.abort(new Cancelled(reason));
    const cause = this.controller.signal.reason as unknown;
    for (const child of this.children) child.abort(cause);
  }

  private async run(body: (fiber: Fiber<T>) => Promise<T>): Promise<Outcome<T>> {
    await null; // start on a later microtask: spawn returns before the body runs
    let outcome: Outcome<T>;
    try {
      if (this.signal.aborted) throw cancelledBy(this.signal);
      outcome = { status: 'ok', value: await body(this) };
    } catch (error) {
      outcome = isCancelled(error) && this.signal.aborted ? { status: 'cancelled' } : { status: 'error', error };
    }
    // Children never outlive their parent.
    if (this.children.size > 0) {
      this.abort('parent finished');
      await Promise.all([...this.children].map((c) => c.done));
    }
    for (let fn = this.cleanups.pop(); fn; fn = this.cleanups.pop()) {
      try {
        await fn();
      } catch (error) {
        if (outcome.status !== 'error') outcome = { status: 'error', error };
      }
    }
    // A child's unhandled failure is this fiber's failure.
    if (this.failure && outcome.status !== 'error') outcome = { status: 'error', error: this.failure.error };
    this.current = 'done';
    if (this.parent) {
      this.parent.children.delete(this as Fiber<unknown>);
      if (outcome.status === 'error') this.parent.childFailed(outcome.error, this as Fiber<unknown>);
    }
    return outcome;
  }

  private childFailed(error: unknown, child: Fiber<unknown>): void {
    if (this.onChildError) {
      try {
        this.onChildError(error, child);
        return;
      } catch (rethrown) {
        error = rethrown;
      }
    }
    this.failure ??= { error };
    this.abort(error);
  }
}

/** Resolves after `ms`, or rejects with Cancelled when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelledBy(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledBy(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
