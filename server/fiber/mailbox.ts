import { WaitQueue } from './wait-queue.ts';

/**
 * What a full mailbox does with one more item:
 * - `reject`: `offer` returns false; the producer answers its client
 *   "unavailable, retry later" (back-pressure for messages over a network);
 * - `drop-oldest`: the oldest item is evicted (ephemeral signals);
 * `put` always waits for room instead (back-pressure for in-process producers).
 */
export type OverflowPolicy = 'reject' | 'drop-oldest';

export interface MailboxOptions<T> {
  capacity: number;
  policy?: OverflowPolicy;
  /**
   * Items with the same key replace each other in place instead of queueing
   * twice (typing signals: only the latest per user matters).
   */
  coalesceKey?: (item: T) => string | undefined;
  /** Called with every item the policy drops, for metrics. */
  onDrop?: (item: T) => void;
}

export class MailboxClosed extends Error {
  override readonly name = 'MailboxClosed';
  constructor() {
    super('mailbox closed');
  }
}

/**
 * A bounded FIFO between producers and one consuming fiber. Never grows past
 * `capacity`; every overflow follows the declared policy.
 */
export class Mailbox<T> {
  readonly capacity: number;
  private readonly policy: OverflowPolicy;
  private readonly coalesceKey: ((item: T) => string | undefined) | undefined;
  private readonly onDrop: ((item: T) => void) | undefined;
  private items: T[] = [];
  private head = 0;
  private readonly keyed = new Map<string, number>(); // coalesce key → absolute index
  private base = 0; // absolute index of items[0]
  private readonly takers = new WaitQueue<T>();
  private readonly putters = new WaitQueue<void>();
  private isClosed = false;

  constructor(opts: MailboxOptions<T>) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = opts.capacity;
    this.policy = opts.policy ?? 'reject';
    this.coalesceKey = opts.coalesceKey;
    this.onDrop = opts.onDrop;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Enqueues without waiting. False when refused (closed, or full under `reject`). */
  offer(item: T): boolean {
    if (this.isClosed) return false;
    if (this.takers.wakeOne(item)) return true; // a consumer was parked: hand over directly
    const key = this.coalesceKey?.(item);
    if (key !== undefined) {
      const at = this.keyed.get(key);
      if (at !== undefined) {
        const idx = at - this.base;
        const old = this.items[idx] as T;
        this.items[idx] = item;
        this.onDrop?.(old);
        return true;
      }
    }
    if (this.size >= this.capacity) {
      if (this.policy === 'reject') return false;
      const dropped = this.shiftItem();
      if (dropped !== undefined) this.onDrop?.(dropped.item);
    }
    this.pushItem(item, key);
    return true;
  }

  /** Enqueues, waiting while the mailbox is full. Rejects when closed or cancelled. */
  async put(item: T, signal?: AbortSignal): Promise<void> {
    while (!this.isClosed && this.takers.size === 0 && this.size >= this.capacity) {
      await this.putters.wait(signal);
    }
    if (this.isClosed) throw new MailboxClosed();
    this.offer(item);
  }

  /**
   * Resolves with the next item, waiting for one. Rejects with MailboxClosed
   * once closed and empty, or Cancelled when `signal` aborts.
   */
  take(signal?: AbortSignal): Promise<T> {
    const next = this.shiftItem();
    if (next !== undefined) {
      this.putters.wakeOne();
      return Promise.resolve(next.item);
    }
    if (this.isClosed) return Promise.reject(new MailboxClosed());
    return this.takers.wait(signal);
  }

  /** Takes everything queued right now, up to `max`, without waiting. */
  drain(max = Infinity): T[] {
    const out: T[] = [];
    while (out.length < max) {
      const next = this.shiftItem();
      if (next === undefined) break;
      out.push(next.item);
    }
    for (let i = 0; i < out.length && this.putters.wakeOne(); i++);
    return out;
  }

  /**
   * Refuses new items. Queued items stay drainable; parked consumers and
   * producers are woken with MailboxClosed.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.takers.failAll(new MailboxClosed());
    this.putters.failAll(new MailboxClosed());
  }

  private pushItem(item: T, key: string | undefined): void {
    if (key !== undefined) this.keyed.set(key, this.base + this.items.length);
    this.items.push(item);
  }

  private shiftItem(): { item: T } | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T; // release the reference
    if (this.coalesceKey) {
      const key = this.coalesceKey(item);
      if (key !== undefined && this.keyed.get(key) === this.base + this.head) this.keyed.delete(key);
    }
    this.head++;
    // Compact once the consumed prefix dominates, keeping shifts O(1) amortised.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.base += this.head;
      this.head = 0;
    } else if (this.head === this.items.length) {
      this.base += this.head;
      this.items.length = 0;
      this.head = 0;
    }
    return { item };
  }
}
