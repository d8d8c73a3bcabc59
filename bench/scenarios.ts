/**
 * The scenarios, each run against every target that speaks what it needs,
 * with the same generator and the same settings. Each returns plain data for
 * the results file; the report turns it into ratios.
 */
import type { Spec } from './gen/spec.ts';
import { runGenerator } from './lib/generator-run.ts';
import { quantile } from './lib/stats.ts';
import {
  backgroundCpu,
  collectGarbage,
  sample,
  serverCpu,
  startTarget,
  TARGETS,
  TRANSPORTS,
  type ServerSample,
  type Target,
  type TargetName,
} from './lib/targets.ts';

export interface Plan {
  quick: boolean;
  fanout: { sizes: number[]; rounds: number; warmupMs: number; measureMs: number };
  latency: { subscribers: number; warmupMs: number; measureMs: number };
  /** settleMs: pause between the last join and the memory sample. */
  idle: { websocket: number; polling: number; settleMs: number };
  /** Fan-out to SSE subscribers beside WebSocket ones, and idle streams (`--only=sse`). */
  sse: { subscribers: number; rounds: number; warmupMs: number; measureMs: number; idle: number };
  capacity: { connections: number; measureMs: number };
  /** settleMs: pause between the fill and the joins, for the write burst's aftermath (WAL checkpoint, GC) to pass. */
  join: { fill: number; joins: number; settleMs: number };
  jitter: { subscribers: number; rate: number; durationMs: number; killEveryMs: number; offlineMs: number };
  /** Fan-out on Fiberchat with one optimisation turned off at a time, interleaved like the fan-out scenario. */
  ablation: { subscribers: number; rounds: number; warmupMs: number; measureMs: number };
  /**
   * Two nodes on PostgreSQL and Redis (bench/cluster-scenario.ts): send→receive
   * at a fixed rate with subscribers on the publishers' node and on the other
   * one, `rounds` runs of each, alternated; and one node on PostgreSQL against
   * one on SQLite, fan-out interleaved (`store`).
   */
  cluster: {
    subscribers: number;
    rate: number;
    rounds: number;
    warmupMs: number;
    measureMs: number;
    store: { subscribers: number; rounds: number; warmupMs: number; measureMs: number };
  };
}

export const FULL: Plan = {
  quick: false,
  fanout: { sizes: [500, 2000], rounds: 3, warmupMs: 1000, measureMs: 3000 },
  latency: { subscribers: 500, warmupMs: 1500, measureMs: 4000 },
  idle: { websocket: 8000, polling: 2000, settleMs: 1000 },
  sse: { subscribers: 500, rounds: 3, warmupMs: 1000, measureMs: 3000, idle: 4000 },
  capacity: { connections: 19_000, measureMs: 8000 },
  join: { fill: 100_000, joins: 1000, settleMs: 3000 },
  jitter: { subscribers: 200, rate: 100, durationMs: 33_000, killEveryMs: 15_000, offlineMs: 2000 },
  ablation: { subscribers: 500, rounds: 3, warmupMs: 1000, measureMs: 3000 },
  cluster: { subscribers: 200, rate: 100, rounds: 2, warmupMs: 1500, measureMs: 4000, store: { subscribers: 500, rounds: 3, warmupMs: 1000, measureMs: 3000 } },
};

export const QUICK: Plan = {
  quick: true,
  fanout: { sizes: [100, 300], rounds: 1, warmupMs: 300, measureMs: 800 },
  latency: { subscribers: 60, warmupMs: 200, measureMs: 700 },
  idle: { websocket: 300, polling: 60, settleMs: 200 },
  sse: { subscribers: 100, rounds: 1, warmupMs: 300, measureMs: 800, idle: 200 },
  capacity: { connections: 400, measureMs: 1000 }, // a full chat interval: every chatter sends in the window
  join: { fill: 5_000, joins: 100, settleMs: 300 },
  jitter: { subscribers: 20, rate: 100, durationMs: 3000, killEveryMs: 1500, offlineMs: 400 },
  ablation: { subscribers: 100, rounds: 1, warmupMs: 200, measureMs: 500 },
  cluster: { subscribers: 30, rate: 50, rounds: 1, warmupMs: 200, measureMs: 700, store: { subscribers: 60, rounds: 1, warmupMs: 200, measureMs: 500 } },
};

