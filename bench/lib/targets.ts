/**
 * The servers under test, started the same way: a child process in its own
 * group, pinned to the server core, on a free loopback port, ready when
 * GET /healthz answers 200. Their /metrics speak the same names.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { request } from '../gen/wire.ts';
import { CORES, cpuSeconds, machineBusySeconds, rssBytes, start, stop } from './proc.ts';
import { sleep } from './stats.ts';

/**
 * `ws` is the raw-ws peer with one frame per message; `wsbatch` is the same
 * peer with one frame per room per turn (the batching ceiling).
 */
export type TargetName = 'fiberchat' | 'socketio' | 'ws' | 'wsbatch';
export const TARGETS: readonly TargetName[] = ['fiberchat', 'socketio', 'ws', 'wsbatch'];
/** Servers the bench starts: the targets, and peers of one scenario only (the upload scenario's plain Fastify). */
export type ServerName = TargetName | 'fastify-upload';
export const LABEL: Record<TargetName, string> = {
  fiberchat: 'Fiberchat',
  socketio: 'plain socket.io',
  ws: 'raw ws',
  wsbatch: 'raw ws batched',
};
/** The target every figure is also divided by: what Node does here with Fiberchat's batching and nothing else. */
export const CEILING: TargetName = 'wsbatch';
/** Transports each target speaks (the raw peers: WebSocket only). */
export const TRANSPORTS: Record<TargetName, ReadonlyArray<'websocket' | 'polling' | 'ajax'>> = {
  fiberchat: ['websocket', 'polling', 'ajax'],
  socketio: ['websocket', 'polling'], // no REST API
  ws: ['websocket'],
  wsbatch: ['websocket'],
};

export interface Target {
  name: ServerName;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Tokens to share among connections, and one per publisher. */
  tokens: string[];
  publisherTokens: string[];
  inspectPort: number | undefined;
  close(): Promise<void>;
}

export interface StartTargetOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Open the inspector on loopback so the bench can force a GC before measuring memory. */
  inspect?: boolean;
  env?: NodeJS.ProcessEnv;
}

const ENTRY: Record<ServerName, string> = {
  fiberchat: 'server/main.ts',
  'fastify-upload': 'bench/peers/upload-peer.ts',
  socketio: 'bench/peers/socketio-peer.ts',
  ws: 'bench/peers/ws-peer.ts',
  wsbatch: 'bench/peers/ws-peer.ts',
};

const PEER_ENV: Partial<Record<ServerName, NodeJS.ProcessEnv>> = { wsbatch: { PEER_BATCH: 'turn' } };

