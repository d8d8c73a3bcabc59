/**
 * `npm run bench` — Fiberchat and three peers (plain socket.io, raw ws with
 * one frame per message, raw ws batched per turn: the batching ceiling) side
 * by side, same generator, same settings. Writes bench/results/<date>.json, the
 * chart bench/results/<date>.svg and the results section of BENCHMARKS.md.
 *
 *   npm run bench                  full run (about 12 min); its verdicts are appended to bench/results/runs.jsonl
 *   npm run bench -- --quick       smoke run (< 2 min): bench/results/<date>-quick.json only (without the cluster scenario; --quick --only=cluster runs its small variant)
 *   npm run bench -- --only=fanout,idle   some scenarios (fanout latency idle sse capacity join jitter ablation cluster fiber search upload)
 *   npm run bench -- --profile[=latency|capacity]   Fiberchat fan-out (or fixed-rate latency, or capacity) under --cpu-prof, top functions by self time
 *   npm run bench -- --profile --profile-target=wsbatch   the same fan-out profile of a peer (socketio, ws, wsbatch: the batching ceiling)
 *   npm run bench -- --profile --profile-subscribers=500   the fan-out profile with 500 subscribers instead of 2,000
 *   npm run bench -- --report=bench/results/<date>.json   re-render chart and BENCHMARKS.md from a results file
 *   npm run bench -- --no-doc      do not touch BENCHMARKS.md
 *   npm run bench -- --only=latency --latency-rate=300   latency at a given saturation (msg/s) without the fan-out
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { profileScenario } from './profile.ts';
import { renderChart } from './chart.ts';
import { ceilingRatios, GOALS, verdicts, type Verdict } from './lib/goals.ts';
import { appendRun, measuredCommit, readRuns, recordOf } from './lib/history.ts';
import { CORES, cpuCount, fdLimit, hasTaskset, start } from './lib/proc.ts';
import { CEILING, LABEL, TARGETS, type TargetName } from './lib/targets.ts';
import { cluster as clusterScenario } from './cluster-scenario.ts';
import { updateBenchmarksMd } from './report.ts';
import * as sc from './scenarios.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profileArg = args.find((a) => a === '--profile' || a.startsWith('--profile='));
const profile = profileArg !== undefined;
const noDoc = args.includes('--no-doc') || quick;
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const want = (s: string) => !only || only.includes(s);
const plan = quick ? sc.QUICK : sc.FULL;

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
const progress = (s: string) => console.log(`[${elapsed()}] ${s}`);

function machine() {
  const sh = (c: string) => spawnSync('sh', ['-c', c], { encoding: 'utf8' }).stdout.trim();
  return {
    nproc: cpuCount,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: sh('uname -sr'),
    openFileLimit: fdLimit(),
    taskset: hasTaskset ? `server on core ${CORES.server}, generator on core ${CORES.generator}` : 'not available: processes not pinned',
    calibrationMs: calibrate(),
  };
}

/**
 * Milliseconds for a fixed piece of single-threaded JavaScript (best of 5):
 * how fast this machine was at the time of the run, so that absolute figures
 * from different runs can be read against each other.
 */
function calibrate(): number {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    let h = 0;
    const m = new Map<number, number>();
    for (let i = 0; i < 2_000_000; i++) {
      h = (h * 31 + i) | 0;
      if ((i & 1023) === 0) m.set(h, i);
    }
    JSON.stringify([...m.entries()]);
    best = Math.min(best, performance.now() - t);
  }
  return Math.round(best * 10) / 10;
}

async function fiberMicro(): Promise<Record<string, unknown>> {
  return childJson('bench/fiber-micro.ts');
}

