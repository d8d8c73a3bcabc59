/**
 * A Fiberchat cluster on this machine, as a library: a throwaway PostgreSQL
 * (the source of order), a redis-server (hints, presence, typing), N node
 * processes and HAProxy in front of them, all on loopback. `npm run
 * cluster` runs one for people; the cluster tests, the end-to-end fixture
 * and the bench drive one through this API: stop a node gracefully (SIGTERM,
 * it drains), kill one (SIGKILL), start it again on its port, stop or kill
 * PostgreSQL and Redis and bring them back.
 *
 * Every process is our child and stopped by its pid; if we exit first they
 * are killed (scripts/services/process.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  STICKY_COOKIE,
  startHaproxy,
  startNode,
  startPostgres,
  startRedis,
  type HaproxyService,
  type NodeExit,
  type NodeProcess,
  type PgStopMode,
  type PostgresService,
  type RedisService,
} from './services/index.ts';
import { stopChild, waitUntil } from './services/process.ts';

export { STICKY_COOKIE } from './services/index.ts';

export interface ClusterOptions {
  /** How many nodes (1 to 16). */
  nodes: number;
  /** HAProxy's port (default: a free one). */
  port?: number;
  /** Each node's DATA_DIR is `<dataDir>/<node name>`; default: a temporary folder, removed by `stop()`. */
  dataDir?: string;
  /** Environment for every node on top of the cluster's own (budgets, LOG_LEVEL, …). */
  env?: Record<string, string>;
  /** DRAIN_MS of every node (default 1500: three of HAProxy's 500 ms health checks, so it has moved traffic away first). */
  drainMs?: number;
  /** STORE_CHECK_MS of every node (default 1000). */
  storeCheckMs?: number;
  /** Long-polling stickiness by cookie in HAProxy (default true; false only to show what breaks without it). */
  stickiness?: boolean;
  /** Every output line of every node as it comes. */
  onLine?: (node: string, line: string) => void;
  /** Progress, for people watching a start. */
  say?: (line: string) => void;
}

/** One node of the cluster: its name (also its HAProxy cookie value) and port stay across restarts. */
export interface ClusterNode {
  readonly index: number;
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:<port>: the node itself, bypassing HAProxy. */
  readonly url: string;
  /** The running process, if any. */
  readonly process: NodeProcess | undefined;
  readonly running: boolean;
  readonly pid: number | undefined;
}

/** What a graceful stop came to. */
export interface StopResult extends NodeExit {
  /** From SIGTERM to the exit. */
  ms: number;
}

/** What cluster.json holds: enough to find, inspect or stop every process by hand. */
export interface ClusterFile {
  url: string;
  startedAt: string;
  processes: Array<{ name: string; pid: number; port: number; url?: string }>;
}

class NodeSlot implements ClusterNode {
  process: NodeProcess | undefined;
  port = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    const c = this.process?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.process?.pid : undefined;
  }
}

export class Cluster {
  readonly nodes: readonly ClusterNode[];
  /** Session tokens made on one node are valid on every other: they share this secret. */
  readonly sessionSecret: string;
  readonly startedAt = new Date();
  private readonly slots: NodeSlot[];

  private constructor(
    readonly postgres: PostgresService,
    readonly redis: RedisService,
    private proxy: HaproxyService | undefined,
    slots: NodeSlot[],
    secret: string,
    private readonly opts: ClusterOptions,
    private readonly ownDataDir: string | undefined,
  ) {
    this.slots = slots;
    this.nodes = slots;
    this.sessionSecret = secret;
  }

