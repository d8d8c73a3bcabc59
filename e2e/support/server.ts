/**
 * A real Fiberchat server for end-to-end tests: a child process on a free
 * port with its own data directory, which a test can stop gracefully
 * (SIGTERM), kill (SIGKILL) or restart on the same port and data.
 * Every process started here is ended when its test file finishes or the
 * worker exits, so no server outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base } from '@playwright/test';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** How long a server may take to answer /healthz after spawning (tsx compiles on start). */
const START_TIMEOUT_MS = 20_000;
/** How long a graceful stop may take before the test fails it with SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Asks the OS for a free port: listen on 0, read it, close, reuse the number. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export class TestServer {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private output: string[] = [];

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  /** Starts a server on a free port with a fresh data directory. */
  static async create(): Promise<TestServer> {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'fiberchat-e2e-'));
    const server = new TestServer(port, dataDir);
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Spawns the server (same port and data directory every time) and waits until healthy. */
  async start(): Promise<void> {
    if (this.child) throw new Error('server already running');
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATA_DIR: this.dataDir,
        LOG_LEVEL: 'warn',
        // Seeding a long history through the REST API would otherwise wait on the per-user send limit.
        SEND_RATE: '2000',
        SEND_BURST: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        if (this.child === child) this.child = null;
        resolve(code);
      });
    });
    await this.waitHealthy(child);
  }

  private async waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`server exited during start (code ${child.exitCode}):\n${this.log()}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`server not healthy after ${START_TIMEOUT_MS} ms:\n${this.log()}`);
  }

  /** Graceful shutdown (SIGTERM); resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Abrupt death (SIGKILL): nothing acked may be lost. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops (gracefully, or with SIGKILL when `hard`) and starts again on the same port and data. */
  async restart(opts: { hard?: boolean } = {}): Promise<void> {
    if (opts.hard) await this.kill();
    else await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its data directory. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** The server's recent output, for failure messages. */
  log(): string {
    return this.output.join('');
  }
}

/** One server per test file: a worker keeps the current file's server and replaces it when the file changes. */
class ServerPool {
  private current: { file: string; server: TestServer } | null = null;

  async forFile(file: string): Promise<TestServer> {
    if (this.current?.file !== file) {
      await this.current?.server.dispose();
      this.current = { file, server: await TestServer.create() };
    }
    // A previous test may have stopped it; tests always start with a running server.
    if (!this.current.server.running) await this.current.server.start();
    return this.current.server;
  }

  async close(): Promise<void> {
    await this.current?.server.dispose();
    this.current = null;
  }
}

export const test = base.extend<{ server: TestServer }, { serverPool: ServerPool }>({
  serverPool: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const pool = new ServerPool();
      await use(pool);
      await pool.close();
    },
    { scope: 'worker' },
  ],
  server: async ({ serverPool }, use, testInfo) => {
    const server = await serverPool.forFile(testInfo.file);
    await use(server);
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('server-log', { body: server.log(), contentType: 'text/plain' });
    }
  },
  baseURL: async ({ server }, use) => {
    await use(server.url);
  },
});

export { expect } from '@playwright/test';
