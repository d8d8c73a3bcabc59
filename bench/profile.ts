/**
 * `npm run bench -- --profile[=latency|capacity]`: Fiberchat's fan-out (2,000
 * subscribers), fixed-rate latency or capacity run, with V8's CPU profiler
 * (through the inspector) sampling the measurement window only; the profile
 * folded into self time per function and per package, the figures behind the
 * optimisation notes in BENCHMARKS.md.
 * The raw .cpuprofile stays in bench/results/profiles/ (open it in Chrome
 * DevTools) and is not committed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Spec } from './gen/spec.ts';
import { runGenerator } from './lib/generator-run.ts';
import { inspector, LABEL, sample, serverCpu, startTarget, type ServerSample, type TargetName } from './lib/targets.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const DIR = 'bench/results/profiles';

export async function profileScenario(
  measureMs: number,
  progress: (s: string) => void,
  scenario: 'fanout' | 'latency' | 'capacity' | 'join' = 'fanout',
  target: TargetName = 'fiberchat',
  subscribers = 2000,
) {
  mkdirSync(DIR, { recursive: true });
  // The CPU profiler runs through the inspector for the measurement window
  // only: connecting thousands of clients and tearing them down stay out of it.
  const t = await startTarget(target, { inspect: true });
  const session = await inspector(t);
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: 200 });
  let profile: Profile | undefined;
  let allocations: SamplingHeapProfile | undefined;
  let start: ServerSample | undefined;
  let end: ServerSample | undefined;
  let r: Record<string, unknown>;
  try {
    const what = {
      fanout: `fan-out ${subscribers}`,
      latency: 'WebSocket latency, 500 subscribers at 137 msg/s',
      capacity: 'capacity, 19,000 connections, 1 % chatting',
      join: 'join in a room of 100,000 messages, 1,000 joins',
    }[scenario];
    progress(`${what} on ${LABEL[target]} with the CPU profiler on the measurement window`);
    const base = { port: t.port, tokens: t.tokens, publisherTokens: t.publisherTokens, deadlineMs: 120_000 };
    const spec: Spec =
      scenario === 'join'
        ? { ...base, deadlineMs: 240_000, kind: 'join', room: 'history', fill: 100_000, textBytes: 100, joins: 1000, settleMs: 3000 }
        : scenario === 'latency'
        ? { ...base, kind: 'latency', transport: 'websocket', subscribers: 500, publishers: 4, rate: 137, textBytes: 100, warmupMs: 2000, measureMs, ajaxIntervalMs: 1000 }
        : scenario === 'capacity'
          ? { ...base, kind: 'capacity', connections: 19_000, roomSize: 100, chatEvery: 100, chatIntervalMs: 1000, textBytes: 100, measureMs }
          : {
              ...base,
              kind: 'fanout',
              targets: [{ name: target, port: t.port, tokens: t.tokens, publisherTokens: t.publisherTokens }],
              rounds: 1,
              subscribers,
              publishers: 4,
              inFlight: 8,
              textBytes: 100,
              warmupMs: 2000,
              measureMs,
            };
    r = await runGenerator(
      spec,
      async (m) => {
        if (m === 'measure-end') {
          profile = (await session.call('Profiler.stop')).profile as Profile;
          allocations = (await session.call('HeapProfiler.stopSampling')).profile as SamplingHeapProfile;
        }
        // As in the join scenario: the connections opened just before are not the joins' garbage.
        if (m === 'measure-start' && scenario === 'join') for (let i = 0; i < 2; i++) await session.call('HeapProfiler.collectGarbage');
        const s = await sample(t);
        if (m === 'measure-start') {
          start = s;
          // Allocation sampling beside the CPU profile: what the window allocates, by function (every 16 KiB on average).
          await session.call('HeapProfiler.startSampling', { samplingInterval: 16 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
          await session.call('Profiler.start');
        }
        if (m === 'measure-end') end = s;
        return s as unknown as Record<string, unknown>;
      },
    );
  } finally {
    session.close();
    await t.close();
  }
  if (!profile) throw new Error('no profile taken');
  const file = join(DIR, `${scenario}${target === 'fiberchat' ? '' : `-${target}`}${subscribers === 2000 || scenario !== 'fanout' ? '' : `-${subscribers}`}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const summary = summarizeProfile(profile);
  const w = ((r.windows as Array<Record<string, unknown>> | undefined)?.[0] ?? r) as Record<string, unknown>;
  const { server: _s, ...fan } = w;
  return {
    profile: file,
    scenario,
    target,
    figures: { ...fan, serverCpu: start && end ? serverCpu(start, end) : NaN },
    ...summary,
    allocations: allocations ? summarizeAllocations(allocations) : undefined,
  };
}

interface SamplingHeapNode {
  callFrame: Node['callFrame'];
  selfSize: number;
  children: SamplingHeapNode[];
}
interface SamplingHeapProfile {
  head: SamplingHeapNode;
}

/** Bytes allocated in the window per function and per package (sampled), as shares of the total. */
export function summarizeAllocations(p: SamplingHeapProfile) {
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  const visit = (n: SamplingHeapNode) => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      const where = location(n.callFrame.url);
      const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}${where.includes(':') || !n.callFrame.url ? '' : `:${n.callFrame.lineNumber + 1}`}`;
      byFn.set(fn, (byFn.get(fn) ?? 0) + n.selfSize);
      const pkg = packageOf(n.callFrame.url, n.callFrame.functionName);
      byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + n.selfSize);
    }
    for (const c of n.children) visit(c);
  };
  visit(p.head);
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, bytes]) => ({ name, sharePct: Math.round((bytes / total) * 1000) / 10 }));
  return { sampledMB: Math.round(total / 1024 / 102.4) / 10, topFunctions: top(byFn, 25), byPackage: top(byPkg, 15) };
}

/**
 * Self time per function and per package, as shares of all samples. Samples
 * are counted rather than weighted by the time since the previous one: on a
 * machine shared with other work the process is descheduled now and then, and
 * the sample taken after such a pause would charge the whole pause to
 * whichever function happened to be running.
 */
export function summarizeProfile(p: Profile) {
  const self = new Map<number, number>();
  for (const id of p.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const total = p.samples.length;
  const sampledMs = Math.round(p.timeDeltas.reduce((a, b) => a + b, 0) / 1000);
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  for (const n of p.nodes) {
    const count = self.get(n.id) ?? 0;
    if (!count) continue;
    const where = location(n.callFrame.url);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}${where.includes(':') || !n.callFrame.url ? '' : `:${n.callFrame.lineNumber + 1}`}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + count);
    const pkg = packageOf(n.callFrame.url, n.callFrame.functionName);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + count);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, count]) => ({ name, sharePct: Math.round((count / total) * 1000) / 10 }));
  return { sampledMs, samples: total, topFunctions: top(byFn, 25), byPackage: top(byPkg, 15) };
}

function location(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
  }
  if (path.startsWith('node:')) return 'node core';
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel.split('/').slice(0, 2).join('/');
}
