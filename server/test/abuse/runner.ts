/**
 * Runs one attack against one server and measures it: the server is the
 * real one (`server/main.ts` in a child process, every setting at its
 * default, a fresh DATA_DIR), a calm victim sends throughout from its own
 * process and address, and the server's RSS is sampled from /proc.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS } from '../../config.ts';
import { spawnServer } from '../server-process.ts';
import { ADDRESSES, type Attack, type Figures, type Size, type Target } from './attacks.ts';
import { cpuSeconds, metrics, refusals, RssSampler, sleep, startVictim, summarize, type VictimReport } from './measure.ts';

export interface RunningTarget extends Target {
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data. */
  stop(): Promise<void>;
  /** Exit code once it has exited on its own (a crash), else undefined. */
  exitCode(): number | null | undefined;
  log(): string;
}

/** Settings a run never inherits from the caller's environment: every other one stays at its default. */
const KEEP = new Set(['PORT', 'HOST', 'DATA_DIR', 'LOG_LEVEL']);

/**
 * Starts a server for an attack: this checkout's, or the one in `serverDir`
 * (another checkout with its own node_modules, to measure before and after
 * a change). `env` overrides defaults (tests of one mechanism only).
 */
export async function startTarget(opts: { serverDir?: string; env?: Record<string, string> } = {}): Promise<RunningTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fiberchat-abuse-'));
  const unset = Object.fromEntries(
    Object.values(SETTINGS)
      .map((s) => s.env)
      .filter((e) => !KEEP.has(e))
      .map((e) => [e, undefined]),
  );
  const srv = await spawnServer({ cwd: opts.serverDir, env: { ...unset, DATA_DIR: dataDir, ...opts.env } });
  let code: number | null | undefined;
  void srv.exited.then((c) => (code = c));
  return {
    url: srv.url,
    pid: srv.child.pid as number,
    dbFile: join(dataDir, 'fiberchat.db'),
    exitCode: () => code,
    log: srv.log,
    async stop() {
      if (code === undefined) {
        srv.child.kill('SIGTERM');
        const killer = setTimeout(() => srv.child.kill('SIGKILL'), 10_000);
        await srv.exited;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AttackReport {
  id: string;
  title: string;
  size: Size;
  figures: Figures;
  victim: VictimReport;
  rss: { base: number; peak: number; growth: number };
  /** `fiberchat_refusals_total` increments during the attack, by reason (empty on servers without it). */
  refusals: Record<string, number>;
  /** Why the attack was stopped early, if it was. */
  stopped?: string;
  /** The attack itself failed (a bug in it, or the server went away). */
  error?: string;
  /** The server exited during the attack (crashed), with this code. */
  serverExit?: number | null;
  /** The server's longest event-loop stall during the attack, in ms (from its /metrics, scraped every 250 ms). */
  loopMaxMs: number;
  /** The median 250 ms window's p99 event-loop delay (prom-client, 10 ms resolution: an idle loop reads about 10); NaN unmeasured. */
  loopP99Ms: number;
  /** The share of one core the server used during the attack (1: a whole core; its event loop is saturated). */
  cpu: number;
  /** The machine's 1-minute load average at the end: on a shared machine, context for the latencies. */
  load: number;
  seconds: number;
}

function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** The server's RSS past which an attack is stopped, to keep a run against an unbounded server from taking the machine. */
export const DEFAULT_SAFETY_RSS = 2 * 1024 ** 3;

/** Seeds what the attack needs, starts the victim, runs the attack, and measures. */
export async function runAttack(attack: Attack, target: RunningTarget, size: Size, opts: { safetyRssBytes?: number } = {}): Promise<AttackReport> {
  await attack.prepare?.(target);
  const victim = await startVictim(target.url, ADDRESSES.victim, `calm-${attack.id}`);
  try {
    await sleep(500); // calm traffic before the attack starts
    const before = await refusals(target.url).catch(() => ({}) as Record<string, number>);
    const abort = new AbortController();
    let stopped: string | undefined;
    const limit = opts.safetyRssBytes ?? DEFAULT_SAFETY_RSS;
    const rss = new RssSampler(target.pid, limit, () => {
      if (abort.signal.aborted) return;
      stopped = `server RSS passed ${Math.round(limit / 2 ** 20)} MiB`;
      abort.abort();
    });
    const t0 = performance.now();
    const cpu0 = cpuSeconds(target.pid);
    // Each scrape of /metrics gives the longest stall and the p99 delay since the scrape before: sample often, and
    // only here (a second scraper would read the emptied window). Reported: the worst stall, and the median window's p99
    // (a window holds about 25 samples, so its p99 is its worst one: the median says what the loop was like throughout).
    // NaN until a scrape is answered: a server too busy to answer its metrics reports no figure, not a zero.
    let loopMaxMs = NaN;
    const windowP99Ms: number[] = [];
    const scrapeLoop = () =>
      metrics(target.url, ['nodejs_eventloop_lag_max_seconds', 'nodejs_eventloop_lag_p99_seconds']).then(
        ([max = NaN, p99 = NaN]) => {
          loopMaxMs = Number.isNaN(loopMaxMs) ? max * 1000 : Math.max(loopMaxMs, max * 1000);
          if (p99 > 0) windowP99Ms.push(p99 * 1000);
        },
        () => {},
      );
    const loopTimer = setInterval(() => void scrapeLoop(), 250);
    let figures: Figures = {};
    let error: string | undefined;
    // Every attack ends by itself; this is the backstop if one hangs.
    const backstop = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('attack did not end within 3 minutes')), 180_000).unref());
    try {
      figures = await Promise.race([attack.run(target, size, { signal: abort.signal, newcomer: (address, room) => victim.newcomer(address, room) }), backstop]);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      abort.abort();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (cpuSeconds(target.pid) - cpu0) / seconds;
    await sleep(500); // what the attack left queued
    rss.sample();
    rss.stop();
    let report: VictimReport;
    try {
      report = await victim.stop();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      report = { latency: summarize([]), ownStallMs: NaN, errors: {}, acked: 0, lost: null, lostCheck: why };
    }
    clearInterval(loopTimer);
    await scrapeLoop();
    const after = await refusals(target.url).catch(() => ({}) as Record<string, number>);
    const moved = Object.fromEntries(
      Object.entries(after)
        .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
    const exit = target.exitCode();
    return {
      id: attack.id,
      title: attack.title,
      size,
      figures,
      victim: report,
      rss: { base: rss.base, peak: rss.peak, growth: rss.growth },
      refusals: moved,
      loopMaxMs,
      loopP99Ms: median(windowP99Ms),
      cpu,
      load: loadAverage(),
      seconds,
      ...(stopped && { stopped }),
      ...(error && { error }),
      ...(exit !== undefined && { serverExit: exit }),
    };
  } finally {
    victim.kill();
  }
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
