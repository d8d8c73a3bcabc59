/**
 * What an attack is judged by: a calm victim's send→ack latency and whether
 * everything it was acked is still there, the server's resident memory, its
 * refusal counters, and the rows of its store.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Message, SendOk } from '../../../shared/protocol.ts';
import type { ChatSocket } from '../harness.ts';
import { repoRoot } from '../server-process.ts';
import { ask, sessionFrom, socketFrom } from './net.ts';

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(xs: readonly number[]): Latency {
  if (xs.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] as number };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A calm client: its own identity and address, in its own room, sending one
 * short message every `everyMs` whatever happens to its earlier sends (an
 * open loop, so a stalled server shows as latency instead of as fewer
 * samples), and timing each send to its ack.
 */
export class Victim {
  readonly latencies: number[] = [];
  /** Answers that were not ok, by code ('timeout': none within 10 s). */
  readonly errors: Record<string, number> = {};
  readonly acked = new Map<string, { seq: number; text: string }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  /** The victim's own event-loop delay: a stall here is the machine's, not the server's. */
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private n = 0;

  private constructor(
    readonly socket: ChatSocket,
    readonly room: string,
  ) {}

  static async start(url: string, localAddress: string, room: string, everyMs = 100): Promise<Victim> {
    const session = await sessionFrom(url, 'calm', localAddress);
    const socket = await socketFrom(url, session.token, localAddress);
    const joined = await ask(socket, 'join', { room });
    if (!joined.ok) throw new Error(`the victim could not join: ${joined.error.code}`);
    const v = new Victim(socket, room);
    v.loop.enable();
    v.timer = setInterval(() => v.sendOne(), everyMs);
    return v;
  }