const TEXT_BYTES = 100;

type Sampled = { start?: ServerSample; end?: ServerSample };

/** Mark handler: samples the server at measure-start / measure-end; the generator gets the sample back too. */
function sampler(t: Target, keep: Sampled) {
  return async (name: string) => {
    const s = await sample(t);
    if (name === 'measure-start') keep.start = s;
    if (name === 'measure-end') keep.end = s;
    return s as unknown as Record<string, unknown>;
  };
}

function serverFigures(k: Sampled, generatorCpu: number): Record<string, number> {
  if (!k.start || !k.end) return {};
  return {
    serverCpu: serverCpu(k.start, k.end),
    backgroundCpu: backgroundCpu(k.start, k.end, generatorCpu),
    eldP99Ms: k.end.eldP99Ms,
    rssMB: k.end.rssBytes / 2 ** 20,
    // Store transactions per second in the window, and rooms per transaction (above 1: group commit).
    storeCommitsPerSec: (k.end.storeCommits - k.start.storeCommits) / ((k.end.at - k.start.at) / 1000),
    roomsPerStoreCommit: (k.end.storeCommitRooms - k.start.storeCommitRooms) / (k.end.storeCommits - k.start.storeCommits),
    storeCommitWaitMs: ((k.end.storeCommitWaitSeconds - k.start.storeCommitWaitSeconds) * 1000) / (k.end.storeCommits - k.start.storeCommits),
  };
}

function common(t: Target, deadlineMs: number) {
  return { port: t.port, tokens: t.tokens, publisherTokens: t.publisherTokens, deadlineMs };
}

function strip(r: Record<string, unknown>): Record<string, unknown> {
  const { server: _server, ...rest } = r;
  return rest;
}

function withServer(r: Record<string, unknown>, keep: Sampled): Record<string, unknown> {
  return { ...strip(r), ...serverFigures(keep, (r.generatorCpu as number) ?? 0) };
}

export type ByTarget = Partial<Record<TargetName, Record<string, unknown>>>;

const median = (xs: number[]) => quantile(xs, 0.5);

/**
 * Fan-out over several servers that are up at once, one generator connected
 * to all of them: measurement windows alternate among the targets (order
 * rotated each round) and each figure is the median of its windows, so a
 * change in background load hits every target alike.
 */
