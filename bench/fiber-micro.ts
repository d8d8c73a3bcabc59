/**
 * Micro-benchmark: our fiber module (server/fiber) against effection doing the
 * same three things, the evidence behind "keep our own module" in
 * docs/ARCHITECTURE.md:
 *
 * - ping-pong: two tasks bounce a number through two queues (Mailbox take/offer
 *   vs effection's createQueue add/next), round trips per second;
 * - spawn+join: a scope spawns N children that return at once, then joins each;
 *   children per second;
 * - cancel cascade: a tree of 1 + 100 + 1,000 parked tasks is built, then the
 *   root is cancelled and every cleanup awaited; tasks per second (build and
 *   cancel), and the cancel alone.
 *
 * Each case runs once to warm up, then `REPEATS` times; the median counts.
 * Prints one JSON object on stdout. `--quick` shrinks the sizes.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createQueue, run, spawn, suspend, type Operation, type Task } from 'effection';
import { Fiber, Mailbox } from '../server/fiber/index.ts';
import { quantile } from './lib/stats.ts';

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 1 : 3;
const PINGS = quick ? 10_000 : 50_000;
const SPAWNS = quick ? 5_000 : 20_000;
const WIDTH = 100;
const DEPTH2 = 10;

const tick = () => new Promise<void>((r) => setImmediate(r));

async function measure(fn: () => Promise<number>): Promise<number> {
  await fn(); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < REPEATS; i++) rates.push(await fn());
  return quantile(rates, 0.5);
}

/** Runs `body` and returns ops/s for `ops` operations. */
async function timed(ops: number, body: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await body();
  return ops / ((performance.now() - t0) / 1000);
}

// --- ours -------------------------------------------------------------------

const fail = (e: unknown) => {
  throw e;
};

async function oursPingPong(): Promise<number> {
  const root = Fiber.root('bench', fail);
  const ping = new Mailbox<number>({ capacity: 16 });
  const pong = new Mailbox<number>({ capacity: 16 });
  root.spawn('echo', async (f) => {
    for (;;) pong.offer(await ping.take(f.signal));
  });
  const rate = await timed(PINGS, async () => {
    for (let i = 0; i < PINGS; i++) {
      ping.offer(i);
      await pong.take(root.signal);
    }
  });
  await root.cancel();
  return rate;
}

async function oursSpawnJoin(): Promise<number> {
  const root = Fiber.root('bench', fail);
  const rate = await timed(SPAWNS, async () => {
    const fibers: Array<Fiber<number>> = [];
    for (let i = 0; i < SPAWNS; i++) fibers.push(root.spawn('child', async () => i));
    for (const f of fibers) await f.join();
  });
  await root.cancel();
  return rate;
}

async function oursCancel(): Promise<{ total: number; cancelOnly: number }> {
  const root = Fiber.root('bench', fail);
  const n = 1 + WIDTH + WIDTH * DEPTH2;
  const t0 = performance.now();
  const top = root.spawn('top', async (f) => {
    for (let c = 0; c < WIDTH; c++) {
      f.spawn('child', async (cf) => {
        for (let g = 0; g < DEPTH2; g++) cf.spawn('grandchild', (gf) => gf.untilCancelled());
        return cf.untilCancelled();
      });
    }
    return f.untilCancelled();
  });
  await tick(); // every task is parked now
  const t1 = performance.now();
  await top.cancel();
  const t2 = performance.now();
  await root.cancel();
  return { total: n / ((t2 - t0) / 1000), cancelOnly: n / ((t2 - t1) / 1000) };
}

// --- effection ----------------------------------------------------------------

async function effPingPong(): Promise<number> {
  return run(function* (): Operation<number> {
    const ping = createQueue<number, never>();
    const pong = createQueue<number, never>();
    yield* spawn(function* () {
      for (;;) {
        const r = yield* ping.next();
        if (!r.done) pong.add(r.value);
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < PINGS; i++) {
      ping.add(i);
      yield* pong.next();
    }
    return PINGS / ((performance.now() - t0) / 1000);
  });
}

async function effSpawnJoin(): Promise<number> {
  return run(function* (): Operation<number> {
    const t0 = performance.now();
    const tasks: Array<Task<number>> = [];
    for (let i = 0; i < SPAWNS; i++) {
      tasks.push(
        // eslint-disable-next-line require-yield -- a child that returns at once, like `async () => i` on our side
        yield* spawn(function* () {
          return i;
        }),
      );
    }
    for (const t of tasks) yield* t;
    return SPAWNS / ((performance.now() - t0) / 1000);
  });
}

async function effCancel(): Promise<{ total: number; cancelOnly: number }> {
  const n = 1 + WIDTH + WIDTH * DEPTH2;
  const t0 = performance.now();
  const top = run(function* () {
    for (let c = 0; c < WIDTH; c++) {
      yield* spawn(function* () {
        for (let g = 0; g < DEPTH2; g++) yield* spawn(() => suspend());
        yield* suspend();
      });
    }
    yield* suspend();
  });
  await tick(); // every task is parked now
  const t1 = performance.now();
  await top.halt();
  const t2 = performance.now();
  return { total: n / ((t2 - t0) / 1000), cancelOnly: n / ((t2 - t1) / 1000) };
}

async function medianOf(fn: () => Promise<{ total: number; cancelOnly: number }>) {
  await fn();
  const xs: Array<{ total: number; cancelOnly: number }> = [];
  for (let i = 0; i < REPEATS; i++) xs.push(await fn());
  return { total: quantile(xs.map((x) => x.total), 0.5), cancelOnly: quantile(xs.map((x) => x.cancelOnly), 0.5) };
}

async function main(): Promise<void> {
  const ours = {
    pingPongPerSec: await measure(oursPingPong),
    spawnJoinPerSec: await measure(oursSpawnJoin),
    cancel: await medianOf(oursCancel),
  };
  const eff = {
    pingPongPerSec: await measure(effPingPong),
    spawnJoinPerSec: await measure(effSpawnJoin),
    cancel: await medianOf(effCancel),
  };
  const version = (JSON.parse(readFileSync('node_modules/effection/package.json', 'utf8')) as { version: string }).version;
  process.stdout.write(
    JSON.stringify({
      effectionVersion: version,
      sizes: { pings: PINGS, spawns: SPAWNS, cancelTree: 1 + WIDTH + WIDTH * DEPTH2, repeats: REPEATS },
      ours,
      effection: eff,
      ratio: {
        pingPong: ours.pingPongPerSec / eff.pingPongPerSec,
        spawnJoin: ours.spawnJoinPerSec / eff.spawnJoinPerSec,
        cancelTotal: ours.cancel.total / eff.cancel.total,
        cancelOnly: ours.cancel.cancelOnly / eff.cancel.cancelOnly,
      },
    }) + '\n',
  );
  process.exit(0);
}

void main();
