/**
 * `npm run cluster -- --nodes 3`: Fiberchat as several processes on this
 * machine, the way it scales out. A throwaway PostgreSQL (the source of
 * order) and a redis-server (hints) start on free loopback ports, then N
 * nodes (each binds a port of its own choosing and reports it), then HAProxy
 * (sticky for long-polling, health checks on /healthz) in front of them; the
 * chat is served on PORT (default 3000) through HAProxy. The nodes run with
 * DRAIN_MS=1500, TRUST_PROXY=loopback and STORE_CHECK_MS=1000 (see
 * scripts/cluster-lib.ts, which tests drive the same way).
 * DATA_DIR/cluster.json lists every process started.
 * Ctrl-C or SIGTERM stops the nodes first, then HAProxy, Redis, PostgreSQL;
 * PostgreSQL's data goes with it.
 *
 * Installs nothing: a missing binary stops it with the Debian package to
 * install (or run `bash scripts/ensure-test-deps.sh`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster, type ClusterFile } from './cluster-lib.ts';
import { MissingBinaryError, findBinary, isAlive, postgresBinDir } from './services/index.ts';
import { canConnect } from './services/process.ts';

const root = resolve(import.meta.dirname, '..');

function usage(): never {
  console.log('usage: npm run cluster -- [--nodes N]   (N from 1 to 16, default 3; PORT, DATA_DIR and LOG_LEVEL from the environment; other settings pass to every node)');
  process.exit(0);
}

function say(line: string): void {
  console.log(`[cluster] ${line}`);
}

/** pino's numeric levels. */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type Level = keyof typeof LEVELS;

/** A log line's pino level; lines that are not pino JSON (a stack trace on stderr) are always shown. */
function levelOf(line: string): number {
  const m = /^\{"level":(\d+)/.exec(line);
  return m ? Number(m[1]) : Infinity;
}

function parse(): { nodes: number; port: number; dataDir: string; logLevel: Level } {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '3' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) usage();
  const nodes = Number(values.nodes);
  const port = Number(process.env.PORT || 3000);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new Error(`--nodes must be a whole number from 1 to 16, not ${values.nodes}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number, not ${process.env.PORT}`);
  const logLevel = (process.env.LOG_LEVEL || 'info') as Level;
  if (!(logLevel in LEVELS)) throw new Error(`LOG_LEVEL must be one of ${Object.keys(LEVELS).join(', ')}, not ${logLevel}`);
  return { nodes, port, dataDir: resolve(process.env.DATA_DIR || './data'), logLevel };
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

async function main(): Promise<void> {
  const opts = parse();
  const clusterFile = join(opts.dataDir, 'cluster.json');
  const started: { cluster?: Cluster } = {};
  let stopping: Promise<void> | undefined;
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      say(`stopping (${why})`);
      await started.cluster?.stop().catch((err: unknown) => console.error(`[cluster] while stopping: ${String(err)}`));
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

  // The launcher reads each node's port from its `listening` line (info): nodes log at info or finer,
  // and lines below the LOG_LEVEL asked for are not shown.
  const shown = LEVELS[opts.logLevel];
  const cluster = await Cluster.start({
    nodes: opts.nodes,
    port: opts.port,
    dataDir: opts.dataDir,
    env: { LOG_LEVEL: shown < LEVELS.info ? opts.logLevel : 'info' },
    onLine: (_node, line) => {
      if (levelOf(line) >= shown) console.log(line);
    },
    say,
  });
  started.cluster = cluster;
  const url = `http://localhost:${opts.port}`;
  cluster.writeClusterFile(clusterFile, url);
  for (const n of cluster.nodes) {
    void n.process?.exit.then(({ code, signal }) => {
      if (!stopping) say(`${n.name} exited (${signal ?? `code ${code}`}); HAProxy routes around it`);
    });
  }
  say(`${cluster.nodes.length} nodes ready: ${url}  (processes in ${clusterFile}; Ctrl-C stops them all)`);
}

main().catch((err: unknown) => {
  console.error(`[cluster] ${err instanceof MissingBinaryError || err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
