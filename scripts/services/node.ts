/**
 * A Fiberchat node as operators run it: `node --import tsx server/main.ts`
 * as our child process, configured by environment. It listens on the port
 * it is given, or on port 0 (any free port), and reports the port it bound
 * in its `listening` log line, which this reads: no port is picked by
 * closing a probe socket and hoping nobody takes it meanwhile. Like the
 * other services it has a process group of its own and is killed if we
 * exit first.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnService } from './process.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** How a node process ended: its exit code, or the signal that killed it. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Resolves when the process has exited. */
  exit: Promise<NodeExit>;
  /** The recent output (both streams), for failure messages. */
  log(): string;
}

export interface NodeOptions {
  /** Environment on top of ours (an undefined value removes a variable); PORT is set here, HOST defaults to 127.0.0.1. */
  env: Record<string, string | undefined>;
  /** The checkout whose server to start (default: this one); it must have its own node_modules. */
  cwd?: string;
  /** 0 (the default) lets the OS choose; pass the port of an earlier run to restart on it. */
  port?: number;
  /** Bound on the start, in ms (default 30 000: tsx compiles the server on a busy machine). */
  timeoutMs?: number;
  /** Every output line as it comes (the launcher prints them). */
  onLine?: (line: string) => void;
  /** Lines of output kept for `log()` (default 400). */
  keepLines?: number;
}

/**
 * Starts a node and resolves once it listens, with the port it bound.
 * Rejects (and kills it) if it exits first or does not listen in time.
 */
export function startNode(opts: NodeOptions): Promise<NodeProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...opts.env, PORT: String(opts.port ?? 0) };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawnService(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    pipe: true,
    exitSignal: 'SIGKILL',
    spawn: { cwd: opts.cwd ?? repoRoot, env },
  });
  const keep = opts.keepLines ?? 400;
  const lines: string[] = [];
  const exit = new Promise<NodeExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const log = () => lines.join('\n');
  let port: number | undefined;
  let resolveListening: (p: number) => void = () => undefined;
  const listening = new Promise<number>((resolve) => (resolveListening = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > keep) lines.shift();
        opts.onLine?.(line);
        if (port === undefined && stream === child.stdout) {
          port = listeningPort(line);
          if (port !== undefined) resolveListening(port);
        }
      }
    });
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the node did not listen within ${timeoutMs} ms:\n${log()}`));
    }, timeoutMs);
    void listening.then((p) => {
      clearTimeout(timer);
      resolve({ child, pid: child.pid as number, port: p, url: `http://127.0.0.1:${p}`, exit, log });
    });
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the node exited during start (${signal ?? `code ${code}`}):\n${log()}`));
    });
  });
}

/**
 * The port in a `listening` log line (pino JSON): its `port`, or the port of
 * its `url` (older servers, which a before/after comparison may start,
 * logged only the url); undefined for any other line.
 */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const rec = JSON.parse(line) as { msg?: string; port?: number; url?: string };
    if (rec.msg !== 'listening') return undefined;
    if (typeof rec.port === 'number') return rec.port;
    const fromUrl = typeof rec.url === 'string' ? Number(new URL(rec.url).port) : Number.NaN;
    return fromUrl > 0 ? fromUrl : undefined;
  } catch {
    return undefined;
  }
}
