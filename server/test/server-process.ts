/**
 * The server as operators run it, for tests: `node --import tsx
 * server/main.ts` as a child process, configured by environment. It listens
 * on the port it is given, or on port 0 (any free port), and reports the
 * port it bound in its `listening` log line, which this reads: no port is
 * picked by closing a probe socket and hoping nobody takes it meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** The recent output, for failure messages. */
  log(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts the server and resolves once it listens. `port` 0 (the default)
 * lets the OS choose; pass the port of an earlier run to restart on it.
 */
export function spawnServer(opts: {
  /** Added to this process's environment; an undefined value removes a variable. */
  env: Record<string, string | undefined>;
  port?: number;
  timeoutMs?: number;
  /** The checkout whose server to start (default: this one); it must have its own node_modules. */
  cwd?: string;
}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...opts.env, PORT: String(opts.port ?? 0) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const log = () => output.join('');
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${opts.timeoutMs ?? 20_000} ms:\n${log()}`));
    }, opts.timeoutMs ?? 20_000);
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 400) output.shift();
    };
    child.stderr?.on('data', keep);
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (!pending.includes('\u0000')) {
        pending += chunk.toString();
        const port = listeningPort(pending);
        if (port !== undefined) {
          pending = '\u0000'; // found: stop scanning
          clearTimeout(timer);
          resolve({ child, port, url: `http://127.0.0.1:${port}`, exited, log });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited during start (code ${code}):\n${log()}`));
    });
  });
}

/**
 * The port from the server's `listening` log line (pino JSON), once it has
 * been printed: its `port`, or the port of its `url` (older servers, which a
 * before/after comparison may start, logged only the url).
 */
function listeningPort(out: string): number | undefined {
  for (const line of out.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; port?: number; url?: string };
      if (rec.msg !== 'listening') continue;
      if (typeof rec.port === 'number') return rec.port;
      const fromUrl = typeof rec.url === 'string' ? Number(new URL(rec.url).port) : NaN;
      if (fromUrl > 0) return fromUrl;
    } catch {
      // A partial line: wait for the rest.
    }
  }
  return undefined;
}