export async function startTarget(name: ServerName, opts: StartTargetOptions = {}): Promise<Target> {
  const dataDir = name === 'fiberchat' ? mkdtempSync(join(tmpdir(), 'fiberchat-bench-')) : undefined;
  const lifted = '1000000';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    // Every server binds any free port and prints it (no port is picked by a probe that could race).
    PORT: '0',
    HOST: '127.0.0.1',
    // The listening line (with the port) is at info; request logging is off.
    LOG_LEVEL: 'info',
    ...(dataDir
      ? {
          DATA_DIR: dataDir,
          // Load, not abuse: lift the per-user, per-address and per-room budgets a browser never reaches
          // (the generator's thousands of connections share a few identities and 50 addresses).
          SEND_RATE: lifted,
          SEND_BURST: lifted,
          SEND_ADDRESS_RATE: lifted,
          SEND_ADDRESS_BURST: lifted,
          SEND_ROOM_RATE: lifted,
          SEND_ROOM_BURST: lifted,
          JOIN_RATE: lifted,
          JOIN_BURST: lifted,
          READ_RATE: lifted,
          READ_BURST: lifted,
          READ_BYTES_RATE: String(1024 ** 3),
          READ_BYTES_BURST: String(1024 ** 3),
          SESSION_RATE_PER_MIN: lifted,
          SESSION_BURST: lifted,
          MAX_CONNECTIONS_PER_ADDRESS: lifted,
          MAX_CONNECTIONS_PER_IDENTITY: lifted,
          MAX_ROOMS_PER_IDENTITY: lifted,
          MAX_ROOMS_PER_ADDRESS: lifted,
          STREAM_TICKET_RATE: lifted,
          MAX_IN_FLIGHT: '65536',
          MAX_OUTBOUND_BYTES: String(8 * 1024 * 1024),
        }
      : {}),
    ...PEER_ENV[name],
    ...opts.env,
  };
  const flags = [...(opts.nodeFlags ?? []), ...(opts.inspect ? ['--inspect=127.0.0.1:0'] : [])];
  const child = start(process.execPath, [...flags, '--import', 'tsx', ENTRY[name]], {
    core: CORES.server,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  child.stdout?.on('data', (d: Buffer) => {
    if (stdout.length < 20_000) stdout += d.toString();
  });
  let closing = false;
  child.once('exit', (code, signal) => {
    if (!closing) console.error(`  ${name} exited unexpectedly (${code ?? signal}): ${stderr.slice(-3000)}`);
  });
  const t0 = Date.now();
  let port = 0;
  let inspectPort: number | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start (${child.exitCode}): ${stderr.slice(-2000)}`);
    port ||= listeningPort(stdout);
    if (opts.inspect) inspectPort ??= Number(/Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1]) || undefined;
    if (port > 0 && (!opts.inspect || inspectPort)) {
      try {
        if ((await request(port, 'GET', '/healthz', { timeoutMs: 1000 })).status === 200) break;
      } catch {
        // not answering yet
      }
    }
    if (Date.now() - t0 > 30_000) {
      await stop(child, 'SIGKILL');
      throw new Error(`${name} not ready after 30 s: ${stderr.slice(-2000)}`);
    }
    await sleep(50);
  }
  const tokens: string[] = [];
  const publisherTokens: string[] = [];
  if (name === 'fiberchat') {
    for (let i = 0; i < 12; i++) {
      const r = await request(port, 'POST', '/api/session', {
        body: JSON.stringify({ name: i < 8 ? `reader-${i}` : `writer-${i - 8}` }),
        headers: { 'content-type': 'application/json' },
      });
      if (r.status !== 200) throw new Error(`session failed: ${r.status} ${r.body}`);
      (i < 8 ? tokens : publisherTokens).push((JSON.parse(r.body) as { token: string }).token);
    }
  } else {
    tokens.push('any');
    publisherTokens.push('any');
  }
  return {
    name,
    port,
    pid: child.pid as number,
    child,
    tokens,
    publisherTokens,
    inspectPort,
    async close() {
      closing = true;
      await stop(child, 'SIGTERM', 8000);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ServerSample {
  at: number;
  cpuSeconds: number;
  /** Busy CPU seconds of the whole machine, to show load from outside the bench. */
  machineBusySeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay p99 since the previous scrape, ms (the histogram resets on each scrape). */
  eldP99Ms: number;
  /** Messages committed to the store so far (Fiberchat's counter; NaN for the peers, which store nothing). */
  messagesCommitted: number;
  /** Store transactions that committed room batches so far, and the rooms they held (Fiberchat's histogram; NaN for the peers). */
  storeCommits: number;
  storeCommitRooms: number;
  /** Total time (s) the oldest commit of each transaction waited for its group. */
  storeCommitWaitSeconds: number;
}

/** CPU from /proc; RSS, heap and event-loop delay from the target's /metrics. */
export async function sample(t: Target): Promise<ServerSample> {
  // A pooled keep-alive socket may be closed by the server just as it is reused; retry once.
  const r = await request(t.port, 'GET', '/metrics', { timeoutMs: 10_000 }).catch(() =>
    request(t.port, 'GET', '/metrics', { timeoutMs: 10_000 }),
  );
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(r.body);
    return m ? Number(m[1]) : NaN;
  };
  return {
    at: Date.now(),
    cpuSeconds: cpuSeconds(t.pid),
    machineBusySeconds: machineBusySeconds(),
    rssBytes: rssBytes(t.pid),
    heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
    eldP99Ms: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
    messagesCommitted: metric('fiberchat_messages_total'),
    storeCommits: metric('fiberchat_store_commit_rooms_count'),
    storeCommitRooms: metric('fiberchat_store_commit_rooms_sum'),
    storeCommitWaitSeconds: metric('fiberchat_store_commit_wait_seconds_sum'),
  };
}

/** Server CPU between two samples, as a fraction of one core. */
export function serverCpu(a: ServerSample, b: ServerSample): number {
  return (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000);
}

/**
 * CPU used on the machine by everything but the server and the generator
 * (cores): other work sharing the machine, which makes absolute figures drift.
 */
export function backgroundCpu(a: ServerSample, b: ServerSample, generatorCpu: number): number {
  const secs = (b.at - a.at) / 1000;
  return Math.max(0, (b.machineBusySeconds - a.machineBusySeconds) / secs - serverCpu(a, b) - generatorCpu);
}

/** A Chrome DevTools Protocol session on the target's inspector (loopback only). */
export async function inspector(t: Target): Promise<{ call(method: string, params?: object): Promise<Record<string, unknown>>; close(): void }> {
  if (!t.inspectPort) throw new Error(`${t.name} was not started with inspect: true`);
  const list = JSON.parse((await request(t.inspectPort, 'GET', '/json/list')).body) as Array<{ webSocketDebuggerUrl: string }>;
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`${t.name}: no inspector target`);
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 1;
  return {
    call(method, params = {}) {
      const id = next++;
      return new Promise((resolve) => {
        const onMsg = (d: Buffer) => {
          const m = JSON.parse(d.toString()) as { id?: number; result?: Record<string, unknown> };
          if (m.id !== id) return;
          ws.off('message', onMsg);
          resolve(m.result ?? {});
        };
        ws.on('message', onMsg);
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

/** Forces a full GC in the target through its inspector (memory figures without garbage). */
export async function collectGarbage(t: Target): Promise<void> {
  if (!t.inspectPort) return;
  const session = await inspector(t);
  for (let i = 0; i < 2; i++) await session.call('HeapProfiler.collectGarbage');
  session.close();
  await sleep(200);
}

/** The port from a `listening` JSON line (Fiberchat's pino line, or the peers' own). */
function listeningPort(out: string): number {
  for (const line of out.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; port?: number };
      if (rec.msg === 'listening' && typeof rec.port === 'number') return rec.port;
    } catch {
      // a partial line
    }
  }
  return 0;
}
