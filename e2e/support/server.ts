/**
 * A real Fiberchat server for end-to-end tests: a child process with its own
 * data directory, which a test can stop gracefully (SIGTERM), kill (SIGKILL)
 * or restart on the same port and data. The first start binds port 0 and
 * reads the port the server reports; restarts reuse it.
 * Every process started here is ended when its test file finishes or the
 * worker exits, so no server outlives the run.
 *
 * With E2E_CLUSTER=1 (playwright.cluster.config.ts) each test file gets a
 * cluster instead (PostgreSQL, Redis, three nodes, HAProxy in front; see
 * cluster-server.ts) behind the same interface.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';
import { spawnServer } from '../../server/test/server-process.ts';
import { ClusterTestServer } from './cluster-server.ts';

export { repoRoot } from '../../server/test/server-process.ts';

/** How long a graceful stop may take before the test fails it with SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/** What a test can do to "the server", whether it is one process or a cluster. */
export interface ChatServer {
  /** Where browsers connect: the server, or the cluster's HAProxy. */
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Starts what is stopped and waits until it serves. */
  start(): Promise<void>;
  /** Graceful shutdown (SIGTERM); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Abrupt death (SIGKILL): nothing acked may be lost. */
  kill(): Promise<void>;
  restart(opts?: { hard?: boolean }): Promise<void>;
  /** Stops everything and deletes its data. */
  dispose(): Promise<void>;
  /** Recent output, for failure messages. */
  log(): string;
}

/** The server's settings for browser tests. */
export const E2E_ENV: Record<string, string> = {
  // Seeding a long history through the REST API would otherwise wait on the per-user send limit.
  SEND_RATE: '2000',
  SEND_BURST: '2000',
  SEND_ADDRESS_RATE: '2000',
  SEND_ADDRESS_BURST: '2000',
  // Every browser of a test comes from 127.0.0.1, and each person is a new session.
  SESSION_RATE_PER_MIN: '10000',
  SESSION_BURST: '1000',
};

export class TestServer implements ChatServer {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private log_: () => string = () => '';
  private boundPort = 0;

  private constructor(readonly dataDir: string) {}

  /** Starts a server on a free port with a fresh data directory. */
  static async create(): Promise<TestServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'fiberchat-e2e-'));
    const server = new TestServer(dataDir);
    await server.start();
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Spawns the server (the same port, once it has one, and the same data directory) and waits until it listens. */
  async start(): Promise<void> {
    if (this.child) throw new Error('server already running');
    const proc = await spawnServer({
      port: this.boundPort,
      env: { DATA_DIR: this.dataDir, ...E2E_ENV },
    });
    this.boundPort = proc.port;
    this.child = proc.child;
    this.log_ = proc.log;
    this.exited = proc.exited.then((code) => {
      if (this.child === proc.child) this.child = null;
      return code;
    });
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
    return this.log_();
  }
}

/** One server per test file: a worker keeps the current file's server and replaces it when the file changes. */
class ServerPool {
  private current: { file: string; server: ChatServer } | null = null;

  async forFile(file: string): Promise<ChatServer> {
    if (this.current?.file !== file) {
      await this.current?.server.dispose();
      const server = process.env.E2E_CLUSTER === '1' ? await ClusterTestServer.create(E2E_ENV) : await TestServer.create();
      this.current = { file, server };
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

export const test = base.extend<{ server: ChatServer }, { serverPool: ServerPool }>({
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
