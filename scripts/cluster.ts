/**
 * `npm run cluster -- --nodes 3`: Fiberchat as several processes on this
 * machine, the way it scales out. A throwaway PostgreSQL (the source of
 * order), a redis-server (hints) and HAProxy (sticky for long-polling) start
 * on free loopback ports, then N nodes; the chat is served on PORT (default
 * 3000) through HAProxy. DATA_DIR/cluster.json lists every process started.
 * Ctrl-C or SIGTERM stops the nodes first, then HAProxy, Redis, PostgreSQL;
 * PostgreSQL's data goes with it.
 *
 * Installs nothing: a missing binary stops it with the Debian package to
 * install (or run `bash scripts/ensure-test-deps.sh`).
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  MissingBinaryError,
  findBinary,
  freePort,
  isAlive,
  postgresBinDir,
  startHaproxy,
  startPostgres,
  startRedis,
  type HaproxyService,
  type PostgresService,
  type RedisService,
} from './services/index.ts';
import { canConnect, spawnService, stopChild, waitUntil } from './services/process.ts';

const root = resolve(import.meta.dirname, '..');

interface Node {
  name: string;
  port: number;
  child: ChildProcess;
}

interface Started {
  postgres?: PostgresService;
  redis?: RedisService;
  haproxy?: HaproxyService;
  nodes: Node[];
}

/** What DATA_DIR/cluster.json holds: enough to find, inspect or stop every process by hand. */
interface ClusterFile {
  url: string;
  startedAt: string;
  processes: Array<{ name: string; pid: number; port: number; url?: string }>;
}

function usage(): never {
  console.log('usage: npm run cluster -- [--nodes N]   (N from 1 to 16, default 3; PORT, DATA_DIR and LOG_LEVEL from the environment)');
  process.exit(0);
}

function say(line: string): void {
  console.log(`[cluster] ${line}`);
}

function parse(): { nodes: number; port: number; dataDir: string } {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '3' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) usage();
  const nodes = Number(values.nodes);
  const port = Number(process.env.PORT || 3000);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new Error(`--nodes must be a whole number from 1 to 16, not ${values.nodes}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number, not ${process.env.PORT}`);
  return { nodes, port, dataDir: resolve(process.env.DATA_DIR || './data') };
}

/** Refuses to start over a cluster that is still running from this DATA_DIR. */
function checkNotRunning(file: string): void {
  if (!existsSync(file)) return;
  const previous = JSON.parse(readFileSync(file, 'utf8')) as ClusterFile;
  const alive = previous.processes.filter((p) => isAlive(p.pid));
  if (alive.length > 0) {
    throw new Error(`a cluster from ${file} still runs (${alive.map((p) => `${p.name} pid ${p.pid}`).join(', ')}); stop it first`);
  }
}

function buildClientIfMissing(): void {
  if (existsSync(join(root, 'dist', 'client', 'index.html'))) return;
  say('building the client (dist/client is missing)');
  const r = spawnSync('npx', ['vite', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the client build failed');
}

async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const child = spawnService(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts')], {
    exitSignal: 'SIGKILL',
    spawn: { cwd: root, env: { ...process.env, ...env, NODE_ID: name, PORT: String(port), HOST: '127.0.0.1' } },
  });
  await waitUntil(name, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { timeoutMs: 30_000, child });
  return { name, port, child };
}

/** Nodes first (SIGTERM: they drain their rooms), then HAProxy, Redis, PostgreSQL. */
async function stopAll(s: Started): Promise<void> {
  await Promise.all(s.nodes.map((n) => stopChild(n.child, 'SIGTERM', 10_000)));
  await s.haproxy?.dispose();
  await s.redis?.dispose();
  await s.postgres?.stop('fast');
  await s.postgres?.dispose();
}

async function main(): Promise<void> {
  const opts = parse();
  const clusterFile = join(opts.dataDir, 'cluster.json');
  const started: Started = { nodes: [] };
  let stopping: Promise<void> | undefined;
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      say(`stopping (${why})`);
      await stopAll(started).catch((err: unknown) => console.error(`[cluster] while stopping: ${String(err)}`));
      rmSync(clusterFile, { force: true });
      say('stopped');
      process.exit(code);
    })();
  };
  // A closed terminal or pipe must not crash us before the services are stopped.
  for (const out of [process.stdout, process.stderr]) out.on('error', () => undefined);
  // Registered before any service starts, so ours, not the services' defaults, handle signals.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig, 0));

  checkNotRunning(clusterFile);
  // Every binary before anything starts: a missing one is a message, not a half-started cluster.
  postgresBinDir();
  findBinary('redis-server', 'redis-server');
  findBinary('haproxy', 'haproxy');
  if (await canConnect(opts.port)) throw new Error(`port ${opts.port} is in use; set PORT to another`);
  buildClientIfMissing();
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });

  try {
    say('starting PostgreSQL');
    started.postgres = await startPostgres();
    say('starting redis-server');
    started.redis = await startRedis();
    // One secret for all: a session made on one node is valid on every other.
    const env = {
      DATABASE_URL: started.postgres.url,
      REDIS_URL: started.redis.url,
      SESSION_SECRET: randomBytes(32).toString('hex'),
    };
    for (let i = 1; i <= opts.nodes; i++) {
      const name = `node-${i}`;
      say(`starting ${name}`);
      // DATA_DIR per node: nothing in it is shared (the secret comes from the environment).
      started.nodes.push(await startNode(name, { ...env, DATA_DIR: join(opts.dataDir, name) }));
    }
    say(`starting HAProxy on port ${opts.port}`);
    started.haproxy = await startHaproxy({ port: opts.port, backends: started.nodes.map((n) => ({ name: n.name, port: n.port })) });
  } catch (err) {
    await stopAll(started);
    throw err;
  }

  const { postgres, redis, haproxy, nodes } = started as Required<Started>;
  const url = `http://localhost:${opts.port}`;
  await waitUntil('the chat through HAProxy', async () => (await fetch(`${haproxy.url}/healthz`)).ok, { timeoutMs: 20_000 });
  const file: ClusterFile = {
    url,
    startedAt: new Date().toISOString(),
    processes: [
      { name: 'postgres', pid: postgres.pid as number, port: postgres.port, url: postgres.url },
      { name: 'redis', pid: redis.pid as number, port: redis.port, url: redis.url },
      { name: 'haproxy', pid: haproxy.pid as number, port: haproxy.port, url },
      ...nodes.map((n) => ({ name: n.name, pid: n.child.pid as number, port: n.port, url: `http://127.0.0.1:${n.port}` })),
    ],
  };
  writeFileSync(clusterFile, `${JSON.stringify(file, null, 2)}\n`);
  for (const n of nodes) {
    n.child.once('exit', (code, signal) => {
      if (!stopping) say(`${n.name} exited (${signal ?? `code ${code}`}); HAProxy routes around it`);
    });
  }
  say(`${nodes.length} nodes ready: ${url}  (processes in ${clusterFile}; Ctrl-C stops them all)`);
}

main().catch((err: unknown) => {
  console.error(`[cluster] ${err instanceof MissingBinaryError || err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