export async function interleavedFanout(
  targets: ReadonlyArray<{ name: string; t: Target; transport?: 'websocket' | 'sse' }>,
  run: { subscribers: number; rounds: number; warmupMs: number; measureMs: number },
): Promise<Record<string, Record<string, unknown>>> {
  const byName = new Map(targets.map(({ name, t }) => [name, t]));
  // The servers may have served an earlier run (another subscriber count).
  const committedBefore = new Map<string, number>();
  for (const { name, t } of targets) committedBefore.set(name, (await sample(t)).messagesCommitted);
  const r = await runGenerator(
    {
      port: 0,
      tokens: [],
      publisherTokens: [],
      deadlineMs: 300_000,
      kind: 'fanout',
      targets: targets.map(({ name, t, transport }) => ({ name, port: t.port, tokens: t.tokens, publisherTokens: t.publisherTokens, ...(transport ? { transport } : {}) })),
      rounds: run.rounds,
      subscribers: run.subscribers,
      publishers: 4,
      inFlight: 8,
      textBytes: TEXT_BYTES,
      warmupMs: run.warmupMs,
      measureMs: run.measureMs,
    },
    async (_m, target) => sample(byName.get(target ?? '') as Target) as unknown as Promise<Record<string, unknown>>,
  );
  const windows = (r.windows as Array<Record<string, unknown>>).map((w): Record<string, unknown> => {
    const srv = w.server as { start: ServerSample; end: ServerSample };
    return { ...strip(w), ...serverFigures(srv, w.generatorCpu as number) };
  });
  const out: Record<string, Record<string, unknown>> = {};
  for (const { name, t } of targets) {
    // After the generator is gone every ack it counted has been received: a
    // server that stores messages must have committed at least that many.
    const committed = (await sample(t)).messagesCommitted - (committedBefore.get(name) ?? NaN);
    const ws = windows.filter((w) => w.target === name);
    const med = (k: string) => median(ws.map((w) => w[k] as number));
    const p = (k: 'p50' | 'p99') => median(ws.map((w) => (w.latencyMs as Record<string, number>)[k] as number));
    out[name] = {
      subscribers: run.subscribers,
      connectMs: (r.connectMs as Record<string, number>)[name],
      deliveriesPerSec: med('deliveriesPerSec'),
      framesPerSec: med('framesPerSec'),
      sendsPerSec: med('sendsPerSec'),
      fanoutRatio: med('fanoutRatio'),
      latencyMs: { p50: p('p50'), p99: p('p99') },
      generatorCpu: med('generatorCpu'),
      serverCpu: med('serverCpu'),
      backgroundCpu: med('backgroundCpu'),
      eldP99Ms: med('eldP99Ms'),
      rssMB: med('rssMB'),
      acked: (r.acked as Record<string, number>)[name],
      ...(Number.isFinite(committed) ? { persisted: committed } : {}),
      windows: ws.map((w) => ({
        round: w.round,
        deliveriesPerSec: w.deliveriesPerSec,
        generatorCpu: w.generatorCpu,
        serverCpu: w.serverCpu,
        backgroundCpu: w.backgroundCpu,
      })),
    };
  }
  return out;
}

/** Every target side by side, at each subscriber count of the plan. */
export async function fanout(plan: Plan, progress: (s: string) => void): Promise<Record<string, ByTarget>> {
  const out: Record<string, ByTarget> = {};
  const targets: Array<{ name: TargetName; t: Target }> = [];
  try {
    for (const name of TARGETS) targets.push({ name, t: await startTarget(name) });
    for (const size of plan.fanout.sizes) {
      progress(`fan-out ${size} subscribers: ${plan.fanout.rounds} round(s) over ${TARGETS.join(', ')}`);
      out[size] = await interleavedFanout(targets, { ...plan.fanout, subscribers: size });
    }
  } finally {
    for (const { t } of targets) await t.close();
  }
  return out;
}

export async function latency(plan: Plan, rate: number, progress: (s: string) => void): Promise<Record<string, ByTarget>> {
  const out: Record<string, ByTarget> = {};
  for (const name of TARGETS) {
    for (const transport of TRANSPORTS[name]) {
      const t = await startTarget(name);
      try {
        progress(`latency ${transport} on ${name} at ${Math.round(rate)} msg/s`);
        const keep: Sampled = {};
        const r = await runGenerator(
          {
            ...common(t, 120_000),
            kind: 'latency',
            transport,
            subscribers: plan.latency.subscribers,
            publishers: 4,
            rate,
            textBytes: TEXT_BYTES,
            warmupMs: plan.latency.warmupMs,
            measureMs: plan.latency.measureMs,
            ajaxIntervalMs: 1000,
          },
          sampler(t, keep),
        );
        (out[transport] ??= {})[name] = withServer(r, keep);
      } finally {
        await t.close();
      }
    }
  }
  return out;
}

