/**
 * `npm run bench` — Fiberchat and two peers (plain socket.io, raw ws) side by
 * side, same generator, same settings. Writes bench/results/<date>.json, the
 * chart bench/results/<date>.svg and the results section of BENCHMARKS.md.
 *
 *   npm run bench                  full run (< 10 min)
 *   npm run bench -- --quick       smoke run (< 2 min): bench/results/<date>-quick.json only
 *   npm run bench -- --only=fanout,idle   some scenarios (fanout latency idle capacity join jitter fiber)
 *   npm run bench -- --profile     Fiberchat fan-out under --cpu-prof, top functions by self time
 *   npm run bench -- --no-doc      do not touch BENCHMARKS.md
 *   npm run bench -- --only=latency --latency-rate=300   latency at a given saturation (msg/s) without the fan-out
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { profileFanout } from './profile.ts';
import { CORES, cpuCount, fdLimit, hasTaskset, start } from './lib/proc.ts';
import { renderChart, updateBenchmarksMd } from './report.ts';
import * as sc from './scenarios.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
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
  };
}

async function fiberMicro(): Promise<Record<string, unknown>> {
  const child = start(process.execPath, ['--import', 'tsx', 'bench/fiber-micro.ts', ...(quick ? ['--quick'] : [])], {
    core: CORES.server,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync('bench/results', { recursive: true });
  if (profile) {
    const p = await profileFanout(quick ? 2000 : 8000, progress);
    const file = `bench/results/${date}-profile.json`;
    writeFileSync(file, JSON.stringify(p, null, 2) + '\n');
    progress(`profile summary in ${file}`);
    return;
  }
  const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const results: Record<string, unknown> = { date, mode: quick ? 'quick' : 'full', command, machine: machine(), plan };
  const save = () => {
    results.durationSec = Math.round((performance.now() - t0) / 1000);
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
  if (want('fiber')) {
    progress('fiber micro-benchmark: server/fiber vs effection');
    results.fiber = await fiberMicro();
  }
  const file = save();
  progress(`results in ${file}`);
  if (!noDoc && !only) {
    const svg = `bench/results/${date}.svg`;
    writeFileSync(svg, renderChart(results));
    const md = readFileSync('BENCHMARKS.md', 'utf8');
    writeFileSync('BENCHMARKS.md', updateBenchmarksMd(md, results, svg.replace(/^bench\//, 'bench/')));
    progress(`chart in ${svg}; BENCHMARKS.md updated`);
  }
  console.log(summaryLines(results).join('\n'));
}

/** A few headline lines for the terminal. */
function summaryLines(r: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const fan = r.fanout as Record<string, sc.ByTarget> | undefined;
  for (const [size, by] of Object.entries(fan ?? {})) {
    const f = by.fiberchat?.deliveriesPerSec as number;
    const s = by.socketio?.deliveriesPerSec as number;
    const w = by.ws?.deliveriesPerSec as number;
    lines.push(
      `fan-out ${size}: Fiberchat ${Math.round(f)}/s = ${(f / s).toFixed(2)}× socket.io, ${(f / w).toFixed(2)}× raw ws`,
    );
  }
  return lines;
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exit(1);
});