  private sendOne(): void {
    const clientId = `calm-${process.pid}-${this.n++}`;
    const text = `calm message ${this.n}`;
    const t0 = performance.now();
    const p = ask<SendOk>(this.socket, 'send', { room: this.room, text, clientId }).then((a) => {
      if (a.ok) {
        this.latencies.push(performance.now() - t0);
        this.acked.set(clientId, { seq: a.seq, text });
      } else {
        if (a.error.code !== 'timeout') this.latencies.push(performance.now() - t0);
        this.errors[a.error.code] = (this.errors[a.error.code] ?? 0) + 1;
      }
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Stops sending and waits for the answers still due. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
  }

  latency(): Latency {
    return summarize(this.latencies);
  }

  /** The longest its own event loop was held up while it sent, in ms. */
  ownStallMs(): number {
    this.loop.disable();
    return this.loop.max / 1e6;
  }

  get errorCount(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }

  /**
   * Reads its room back and returns the acked messages that are not in it
   * with their seq and text (empty: nothing acked was lost).
   */
  async lost(): Promise<string[]> {
    const stored = new Map<number, Message>();
    let before = Number.MAX_SAFE_INTEGER;
    // A server still digesting an attack may answer late: retry for a while, then give up.
    const giveUpAt = performance.now() + 45_000;
    for (let page = 0; page < 100; page++) {
      const a = await ask<{ messages: Message[] }>(this.socket, 'history', { room: this.room, before, limit: 200 });
      if (!a.ok) {
        if (!['rate_limited', 'unavailable', 'timeout'].includes(a.error.code) || performance.now() > giveUpAt) {
          throw new Error(`could not read the room back: ${a.error.code}`);
        }
        await sleep(a.error.retryAfterMs ?? 200);
        continue;
      }
      for (const m of a.messages) stored.set(m.seq, m);
      const first = a.messages[0];
      if (!first || first.seq <= 1) break;
      before = first.seq;
    }
    const missing: string[] = [];
    for (const [clientId, { seq, text }] of this.acked) {
      const m = stored.get(seq);
      if (!m || m.clientId !== clientId || m.text !== text) missing.push(clientId);
    }
    return missing;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.disconnect();
  }
}

/** What a victim saw during an attack. */
export interface VictimReport {
  latency: Latency;
  /** The victim's own longest event-loop stall (ms): latency it added itself, when the machine starved it. */
  ownStallMs: number;
  /** Answers that were not ok, by code ('timeout': none within 10 s). */
  errors: Record<string, number>;
  acked: number;
  /** Acked messages missing from the store afterwards; null when the store could not be read back (see `lostCheck`). */
  lost: number | null;
  lostCheck?: string;
}

export interface VictimHandle {
  /**
   * A newcomer (a fresh identity from `address`) connects and opens `room`,
   * from the victim's process: how it went and how long it took.
   */
  newcomer(address: string, room: string): Promise<string>;
  /** Stops sending, checks the store, and reports. */
  stop(): Promise<VictimReport>;
  kill(): void;
}

/** Messages from the victim's process. */
export type VictimMessage =
  | { type: 'ready' }
  | { type: 'report'; report: VictimReport }
  | { type: 'newcomer'; id: number; result: string }
  | { type: 'error'; message: string };
/** Messages to the victim's process. */
export type VictimCommand = { type: 'stop' } | { type: 'newcomer'; id: number; address: string; room: string };

/**
 * Runs a `Victim` in a process of its own, so that the attacker's work on
 * the client side (parsing floods of answers, thousands of sockets) cannot
 * delay the victim's own event loop and pass for server latency.
 */
export function startVictim(url: string, localAddress: string, room: string, everyMs = 100): Promise<VictimHandle> {
  const child = fork(fileURLToPath(new URL('./victim-process.ts', import.meta.url)), [url, localAddress, room, String(everyMs)], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const waiting = new Set<(m: VictimMessage | undefined) => void>();
  child.on('message', (m) => {
    for (const w of [...waiting]) w(m as VictimMessage);
  });
  child.once('exit', () => {
    exited = true;
    for (const w of [...waiting]) w(undefined);
  });
  /** The next message that `match` accepts; rejects on exit or timeout. */
  const next = <M extends VictimMessage>(match: (m: VictimMessage) => m is M, timeoutMs: number) =>
    new Promise<M>((resolve, reject) => {
      if (exited) return reject(new Error('the victim has exited'));
      const timer = setTimeout(() => {
        waiting.delete(w);
        reject(new Error(`the victim did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (m: VictimMessage | undefined) => {
        if (m !== undefined && !match(m) && m.type !== 'error') return;
        clearTimeout(timer);
        waiting.delete(w);
        if (m === undefined) reject(new Error('the victim exited'));
        else if (match(m)) resolve(m);
        else reject(new Error(`the victim failed: ${(m as { message?: string }).message}`));
      };
      waiting.add(w);
    });
  const send = (c: VictimCommand) => child.send(c);
  let ids = 0;
  return next((m): m is { type: 'ready' } => m.type === 'ready', 20_000).then(
    () => ({
      async newcomer(address, room) {
        const id = ids++;
        const answer = next((m): m is Extract<VictimMessage, { type: 'newcomer' }> => m.type === 'newcomer' && m.id === id, 30_000);
        send({ type: 'newcomer', id, address, room });
        return (await answer).result;
      },
      async stop() {
        const report = next((m): m is Extract<VictimMessage, { type: 'report' }> => m.type === 'report', 90_000);
        send({ type: 'stop' });
        const m = await report;
        child.kill();
        return m.report;
      },
      kill: () => {
        if (!exited) child.kill('SIGKILL');
      },
    }),
    (err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    },
  );
}

/** A fresh identity from `address` connects and opens `room`: how it went and how long it took. */
export async function newcomer(url: string, address: string, room: string): Promise<string> {
  const t0 = performance.now();
  try {
    const s = await sessionFrom(url, 'newcomer', address);
    const socket = await socketFrom(url, s.token, address, 5_000);
    const a = await ask(socket, 'join', { room }, 5_000);
    socket.disconnect();
    const ms = Math.round(performance.now() - t0);
    return a.ok ? `joined in ${ms} ms` : `join refused: ${a.error.code}`;
  } catch (err) {
    return `failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Resident set size of a process, in bytes, from /proc (NaN once it has gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (NaN once it has gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every 50 ms: the level when marked and the peak since. */
export class RssSampler {
  base = NaN;
  peak = NaN;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    /** Called with the RSS when it passes `limit` (a safety stop for runs against an unbounded server). */
    private readonly limit = Infinity,
    private readonly onLimit: (rss: number) => void = () => {},
  ) {
    this.timer = setInterval(() => this.sample(), 50);
    this.mark();
  }

  /** Starts a new measurement from the present level. */
  mark(): void {
    this.base = rssBytes(this.pid);
    this.peak = this.base;
  }

  sample(): number {
    const r = rssBytes(this.pid);
    if (r > this.peak) this.peak = r;
    if (r > this.limit) this.onLimit(r);
    return r;
  }

  get growth(): number {
    return this.peak - this.base;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** `fiberchat_refusals_total` by reason, from /metrics (the caller must be loopback). */
export async function refusals(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^fiberchat_refusals_total\{reason="([^"]+)"\} (\d+)/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

/** One unlabelled metric's value from /metrics (NaN when absent). */
export async function metric(url: string, name: string): Promise<number> {
  return (await metrics(url, [name]))[0] as number;
}

/**
 * Unlabelled metrics' values from one scrape of /metrics (NaN when absent).
 * One scrape for all: prom-client resets the event-loop histogram at each,
 * so a second scraper would read the empty window the first one left.
 */
export async function metrics(url: string, names: readonly string[]): Promise<number[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return names.map((name) => {
    const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  });
}

/** Rows of the SQLite store's `rooms` table, read from its file without writing. */
export function roomRows(dbFile: string): number {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM rooms').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