/** `n` joined, silent connections of `transport` on a fresh `name` server: memory per connection after a forced GC. */
async function idleOnce(name: TargetName, transport: 'websocket' | 'polling' | 'sse', n: number, settleMs: number, progress: (s: string) => void): Promise<Record<string, unknown>> {
  const t = await startTarget(name, { inspect: true });
  try {
    progress(`idle ${n} ${transport} on ${name}`);
    await collectGarbage(t);
    const base = await sample(t);
    let loaded: ServerSample | undefined;
    const r = await runGenerator({ ...common(t, 180_000), kind: 'idle', transport, connections: n, roomSize: 100, settleMs }, async (m) => {
      if (m === 'loaded') {
        await collectGarbage(t);
        loaded = await sample(t);
      }
      return {};
    });
    const held = r.connections as number;
    return {
      ...strip(r),
      baseRssMB: base.rssBytes / 2 ** 20,
      loadedRssMB: (loaded?.rssBytes ?? NaN) / 2 ** 20,
      rssPerConnKB: ((loaded?.rssBytes ?? NaN) - base.rssBytes) / held / 1024,
      heapPerConnKB: ((loaded?.heapUsedBytes ?? NaN) - base.heapUsedBytes) / held / 1024,
    };
  } finally {
    await t.close();
  }
}

export async function idle(plan: Plan, progress: (s: string) => void): Promise<Record<string, ByTarget>> {
  const out: Record<string, ByTarget> = {};
  for (const name of TARGETS) {
    for (const transport of TRANSPORTS[name].filter((x) => x !== 'ajax') as Array<'websocket' | 'polling'>) {
      (out[transport] ??= {})[name] = await idleOnce(name, transport, plan.idle[transport], plan.idle.settleMs, progress);
    }
  }
  return out;
}

/**
 * Server-Sent Events against WebSocket on Fiberchat, in one run: fan-out to
 * the same number of subscribers on two servers up at once (one with
 * WebSocket subscribers, one with streams; windows interleaved as in the
 * fan-out scenario, publishers on WebSocket for both), then the memory of
 * idle streams beside idle WebSockets.
 */
export async function sse(plan: Plan, progress: (s: string) => void): Promise<Record<string, unknown>> {
  const targets: Array<{ name: string; t: Target; transport: 'websocket' | 'sse' }> = [];
  let fan: Record<string, Record<string, unknown>>;
  try {
    for (const transport of ['websocket', 'sse'] as const) targets.push({ name: transport, t: await startTarget('fiberchat'), transport });
    progress(`sse fan-out ${plan.sse.subscribers} subscribers: ${plan.sse.rounds} round(s), WebSocket and SSE subscribers`);
    fan = await interleavedFanout(targets, { subscribers: plan.sse.subscribers, rounds: plan.sse.rounds, warmupMs: plan.sse.warmupMs, measureMs: plan.sse.measureMs });
  } finally {
    for (const { t } of targets) await t.close();
  }
  const idleBy: Record<string, Record<string, unknown>> = {};
  for (const transport of ['websocket', 'sse'] as const) idleBy[transport] = await idleOnce('fiberchat', transport, plan.sse.idle, plan.idle.settleMs, progress);
  return { fanout: fan, idle: idleBy };
}

export async function capacity(plan: Plan, progress: (s: string) => void): Promise<ByTarget> {
  const out: ByTarget = {};
  for (const name of TARGETS) {
    const t = await startTarget(name);
    try {
      progress(`capacity ${plan.capacity.connections} on ${name}`);
      const keep: Sampled = {};
      const r = await runGenerator(
        {
          ...common(t, 240_000),
          kind: 'capacity',
          connections: plan.capacity.connections,
          roomSize: 100,
          chatEvery: 100,
          chatIntervalMs: 1000,
          textBytes: TEXT_BYTES,
          measureMs: plan.capacity.measureMs,
        },
        sampler(t, keep),
      );
      out[name] = withServer(r, keep);
    } finally {
      await t.close();
    }
  }
  return out;
}

