import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Cancelled, Condition, Fiber, Mailbox, MailboxClosed, Mutex, sleep } from './index.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

function root(errors: unknown[] = []) {
  return Fiber.root('test', (e) => errors.push(e));
}

describe('Fiber', () => {
  it('returns the body result', async () => {
    const r = root();
    const f = r.spawn('answer', async () => 42);
    expect(await f.join()).toBe(42);
    expect(f.state).toBe('done');
    await r.cancel();
  });

  it('does not start the body before spawn returns', async () => {
    const r = root();
    const order: string[] = [];
    const f = r.spawn('f', async () => {
      order.push('body');
    });
    order.push('spawned');
    await f.join();
    expect(order).toEqual(['spawned', 'body']);
    await r.cancel();
  });

  it('cancel interrupts a condition wait and runs finally and deferred cleanups, awaited', async () => {
    const r = root();
    const cond = new Condition();
    const log: string[] = [];
    const f = r.spawn('waiter', async (self) => {
      self.defer(async () => {
        await sleep(5);
        log.push('deferred');
      });
      try {
        await cond.wait(self.signal);
        log.push('woke');
      } finally {
        await sleep(5); // an await inside cleanup cannot skip the rest of it
        log.push('finally');
      }
    });
    await tick();
    expect(cond.waiting).toBe(1);
    const outcome = await f.cancel('stop');
    expect(outcome.status).toBe('cancelled');
    expect(log).toEqual(['finally', 'deferred']);
    expect(cond.waiting).toBe(0); // the cancelled waiter left the queue
    cond.notify(); // and a later notify finds nobody: no stale wake-up
    await r.cancel();
  });

  it('cancel cascades from parent to grandchildren, children finishing first', async () => {
    const r = root();
    const order: string[] = [];
    const parent = r.spawn('parent', async (p) => {
      p.spawn('child', async (c) => {
        c.spawn('grandchild', async (g) => {
          try {
            await g.untilCancelled();
          } finally {
            order.push('grandchild');
          }
        });
        try {
          await c.untilCancelled();
        } finally {
          order.push('child');
        }
      });
      try {
        await p.untilCancelled();
      } finally {
        order.push('parent-body');
      }
    });
    parent.defer(() => order.push('parent-deferred'));
    await tick();
    await parent.cancel();
    expect(order.indexOf('grandchild')).toBeLessThan(order.indexOf('parent-deferred'));
    expect(order.indexOf('child')).toBeLessThan(order.indexOf('parent-deferred'));
    expect(order).toContain('parent-body');
    expect(parent.childCount).toBe(0);
    await r.cancel();
  });

  it('children do not outlive a parent whose body returns', async () => {
    const r = root();
    let childCleaned = false;
    const parent = r.spawn('parent', async (p) => {
      p.spawn('background', async (c) => {
        c.defer(() => {
          childCleaned = true;
        });
        await c.untilCancelled();
      });
      return 'done';
    });
    expect(await parent.join()).toBe('done');
    expect(childCleaned).toBe(true);
    await r.cancel();
  });

  it('an exception in a child reaches its parent, which fails with it and cancels its other children', async () => {
    const errors: unknown[] = [];
    const r = root(errors);
    let siblingCancelled = false;
    const parent = r.spawn('parent', async (p) => {
      p.spawn('sibling', async (s) => {
        try {
          await s.untilCancelled();
        } catch (e) {
          siblingCancelled = e instanceof Cancelled;
          throw e;
        }
      });
      p.spawn('boom', async () => {
        throw new Error('boom');
      });
      await p.untilCancelled();
    });
    const outcome = await parent.done;
    expect(outcome.status).toBe('error');
    expect((outcome as { error: Error }).error.message).toBe('boom');
    expect(siblingCancelled).toBe(true);
    // ...and on up to the root's handler, not into the void.
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
    await r.cancel();
  });

  it('a supervisor contains a child failure and keeps running', async () => {
    const r = root();
    const seen: string[] = [];
    const sup = r.spawn(
      'supervisor',
      async (s) => {
        s.spawn('crashy', async () => {
          throw new Error('crash');
        });
        await sleep(10, s.signal);
        return 'alive';
      },
      { onChildError: (e, child) => seen.push(`${child.name}: ${(e as Error).message}`) },
    );
    expect(await sup.join()).toBe('alive');
    expect(seen).toEqual(['crashy: crash']);
    await r.cancel();
  });

  it('a failing cleanup turns success into an error', async () => {
    const r = root();
    const f = r.spawn('f', async (self) => {
      self.defer(() => {
        throw new Error('cleanup failed');
      });
      return 1;
    });
    expect((await f.done).status).toBe('error');
    await r.cancel();
  });

  it('refuses to spawn into a cancelled fiber', async () => {
    const r = root();
    await r.cancel();
    expect(() => r.spawn('late', async () => {})).toThrow(Cancelled);
  });

  it('guard rejects a foreign promise with Cancelled on cancel', async () => {
    const r = root();
    const f = r.spawn('f', (self) => self.guard(new Promise<void>(() => {})));
    await tick();
    expect((await f.cancel()).status).toBe('cancelled');
    await r.cancel();
  });

  it('runs thousands of fibers without leaking children or abort listeners', async () => {
    const r = root();
    const parentSignal = r.signal;
    await tick(); // the root's own body is parked on its signal now
    const baseline = getEventListeners(parentSignal, 'abort').length;
    expect(baseline).toBe(1);
    const count = 5000;
    const run = async () => {
      const fibers = Array.from({ length: count }, (_, i) =>
        r.spawn(`f${i}`, async (f) => {
          await sleep(0, f.signal);
          return i;
        }),
      );
      // Cancellation reaches children through the parent's child set: a
      // live child adds no listener to the parent's signal (an EventTarget
      // scans its listeners on every add, so that would make spawn O(n)).
      expect(r.childCount).toBe(count);
      expect(getEventListeners(parentSignal, 'abort')).toHaveLength(baseline);
      const results = await Promise.all(fibers.map((f) => f.join()));
      expect(results[count - 1]).toBe(count - 1);
    };
    await run();
    expect(r.childCount).toBe(0);
    expect(getEventListeners(parentSignal, 'abort')).toHaveLength(baseline);
    await run();
    expect(r.childCount).toBe(0);
    expect(getEventListeners(parentSignal, 'abort')).toHaveLength(baseline);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 5; i++) await run();
      gc();
      const after = process.memoryUsage().heapUsed;
      // Five more rounds of 5,000 fibers leave the heap where it was (±4 MiB).
      expect(after - before).toBeLessThan(4 * 1024 * 1024);
    }
    expect(parentSignal.aborted).toBe(false);
    await r.cancel();
  });
});

