/**
 * Group commit: jobs submitted in the same event-loop turn are run together,
 * in one transaction, by one later callback. Each room fiber's commit is a
 * job; many quiet rooms then cost one transaction (one WAL append, one
 * commit record) instead of one each, as one busy room's turn already does.
 *
 * The flush is scheduled with `setImmediate`, not a microtask: room fibers
 * are woken from different socket callbacks of the poll phase, and Node
 * drains microtasks after each callback, so a microtask flush would run
 * before the next socket's room had submitted anything. The check phase
 * runs after the whole poll phase, when every room woken by it has.
 *
 * A poll phase can be long on a loaded server (libuv serves up to tens of
 * thousands of events in one), and a commit waiting for its end delays that
 * room's ack and broadcast by as long. So a group also closes early: a
 * submission that finds the oldest waiting job older than `maxWaitMs` runs
 * the group at once, itself included.
 *
 * Storage-free: `run` does the transaction, so the grouping, the bound on a
 * group and the way outcomes reach each caller are tested without SQLite.
 */

/** One job's outcome inside a group that committed. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<J, R> {
  /**
   * Runs a group's jobs in one transaction and answers each job's outcome
   * in order: a job whose own part failed (and was rolled back alone) gets
   * `ok: false`. Throws when the transaction as a whole did not commit; then
   * every job of the group fails with that error.
   */
  run(jobs: readonly J[]): Array<Outcome<R>>;
  /** A job's share of a group's bound (e.g. the entries it writes). */
  weight(job: J): number;
  /**
   * A group holds jobs up to this total weight (but always at least one
   * job), so one flush cannot hold the event loop for long; the rest waits
   * for the next turn's flush.
   */
  maxWeight: number;
  /**
   * A job submitted when the oldest waiting one has waited this long (ms)
   * does not wait for the scheduled flush: the group runs at once.
   */
  maxWaitMs: number;
  /** Schedules the flush; `setImmediate` unless a test says otherwise. */
  schedule?: (flush: () => void) => void;
  /** A monotonic clock in ms; `performance.now` unless a test says otherwise. */
  now?: () => number;
  /** Told of every group run, committed or not: how many jobs, their total weight, and how long its oldest job waited (ms). */
  onGroup?: (jobs: number, weight: number, waitedMs: number) => void;
}

interface Waiting<J, R> {
  job: J;
  at: number;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Queues jobs and runs them in groups. Jobs run in the order they were
 * submitted, so a caller that awaits each job before submitting its next
 * (a room fiber does) sees its jobs committed in order. A job's promise
 * settles only after its group's transaction ended: a resolved job is
 * durable.
 */
export class GroupCommitter<J, R> {
  private queue: Array<Waiting<J, R>> = [];
  private scheduled = false;
  private readonly schedule: (flush: () => void) => void;
  private readonly now: () => number;

  constructor(private readonly opts: GroupCommitOptions<J, R>) {
    this.schedule = opts.schedule ?? ((flush) => void setImmediate(flush));
    this.now = opts.now ?? (() => performance.now());
  }

  /** Queues a job for the next group; settles with its outcome once that group ended. */
  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const at = this.now();
      this.queue.push({ job, at, resolve, reject });
      const oldest = this.queue[0] as Waiting<J, R>;
      if (at - oldest.at >= this.opts.maxWaitMs) this.flushOne();
      this.wake();
    });
  }

  /** Jobs waiting for a group. */
  get pending(): number {
    return this.queue.length;
  }

  /** Runs every waiting job now, group after group (closing the store must not strand a commit). */
  flushAll(): void {
    while (this.queue.length > 0) this.flushOne();
  }

  private wake(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.flushOne();
      // What did not fit waits for the next turn, after the loop has served others.
      this.wake();
    });
  }

  /** Takes the oldest jobs up to the bound and runs them as one group. */
  private flushOne(): void {
    let weight = 0;
    let n = 0;
    while (n < this.queue.length) {
      const w = this.opts.weight((this.queue[n] as Waiting<J, R>).job);
      if (n > 0 && weight + w > this.opts.maxWeight) break;
      weight += w;
      n++;
    }
    if (n === 0) return;
    const group = this.queue.splice(0, n);
    this.opts.onGroup?.(group.length, weight, this.now() - (group[0] as Waiting<J, R>).at);
    let outcomes: Array<Outcome<R>>;
    try {
      outcomes = this.opts.run(group.map((g) => g.job));
    } catch (err) {
      for (const g of group) g.reject(err);
      return;
    }
    group.forEach((g, i) => {
      const o = outcomes[i];
      if (o === undefined) g.reject(new Error('group commit: no outcome for a job'));
      else if (o.ok) g.resolve(o.value);
      else g.reject(o.error);
    });
  }
}