/** Runs a benchmark script pinned to the server's core; it prints one JSON object. */
async function childJson(script: string, core: string = CORES.server): Promise<Record<string, unknown>> {
  const child = start(process.execPath, ['--import', 'tsx', script, ...(quick ? ['--quick'] : [])], {
    core,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as Record<string, unknown>;
}

/** Re-renders the chart and BENCHMARKS.md from a results file. */
function writeDoc(results: Record<string, unknown>): void {
  const svg = `bench/results/${results.date as string}${results.mode === 'quick' ? '-quick' : ''}.svg`;
  writeFileSync(svg, renderChart(results));
  const md = existsSync('BENCHMARKS.md') ? readFileSync('BENCHMARKS.md', 'utf8') : '';
  writeFileSync('BENCHMARKS.md', updateBenchmarksMd(md, results, svg, results.mode === 'full' ? readRuns() : []));
  progress(`chart in ${svg}; BENCHMARKS.md updated`);
}

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync('bench/results', { recursive: true });
  const reportFrom = args.find((a) => a.startsWith('--report='))?.slice('--report='.length);
  if (reportFrom) {
    const results = JSON.parse(readFileSync(reportFrom, 'utf8')) as Record<string, unknown>;
    derive(results);
    writeDoc(results);
    conclude(results);
    return;
  }
  if (profile) {
    const scenario = (['latency', 'capacity', 'join'] as const).find((s) => profileArg === `--profile=${s}`) ?? 'fanout';
    const target = (args.find((a) => a.startsWith('--profile-target='))?.slice('--profile-target='.length) ?? 'fiberchat') as TargetName;
    if (!TARGETS.includes(target)) throw new Error(`--profile-target: one of ${TARGETS.join(', ')}`);
    if (target !== 'fiberchat' && scenario !== 'fanout') throw new Error('the peers are profiled on the fan-out only');
    const subscribers = Number(args.find((a) => a.startsWith('--profile-subscribers='))?.split('=')[1]) || 2000;
    const p = await profileScenario(quick ? 2000 : 8000, progress, scenario, target, subscribers);
    const file = `bench/results/${date}-profile-${scenario}${target === 'fiberchat' ? '' : `-${target}`}${subscribers === 2000 ? '' : `-${subscribers}`}.json`;
    writeFileSync(file, JSON.stringify(p, null, 2) + '\n');
    progress(`profile summary in ${file}`);
    return;
  }
  const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  // The code measured is the code at the start: the servers load it as each scenario starts.
  const commit = measuredCommit();
  const results: Record<string, unknown> = { date, mode: quick ? 'quick' : 'full', command, commit, machine: machine(), plan };
  const save = () => {
    results.durationSec = Math.round((performance.now() - t0) / 1000);
    derive(results);
    const file = `bench/results/${date}${quick ? '-quick' : ''}${only ? '-partial' : ''}.json`;
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    return file;
  };
  progress(`bench (${quick ? 'quick' : 'full'}) on ${cpuCount} cores; ${hasTaskset ? 'pinned with taskset' : 'taskset missing: not pinned'}`);

  const fixedRate = Number(args.find((a) => a.startsWith('--latency-rate='))?.split('=')[1]) || undefined;
  if (want('fanout') || want('latency')) {
    const fan = want('fanout') || !fixedRate ? await sc.fanout(plan, progress) : {};
    if (want('fanout')) results.fanout = fan;
    save();
    if (want('latency')) {
      // Half of plain socket.io's saturated send rate with 500 subscribers.
      const sat = fixedRate ?? (fan['500']?.socketio?.sendsPerSec as number | undefined) ?? 200;
      const rate = Math.max(10, Math.round(sat / 2));
      results.latencyRate = { msgsPerSec: rate, socketioSaturation: sat, subscribers: plan.latency.subscribers };
      results.latency = await sc.latency(plan, rate, progress);
      save();
    }
  }
  if (want('idle')) {
    results.idle = await sc.idle(plan, progress);
    save();
  }
  if (want('sse')) {
    results.sse = await sc.sse(plan, progress);
    save();
  }
  if (want('capacity')) {
    results.capacity = await sc.capacity(plan, progress);
    save();
  }
  if (want('join')) {
    results.join = await sc.join(plan, progress);
    save();
  }
  if (want('jitter')) {
    results.jitter = await sc.jitter(plan, progress);
    save();
  }
  if (want('ablation')) {
    results.ablation = await sc.ablation(plan, progress);
    save();
  }
  // Off --quick unless asked for by name: starting PostgreSQL, Redis and four servers would take quick past 2 minutes.
  if (quick ? only?.includes('cluster') : want('cluster')) {
    results.cluster = await clusterScenario(plan, progress);
    save();
  }
  if (want('fiber')) {
    progress('fiber micro-benchmark: server/fiber vs effection');
    results.fiber = await fiberMicro();
  }
  if (want('search')) {
    progress(`search: ${quick ? '50,000' : '1,000,000'} generated messages on SQLite, then on PostgreSQL, then common, rare and phrase queries on each`);
    results.search = await childJson('bench/search-micro.ts');
    save();
  }
  if (want('upload')) {
    progress(`upload: 10 clients × ${quick ? 8 : 25} MiB at once to Fiberchat, then to plain Fastify with @fastify/multipart; then 10 photos of 12 MP to Fiberchat`);
    // This process drives from the generator core; the servers it starts are pinned to the server core.
    results.upload = await childJson('bench/upload-micro.ts', CORES.generator);
    save();
  }
  const file = save();
  progress(`results in ${file}`);
  if (!quick && !only) appendRun(recordOf(results, commit));
  if (!noDoc && !only) writeDoc(results);
  conclude(results);
}

/** The figures computed from the measured ones: ratios to the batching ceiling, and the targets' verdicts. */
function derive(results: Record<string, unknown>): void {
  results.vsCeiling = ceilingRatios(results);
  results.verdicts = verdicts(results);
}

/** Prints the headline figures; any problem `check` finds fails the run. */
function conclude(results: Record<string, unknown>): void {
  console.log(summaryLines(results).join('\n'));
  const problems = check(results);
  if (problems.length > 0) {
    console.error(`bench: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

/**
 * What must hold in any run, quick or full, on any machine: every scenario
 * produced figures for every target it ran, and nothing was lost or refused.
 * No speed or memory threshold here; those are the report's verdicts.
 */
function check(r: Record<string, unknown>): string[] {
  const out: string[] = [];
  type F = Record<string, unknown> | undefined;
  const positive = (what: string, v: unknown) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) out.push(`${what}: ${String(v)}`);
  };
  // A server that stores messages must have committed every message it acked.
  const persisted = (what: string, f: F) => {
    if (f?.persisted !== undefined && !(Number(f.persisted) >= Number(f.acked))) {
      out.push(`${what}: ${String(f.persisted)} messages committed of ${String(f.acked)} acked`);
    }
  };
  for (const [size, by] of Object.entries((r.fanout ?? {}) as Record<string, sc.ByTarget>)) {
    for (const t of TARGETS) {
      positive(`fan-out ${size} ${t} deliveries/s`, by[t]?.deliveriesPerSec);
      persisted(`fan-out ${size} ${t}`, by[t]);
    }
  }
  for (const [transport, by] of Object.entries((r.latency ?? {}) as Record<string, sc.ByTarget>)) {
    for (const [t, f] of Object.entries(by)) {
      positive(`latency ${transport} ${t} p50`, (f?.latencyMs as F)?.p50);
      if (f?.failed !== 0) out.push(`latency ${transport} ${t}: ${String(f?.failed)} sends failed`);
    }
  }
  for (const [transport, by] of Object.entries((r.idle ?? {}) as Record<string, sc.ByTarget>)) {
    for (const [t, f] of Object.entries(by)) positive(`idle ${transport} ${t} heap per connection`, f?.heapPerConnKB);
  }
  const sse = r.sse as { fanout?: Record<string, F>; idle?: Record<string, F> } | undefined;
  for (const [t, f] of Object.entries(sse?.fanout ?? {})) {
    positive(`sse fan-out ${t} deliveries/s`, f?.deliveriesPerSec);
    persisted(`sse fan-out ${t}`, f);
    // Every subscriber saw about every acked message in the windows (a lagging stream shows as a low ratio).
    if (!(Number(f?.fanoutRatio) >= 0.9 * Number(f?.subscribers))) out.push(`sse fan-out ${t}: ${String(f?.fanoutRatio)} deliveries per ack for ${String(f?.subscribers)} subscribers`);
  }
  for (const [t, f] of Object.entries(sse?.idle ?? {})) positive(`sse idle ${t} heap per connection`, f?.heapPerConnKB);
  for (const [t, f] of Object.entries((r.capacity ?? {}) as sc.ByTarget)) {
    if (f?.heldAtEnd !== f?.requested) out.push(`capacity ${t}: held ${String(f?.heldAtEnd)} of ${String(f?.requested)}`);
    if (f?.failed !== 0) out.push(`capacity ${t}: ${String(f?.failed)} sends failed`);
  }
  const join = r.join as F;
  if (join) {
    positive('join p50', (join.latencyMs as F)?.p50);
    if (join.pageOf50 !== true) out.push('join: an ack did not carry the latest 50 messages');
  }
  const jit = r.jitter as F;
  if (jit) {
    if (jit.deliveredOnce !== jit.expectedDeliveries) out.push(`jitter: delivered once ${String(jit.deliveredOnce)} of ${String(jit.expectedDeliveries)}`);
    if (jit.acked !== jit.sent) out.push(`jitter: acked ${String(jit.acked)} of ${String(jit.sent)}`);
    if (jit.outOfOrder !== 0) out.push(`jitter: ${String(jit.outOfOrder)} delivered out of order`);
  }
  for (const [v, f] of Object.entries((r.ablation ?? {}) as Record<string, F>)) {
    positive(`ablation ${v} deliveries/s`, f?.deliveriesPerSec);
    persisted(`ablation ${v}`, f);
  }
  const cl = r.cluster as F;
  if (cl) {
    for (const w of ['sameNode', 'crossNode']) {
      const f = cl[w] as F;
      positive(`cluster ${w} p50`, (f?.latencyMs as F)?.p50);
      if (f?.failed !== 0) out.push(`cluster ${w}: ${String(f?.failed)} sends failed`);
    }
    for (const [t, f] of Object.entries((cl.store ?? {}) as Record<string, F>)) {
      positive(`cluster store ${t} deliveries/s`, f?.deliveriesPerSec);
      persisted(`cluster store ${t}`, f);
    }
  }
  const fiber = r.fiber as F;
  if (fiber) for (const [k, v] of Object.entries((fiber.ratio ?? {}) as Record<string, unknown>)) positive(`fiber ratio ${k}`, v);
  return out;
}

/** The headline figures and ratios, one line per scenario, for the terminal (and CI logs). */
function summaryLines(r: Record<string, unknown>): string[] {
  type F = Record<string, unknown> | undefined;
  const n = (v: unknown) => (typeof v === 'number' ? v : NaN);
  const x = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–');
  const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
  const p = (f: F, q: 'p50' | 'p99') => n((f?.latencyMs as Record<string, unknown> | undefined)?.[q]);
  const lines: string[] = [];
  const c = CEILING;
  for (const [size, by] of Object.entries((r.fanout ?? {}) as Record<string, sc.ByTarget>)) {
    const d = (t: F) => n(t?.deliveriesPerSec);
    const [f, s, w, b] = [d(by.fiberchat), d(by.socketio), d(by.ws), d(by[c])];
    lines.push(
      `fan-out ${size}: Fiberchat ${Math.round(f)} deliveries/s = ${x(f, s)} socket.io, ${x(f, w)} raw ws, ${x(f, b)} ${LABEL[c]}; p99 ${f1(p(by.fiberchat, 'p99'))} ms = ${x(p(by.fiberchat, 'p99'), p(by[c], 'p99'))} ${LABEL[c]}`,
    );
  }
  for (const [transport, by] of Object.entries((r.latency ?? {}) as Record<string, sc.ByTarget>)) {
    const f = by.fiberchat;
    const vs = (t: keyof sc.ByTarget) => `${x(p(f, 'p99'), p(by[t], 'p99'))} ${LABEL[t]}`;
    lines.push(`latency ${transport}: Fiberchat p50 ${f1(p(f, 'p50'))} / p99 ${f1(p(f, 'p99'))} ms; p99 ${vs('socketio')}, ${vs('ws')}, ${vs(c)}`);
  }
  for (const [transport, by] of Object.entries((r.idle ?? {}) as Record<string, sc.ByTarget>)) {
    const kb = (t: F) => n(t?.rssPerConnKB);
    const [f, s, w] = [kb(by.fiberchat), kb(by.socketio), kb(by.ws)];
    lines.push(`idle ${transport}: Fiberchat ${f1(f)} KB RSS per connection = ${x(f, s)} socket.io, ${x(f, w)} raw ws`);
  }
  const sse = r.sse as { fanout?: Record<string, F>; idle?: Record<string, F> } | undefined;
  if (sse?.fanout) {
    const [w, e] = [sse.fanout.websocket, sse.fanout.sse];
    const d = (f: F) => n(f?.deliveriesPerSec);
    lines.push(
      `sse fan-out ${n(e?.subscribers)}: ${Math.round(d(e))} deliveries/s = ${x(d(e), d(w))} WebSocket subscribers; p50 ${f1(p(e, 'p50'))} / p99 ${f1(p(e, 'p99'))} ms (WebSocket ${f1(p(w, 'p50'))} / ${f1(p(w, 'p99'))} ms)`,
    );
  }
  if (sse?.idle) {
    const [w, e] = [n(sse.idle.websocket?.rssPerConnKB), n(sse.idle.sse?.rssPerConnKB)];
    lines.push(`sse idle: ${f1(e)} KB RSS per stream = ${x(e, w)} an idle WebSocket (${f1(w)} KB) on the same server`);
  }
  const cap = (r.capacity ?? {}) as sc.ByTarget;
  if (cap.fiberchat) {
    const f = p(cap.fiberchat, 'p99');
    lines.push(
      `capacity: Fiberchat held ${n(cap.fiberchat.heldAtEnd)} / ${n(cap.fiberchat.requested)}, p99 ${f1(f)} ms = ${x(f, p(cap.socketio, 'p99'))} socket.io, ${x(f, p(cap[c], 'p99'))} ${LABEL[c]}`,
    );
  }
  const join = r.join as F;
  if (join) lines.push(`join (${n(join.stored)} stored): p50 ${p(join, 'p50').toFixed(2)} / p99 ${p(join, 'p99').toFixed(2)} ms`);
  const jit = r.jitter as F;
  if (jit) {
    lines.push(
      `jitter: delivered once ${n(jit.deliveredOnce)} / ${n(jit.expectedDeliveries)}, catch-up p99 ${f1(n((jit.catchUpMs as F)?.p99))} ms`,
    );
  }
  const abl = (r.ablation ?? {}) as Record<string, F>;
  for (const [v, f] of Object.entries(abl)) {
    if (v === 'default') continue;
    lines.push(`ablation ${v}: default delivers ${x(n(abl.default?.deliveriesPerSec), n(f?.deliveriesPerSec))} as much; ELD p99 ${f1(n(abl.default?.eldP99Ms))} vs ${f1(n(f?.eldP99Ms))} ms`);
  }
  const cl = r.cluster as F;
  if (cl) {
    const [same, cross] = [cl.sameNode as F, cl.crossNode as F];
    const st = (cl.store ?? {}) as Record<string, F>;
    const d = (f: F) => n(f?.deliveriesPerSec);
    lines.push(
      `cluster: cross-node p50 ${f1(p(cross, 'p50'))} / p99 ${f1(p(cross, 'p99'))} ms = ${x(p(cross, 'p50'), p(same, 'p50'))} / ${x(p(cross, 'p99'), p(same, 'p99'))} same-node; one node on PostgreSQL: ${x(d(st.postgres), d(st.sqlite))} SQLite's deliveries/s, p99 ${x(p(st.postgres, 'p99'), p(st.sqlite, 'p99'))}`,
    );
  }
  const ratio = (r.fiber as F)?.ratio as Record<string, number> | undefined;
  if (ratio) {
    lines.push(`fiber vs effection: ${Object.entries(ratio).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(', ')}`);
  }
  const search = r.search as F;
  if (search) {
    const line = (engine: string, e: Record<string, F> | undefined) => {
      if (!e) return;
      if (typeof e.skipped === 'string') return void lines.push(`search (${engine}): skipped, ${e.skipped}`);
      const k = (kind: string) => `${kind} p50 ${f1(n(e[kind]?.p50))} / p99 ${f1(n(e[kind]?.p99))} ms`;
      lines.push(`search (${engine}, ${n(search.messages).toLocaleString('en')} messages): ${k('common')}, ${k('rare')}, ${k('phrase')}; index ${n(e.indexToText as unknown).toFixed(2)}× the text`);
    };
    line('SQLite', search.sqlite as Record<string, F>);
    line('PostgreSQL', search.postgres as Record<string, F> | undefined);
  }
  const upload = r.upload as F;
  if (upload) {
    const u = (k: string) => (upload[k] ?? {}) as NonNullable<F>;
    const fig = (f: NonNullable<F>) => `${n(f.mibPerSec).toFixed(0)} MiB/s, upload p50 ${n(f.uploadP50Ms)} ms, loop p99 worst ${f1(n(f.loopP99WorstMs))} ms, RSS ${n(f.rssBaseMiB)} → ${n(f.rssPeakMiB)} MiB`;
    lines.push(`upload (${n(upload.clients)} × ${(n(upload.fileBytes) / 2 ** 20).toFixed(0)} MiB at once): Fiberchat ${fig(u('fiberchat'))}; plain Fastify ${fig(u('fastify'))}; ratio ${n(upload.ratio).toFixed(2)}×`);
    const im = u('images');
    lines.push(`upload of ${n(upload.clients)} photos of ${n(im.megapixels)} MP at once (Fiberchat): last stored after ${n(im.uploadMaxMs)} ms, loop p99 worst ${f1(n(im.loopP99WorstMs))} / median ${f1(n(im.loopP99MedianMs))} ms, RSS ${n(im.rssBaseMiB)} → ${n(im.rssPeakMiB)} MiB`);
  }
  const vs = (r.verdicts ?? []) as Verdict[];
  if (vs.length > 0) lines.push('targets (verdicts only; no run fails on them):');
  for (const v of vs) {
    lines.push(`  ${v.met ? 'met   ' : 'missed'} ${GOALS[v.goal]}${v.scope ? ` (${v.scope})` : ''}: ${v.shown}${v.met ? '' : ` (${v.text.slice('missed: '.length)})`}`);
  }
  return lines;
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exit(1);
});