describe('Mailbox', () => {
  it('is FIFO and hands items straight to a parked consumer', async () => {
    const mb = new Mailbox<number>({ capacity: 4 });
    const taken = mb.take();
    expect(mb.offer(1)).toBe(true);
    expect(await taken).toBe(1);
    mb.offer(2);
    mb.offer(3);
    expect(mb.drain()).toEqual([2, 3]);
  });

  it('reject policy refuses past capacity and never grows', () => {
    const mb = new Mailbox<number>({ capacity: 2, policy: 'reject' });
    expect([mb.offer(1), mb.offer(2), mb.offer(3)]).toEqual([true, true, false]);
    expect(mb.size).toBe(2);
  });

  it('drop-oldest evicts the oldest and reports it', () => {
    const dropped: number[] = [];
    const mb = new Mailbox<number>({ capacity: 2, policy: 'drop-oldest', onDrop: (n) => dropped.push(n) });
    [1, 2, 3, 4].forEach((n) => mb.offer(n));
    expect(mb.drain()).toEqual([3, 4]);
    expect(dropped).toEqual([1, 2]);
  });

  it('coalesces items with the same key in place', () => {
    type T = { user: string; v: number };
    const mb = new Mailbox<T>({ capacity: 10, coalesceKey: (t) => t.user });
    mb.offer({ user: 'a', v: 1 });
    mb.offer({ user: 'b', v: 1 });
    mb.offer({ user: 'a', v: 2 });
    expect(mb.drain()).toEqual([
      { user: 'a', v: 2 },
      { user: 'b', v: 1 },
    ]);
    mb.offer({ user: 'a', v: 3 }); // the key was released when drained
    expect(mb.drain()).toEqual([{ user: 'a', v: 3 }]);
  });

  it('put waits for room (back-pressure) and resumes when the consumer takes', async () => {
    const mb = new Mailbox<number>({ capacity: 1 });
    await mb.put(1);
    let second = false;
    const p = mb.put(2).then(() => {
      second = true;
    });
    await tick();
    expect(second).toBe(false);
    expect(await mb.take()).toBe(1);
    await p;
    expect(second).toBe(true);
    expect(mb.drain()).toEqual([2]);
  });

  it('closing while the consumer waits rejects it with MailboxClosed; queued items stay drainable', async () => {
    const mb = new Mailbox<number>({ capacity: 4 });
    const waiting = mb.take();
    mb.close();
    await expect(waiting).rejects.toBeInstanceOf(MailboxClosed);
    const mb2 = new Mailbox<number>({ capacity: 4 });
    mb2.offer(1);
    mb2.close();
    expect(mb2.offer(2)).toBe(false);
    expect(await mb2.take()).toBe(1);
    await expect(mb2.take()).rejects.toBeInstanceOf(MailboxClosed);
  });

  it('a cancelled consumer leaves the queue; the next item goes to the live one', async () => {
    const mb = new Mailbox<number>({ capacity: 4 });
    const ac = new AbortController();
    const cancelled = mb.take(ac.signal);
    const live = mb.take();
    ac.abort();
    await expect(cancelled).rejects.toBeInstanceOf(Cancelled);
    mb.offer(7);
    expect(await live).toBe(7);
  });

  it('a handler may enqueue into its own mailbox without deadlock', async () => {
    const r = root();
    const mb = new Mailbox<number>({ capacity: 8 });
    const seen: number[] = [];
    const f = r.spawn('consumer', async (self) => {
      for (;;) {
        const n = await mb.take(self.signal);
        seen.push(n);
        if (n < 3) expect(mb.offer(n + 1)).toBe(true);
        else return seen;
      }
    });
    mb.offer(0);
    expect(await f.join()).toEqual([0, 1, 2, 3]);
    await r.cancel();
  });

  it('stays correct across compaction of a long run', () => {
    const mb = new Mailbox<number>({ capacity: 30_000, coalesceKey: (n) => (n % 7 === 0 ? `k${n}` : undefined) });
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3000; i++) mb.offer(next++);
      for (const n of mb.drain(2500)) expect(n).toBe(expected++);
    }
    for (const n of mb.drain()) expect(n).toBe(expected++);
    expect(expected).toBe(next);
  });
});