  /**
   * Starts PostgreSQL and Redis, then every node (port 0: each reports the
   * port it bound), then HAProxy in front of them; resolves once HAProxy
   * has every node in rotation. Anything started is stopped if a later
   * step fails.
   */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 16) throw new Error(`nodes must be 1 to 16, not ${opts.nodes}`);
    const say = opts.say ?? (() => undefined);
    const ownDataDir = opts.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'fiberchat-cluster-')) : undefined;
    const dataDir = opts.dataDir ?? (ownDataDir as string);
    let postgres: PostgresService | undefined;
    let redis: RedisService | undefined;
    const slots: NodeSlot[] = [];
    try {
      say('starting PostgreSQL and redis-server');
      [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
      const secret = randomBytes(32).toString('hex');
      const common: Record<string, string> = {
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        SESSION_SECRET: secret,
        DRAIN_MS: String(opts.drainMs ?? 1500),
        STORE_CHECK_MS: String(opts.storeCheckMs ?? 1000),
        // HAProxy on loopback forwards the client's address in X-Forwarded-For (option forwardfor).
        TRUST_PROXY: 'loopback',
        ...opts.env,
      };
      for (let i = 0; i < opts.nodes; i++) {
        const name = `node-${i + 1}`;
        // DATA_DIR per node: nothing in it is shared (the secret comes from the environment).
        const nodeDir = join(dataDir, name);
        mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
        slots.push(new NodeSlot(i, name, { ...common, NODE_ID: name, DATA_DIR: nodeDir }));
      }
      const cluster = new Cluster(postgres, redis, undefined, slots, secret, opts, ownDataDir);
      say(`starting ${slots.map((s) => s.name).join(', ')}`);
      await Promise.all(slots.map((s) => cluster.spawn(s)));
      say('starting HAProxy');
      cluster.proxy = await startHaproxy({
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        stickiness: opts.stickiness ?? true,
        backends: slots.map((s) => ({ name: s.name, port: s.port })),
      });
      for (const s of slots) await cluster.waitInRotation(s.index, true);
      return cluster;
    } catch (err) {
      await Promise.all(slots.map((s) => (s.process ? stopChild(s.process.child, 'SIGKILL') : undefined)));
      await redis?.dispose();
      await postgres?.dispose();
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      throw err;
    }
  }

  get haproxy(): HaproxyService {
    if (!this.proxy) throw new Error('HAProxy is not started');
    return this.proxy;
  }

  /** The chat through HAProxy: http://127.0.0.1:<port>. */
  get url(): string {
    return this.haproxy.url;
  }

  node(i: number): ClusterNode {
    return this.slot(i);
  }

  /** The Cookie header that pins a client to node `i` through HAProxy (long-polling's stickiness). */
  cookieFor(i: number): string {
    return `${STICKY_COOKIE}=${this.slot(i).name}`;
  }

  /** Starts node `i` again, on its port and data folder, and waits until HAProxy has it in rotation. */
  async startNode(i: number): Promise<void> {
    const s = this.slot(i);
    if (s.running) throw new Error(`${s.name} is running`);
    await this.spawn(s);
    await this.waitInRotation(i, true);
  }

  /**
   * SIGTERM to node `i` by pid: it drains (DRAIN_MS of 503 on /healthz while
   * it keeps serving), then shuts down. Resolves with how it exited and how
   * long it took; SIGKILL after `killAfterMs` (default 30 s).
   */
  async stopNode(i: number, killAfterMs = 30_000): Promise<StopResult> {
    const s = this.slot(i);
    const p = s.process;
    if (!p || !s.running) throw new Error(`${s.name} is not running`);
    const t0 = Date.now();
    await stopChild(p.child, 'SIGTERM', killAfterMs);
    return { ...(await p.exit), ms: Date.now() - t0 };
  }

  /** SIGKILL to node `i` by pid, as a crash: no drain, no goodbye. */
  async killNode(i: number): Promise<void> {
    const s = this.slot(i);
    if (s.process) await stopChild(s.process.child, 'SIGKILL');
  }

  /** Stops PostgreSQL (`immediate`: like a crash, recovery on the next start). Its data stays. */
  async stopPostgres(mode: PgStopMode = 'immediate'): Promise<void> {
    await this.postgres.stop(mode);
  }

  async startPostgres(): Promise<void> {
    await this.postgres.start();
  }

  /** SIGKILL to redis-server: every subscription and message in flight is gone. */
  async killRedis(): Promise<void> {
    await this.redis.kill();
  }

  /** Starts redis-server again on its port, empty. */
  async startRedis(): Promise<void> {
    await this.redis.start();
  }

  async flushRedis(): Promise<void> {
    await this.redis.flushAll();
  }

  /**
   * Whether HAProxy routes node `i`'s clients to it: a request carrying its
   * cookie stays there, while HAProxy answers a cookie for a node that is
   * out of rotation by sending the request elsewhere with a new cookie.
   */
  async inRotation(i: number): Promise<boolean> {
    const res = await fetch(`${this.url}/healthz`, { headers: { cookie: this.cookieFor(i) } });
    await res.arrayBuffer();
    const moved = res.headers.get('set-cookie');
    return res.status !== 503 && !(moved?.startsWith(`${STICKY_COOKIE}=`) ?? false);
  }

  /** Waits until HAProxy has node `i` in rotation (or out of it). */
  async waitInRotation(i: number, wanted: boolean, timeoutMs = 15_000): Promise<void> {
    if (this.opts.stickiness === false) {
      // Without cookies nothing says where a request went; HAProxy's checks take two 500 ms intervals.
      await new Promise((r) => setTimeout(r, 1500));
      return;
    }
    await waitUntil(`${this.slot(i).name} ${wanted ? 'in' : 'out of'} rotation`, async () => (await this.inRotation(i)) === wanted, { timeoutMs });
  }

  /** Node `i`'s Prometheus text (loopback clients need no token). */
  async metricsText(i: number): Promise<string> {
    const res = await fetch(`${this.slot(i).url}/metrics`);
    if (!res.ok) throw new Error(`${this.slot(i).name} /metrics: ${res.status}`);
    return res.text();
  }

  /**
   * One sample of node `i`'s metric: the first whose labels include
   * `labels` (written `{transport="websocket"}`, or '' for any); NaN when
   * there is none (a labelled counter appears once counted).
   */
  async metric(i: number, name: string, labels = ''): Promise<number> {
    const text = await this.metricsText(i);
    const wanted = labels.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = (m[2] ?? '').split(',');
      if (wanted.every((l) => have.includes(l))) return Number(m[3]);
    }
    return Number.NaN;
  }

  /** Node `i`'s resident memory in bytes, from /proc (NaN when it is not running). */
  rssBytes(i: number): number {
    const pid = this.slot(i).pid;
    if (pid === undefined) return Number.NaN;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  }

  /** Every process running now, for cluster.json. */
  describe(publicUrl = this.url): ClusterFile {
    const pg = this.postgres;
    const redis = this.redis;
    const processes: ClusterFile['processes'] = [];
    if (pg.pid !== undefined) processes.push({ name: 'postgres', pid: pg.pid, port: pg.port, url: pg.url });
    if (redis.pid !== undefined) processes.push({ name: 'redis', pid: redis.pid, port: redis.port, url: redis.url });
    if (this.proxy?.pid !== undefined) processes.push({ name: 'haproxy', pid: this.proxy.pid, port: this.proxy.port, url: publicUrl });
    for (const s of this.slots) if (s.pid !== undefined) processes.push({ name: s.name, pid: s.pid, port: s.port, url: s.url });
    return { url: publicUrl, startedAt: this.startedAt.toISOString(), processes };
  }

  writeClusterFile(file: string, publicUrl?: string): void {
    writeFileSync(file, `${JSON.stringify(this.describe(publicUrl), null, 2)}\n`);
  }

  /** Nodes first (SIGTERM: they drain their rooms), then HAProxy, Redis and PostgreSQL, whose data goes with it. */
  async stop(): Promise<void> {
    await Promise.all(this.slots.map((s) => (s.process ? stopChild(s.process.child, 'SIGTERM', 15_000) : undefined)));
    await this.proxy?.dispose();
    await this.redis.dispose();
    await this.postgres.stop('fast').catch(() => undefined);
    await this.postgres.dispose();
    if (this.ownDataDir) rmSync(this.ownDataDir, { recursive: true, force: true });
  }

  private slot(i: number): NodeSlot {
    const s = this.slots[i];
    if (!s) throw new Error(`no node ${i} (the cluster has ${this.slots.length})`);
    return s;
  }

  private async spawn(s: NodeSlot): Promise<void> {
    const onLine = this.opts.onLine;
    s.process = await startNode({ env: s.env, port: s.port, ...(onLine ? { onLine: (line: string) => onLine(s.name, line) } : {}) });
    s.port = s.process.port;
  }
}
