/**
 * A throwaway PostgreSQL: its own cluster in a fresh temporary folder,
 * listening on 127.0.0.1 only, on a free port. Durability settings are
 * PostgreSQL's defaults (fsync on, synchronous commits), so a test that
 * kills it mid-burst measures what a real deployment would keep.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { MissingBinaryError, findBinary, freePort, makeFolder, removeFolder, spawnService, stopChild, tail, waitUntil } from './process.ts';

const run = promisify(execFile);

/** How PostgreSQL stops: `fast` (SIGINT: roll back, checkpoint, exit) or `immediate` (SIGQUIT: like a crash; recovery on the next start). */
export type PgStopMode = 'fast' | 'immediate';

export interface PostgresOptions {
  /** Database to create (default `fiberchat`). */
  database?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Bound on each start, in ms (default 60 000: initdb on a busy machine is slow). */
  startTimeoutMs?: number;
}

/**
 * The folder with PostgreSQL's server binaries: `pg_config --bindir`, else
 * Debian's /usr/lib/postgresql/<newest version>/bin, else PATH.
 */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config is absent without libpq-dev or postgresql-common
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  for (const dir of candidates) if (existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'))) return dir;
  return findBinary('postgres', 'postgresql').replace(/\/postgres$/, '');
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user that Debian's package creates. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new MissingBinaryError('the postgres system user', 'postgresql');
  }
}

export class PostgresService {
  /** postgres://postgres@127.0.0.1:<port>/<database> (trust authentication, loopback only). */
  readonly url: string;
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly user: { uid: number; gid: number } | undefined,
    private readonly startTimeoutMs: number,
    database: string,
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/${database}`;
  }

  /** Creates a fresh cluster and database, and starts it. */
  static async create(opts: PostgresOptions = {}): Promise<PostgresService> {
    const bin = postgresBinDir();
    const user = runAs();
    const dir = makeFolder('fiberchat-pg-');
    const database = opts.database ?? 'fiberchat';
    const svc = new PostgresService(opts.port ?? (await freePort()), dir, bin, user, opts.startTimeoutMs ?? 60_000, database);
    try {
      mkdirSync(join(dir, 'run'));
      if (user) for (const d of [dir, join(dir, 'run')]) chownSync(d, user.uid, user.gid);
      await run(join(bin, 'initdb'), ['-D', svc.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C'], {
        cwd: dir,
        ...user,
      }).catch((err: { stderr?: string; message: string }) => {
        throw new Error(`initdb failed: ${err.stderr || err.message}`);
      });
      await svc.start();
      const admin = new pg.Client({ connectionString: svc.adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      } finally {
        await admin.end();
      }
      return svc;
    } catch (err) {
      await svc.dispose();
      throw err;
    }
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  private get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or restarts) on the same data folder and port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawnService(
      join(this.bin, 'postgres'),
      [
        '-D', this.dataDir,
        '-p', String(this.port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `unix_socket_directories=${join(this.dir, 'run')}`,
        '-c', 'synchronous_commit=on',
        '-c', 'logging_collector=off',
      ],
      // SIGQUIT is an immediate shutdown: the postmaster takes its backends down with it.
      { logFile: this.logFile, exitSignal: 'SIGQUIT', spawn: { cwd: this.dir, ...this.user } },
    );
    this.child = child;
    await waitUntil('PostgreSQL', () => this.accepts(), { timeoutMs: this.startTimeoutMs, child, describe: () => tail(this.logFile) });
  }

  /**
   * Stops the server by its pid, as `pg_ctl stop -m <mode>` would (SIGINT
   * for fast, SIGQUIT for immediate), and waits for it to exit. Data stays.
   */
  async stop(mode: PgStopMode = 'fast'): Promise<void> {
    if (this.child) await stopChild(this.child, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
  }

  /** Stops the server and deletes its folder. */
  async dispose(): Promise<void> {
    await this.stop('immediate');
    removeFolder(this.dir);
  }

  private async accepts(): Promise<boolean> {
    const c = new pg.Client({ connectionString: this.adminUrl, connectionTimeoutMillis: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

/** Starts a throwaway PostgreSQL with a fresh database; see PostgresService. */
export function startPostgres(opts?: PostgresOptions): Promise<PostgresService> {
  return PostgresService.create(opts);
}