/** Fiberchat only: the peers keep no history. */
export async function join(plan: Plan, progress: (s: string) => void): Promise<Record<string, unknown>> {
  const t = await startTarget('fiberchat', { inspect: true });
  try {
    progress(`join with ${plan.join.fill} stored messages`);
    const keep: Sampled = {};
    const take = sampler(t, keep);
    const r = await runGenerator(
      { ...common(t, 240_000), kind: 'join', room: 'history', fill: plan.join.fill, textBytes: TEXT_BYTES, joins: plan.join.joins, settleMs: plan.join.settleMs },
      async (m) => {
        // The joining connections were all opened just before: collect their
        // young objects now, so the joins are not charged with promoting a
        // 1,000-connection burst. The joins' own garbage still counts.
        if (m === 'measure-start') await collectGarbage(t);
        return take(m);
      },
    );
    return withServer(r, keep);
  } finally {
    await t.close();
  }
}

/** Fiberchat only: the peers have no resume (no seq replay), so they would lose what was sent offline. */
export async function jitter(plan: Plan, progress: (s: string) => void): Promise<Record<string, unknown>> {
  const t = await startTarget('fiberchat');
  try {
    progress(`jitter: ${plan.jitter.subscribers} subscribers, one kill per ~${plan.jitter.killEveryMs / 1000} s each`);
    const keep: Sampled = {};
    const spec: Spec = {
      ...common(t, plan.jitter.durationMs + 60_000),
      kind: 'jitter',
      subscribers: plan.jitter.subscribers,
      publishers: 4,
      rate: plan.jitter.rate,
      textBytes: TEXT_BYTES,
      durationMs: plan.jitter.durationMs,
      killEveryMs: plan.jitter.killEveryMs,
      offlineMs: plan.jitter.offlineMs,
    };
    const r = await runGenerator(spec, sampler(t, keep));
    return withServer(r, keep);
  } finally {
    await t.close();
  }
}

/**
 * Optimisations that a setting can turn off, each measured against the
 * default in the same run: Fiberchat variants started side by side, windows
 * interleaved among them, median of the rounds.
 */
export const ABLATIONS: ReadonlyArray<{ name: string; env: Record<string, string>; what: string }> = [
  { name: 'default', env: {}, what: 'as shipped' },
  { name: 'no-batching', env: { ROOM_MAX_TURN: '1' }, what: 'ROOM_MAX_TURN=1: one message per room turn, transaction and broadcast packet' },
  { name: 'inline-checkpoint', env: { SQLITE_CHECKPOINT_MS: '0' }, what: 'SQLITE_CHECKPOINT_MS=0: WAL checkpoints inside commits (SQLite\'s default)' },
  { name: 'engine-frames', env: { BROADCAST_FRAMES: 'engine' }, what: 'BROADCAST_FRAMES=engine: broadcasts through socket.io\'s adapter and engine.io, a queued write per socket' },
  { name: 'no-group-commit', env: { STORE_GROUP_COMMIT: 'off' }, what: 'STORE_GROUP_COMMIT=off: one SQLite transaction per room turn, not one per event-loop turn (one busy room: no difference expected)' },
];

export async function ablation(plan: Plan, progress: (s: string) => void): Promise<Record<string, Record<string, unknown>>> {
  const targets: Array<{ name: string; t: Target }> = [];
  try {
    for (const v of ABLATIONS) targets.push({ name: v.name, t: await startTarget('fiberchat', { env: v.env }) });
    progress(`ablation: fan-out ${plan.ablation.subscribers} on Fiberchat ${ABLATIONS.map((v) => v.name).join(', ')}`);
    const by = await interleavedFanout(targets, plan.ablation);
    return Object.fromEntries(ABLATIONS.map((v) => [v.name, { what: v.what, ...by[v.name] }]));
  } finally {
    for (const { t } of targets) await t.close();
  }
}