describe('Mutex', () => {
  it('serialises critical sections in FIFO order across awaits', async () => {
    const m = new Mutex();
    const log: string[] = [];
    const section = (name: string) =>
      m.withLock(async () => {
        log.push(`${name}+`);
        await tick();
        log.push(`${name}-`);
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(m.locked).toBe(false);
  });

  it('a waiter cancelled in the queue never takes the lock', async () => {
    const m = new Mutex();
    const release = await m.lock();
    const ac = new AbortController();
    const cancelled = m.lock(ac.signal);
    const next = m.lock();
    ac.abort();
    await expect(cancelled).rejects.toBeInstanceOf(Cancelled);
    release();
    const releaseNext = await next;
    expect(m.locked).toBe(true);
    releaseNext();
    releaseNext(); // releasing twice is harmless
    expect(m.locked).toBe(false);
  });
});

describe('Condition', () => {
  it('waitUntil re-checks its predicate after each notify', async () => {
    const c = new Condition();
    let ready = false;
    let passed = false;
    const p = c.waitUntil(() => ready).then(() => {
      passed = true;
    });
    c.notifyAll();
    await tick();
    expect(passed).toBe(false);
    ready = true;
    c.notifyAll();
    await p;
    expect(passed).toBe(true);
  });

  it('notify wakes one waiter, notifyAll wakes all', async () => {
    const c = new Condition();
    let woke = 0;
    const waits = [c.wait(), c.wait(), c.wait()].map((p) => p.then(() => woke++));
    c.notify();
    await tick();
    expect(woke).toBe(1);
    c.notifyAll();
    await Promise.all(waits);
    expect(woke).toBe(3);
  });
});

describe('test harness', () => {
  it('exposes gc so the fiber leak check really runs', () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('function');
  });
});
