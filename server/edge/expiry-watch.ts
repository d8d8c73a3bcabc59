/**
 * Ends connections when their session token expires, at the moment it does,
 * even if they never send another request (a listen-only client would
 * otherwise keep its subscription for as long as the connection lives).
 *
 * One timer for all connections, armed for the earliest expiry; entries live
 * in a binary min-heap ordered by expiry. A connection that closes first is
 * not searched for: `forget` counts it, its entry is dropped when it reaches
 * the top, and once half the heap is such entries the heap is rebuilt from
 * the live ones, so reconnect churn cannot grow it without bound.
 * Node's timers hold at most 2^31-1 ms (24.8 days), so a far expiry re-arms
 * the timer on the way.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ExpiryWatch<T> {
  private heap: Array<{ at: number; item: T }> = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Entries whose item has gone (`forget`) but are still in the heap. */
  private dead = 0;

  constructor(
    /** Called once per item whose time came, if it is still alive. */
    private readonly expire: (item: T) => void,
    private readonly alive: (item: T) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  add(item: T, at: number): void {
    this.heap.push({ at, item });
    this.up(this.heap.length - 1);
    this.arm();
  }

  /** An item went before its expiry (a connection closed). */
  forget(): void {
    this.dead++;
    if (this.dead * 2 < this.heap.length || this.heap.length < 64) return;
    const live = this.heap.filter((e) => this.alive(e.item));
    this.heap = [];
    this.dead = 0;
    for (const e of live) {
      this.heap.push(e);
      this.up(this.heap.length - 1);
    }
    this.arm();
  }

  /** Expires what is due now (the timer calls this; tests with a moved clock may too). */
  run(): void {
    const t = this.now();
    for (let top = this.heap[0]; top !== undefined && (top.at <= t || !this.alive(top.item)); top = this.heap[0]) {
      this.pop();
      if (!this.alive(top.item)) this.dead = Math.max(0, this.dead - 1);
      else if (top.at <= t) this.expire(top.item);
    }
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    const at = this.heap[0]?.at ?? Infinity;
    if (at === this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.run();
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())));
    this.timer.unref();
  }

  private pop(): void {
    const last = this.heap.pop();
    if (last === undefined || this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as { at: number }).at <= (h[i] as { at: number }).at) return;
      [h[p], h[i]] = [h[i] as (typeof h)[number], h[p] as (typeof h)[number]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l] as { at: number }).at < (h[m] as { at: number }).at) m = l;
      if (r < h.length && (h[r] as { at: number }).at < (h[m] as { at: number }).at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i] as (typeof h)[number], h[m] as (typeof h)[number]];
      i = m;
    }
  }
}
