/**
 * The stores the contract tests run on: memory, SQLite (several settings)
 * and a throwaway PostgreSQL, started by the first suite that needs it.
 * `testStores()` registers the hooks that clean up after a test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import { startPostgres, type PostgresService } from '../../scripts/services/index.ts';
import { MemoryStore } from './memory-store.ts';
import { PgStore } from './pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

const dirs: string[] = [];

/** A database path in a fresh temporary folder (its parent not yet made: the store creates it), removed after each test. */
export function sqliteFile() {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'chat.db');
}

/**
 * One throwaway PostgreSQL for this file, started by the first suite that
 * needs it. Its binaries are required, not optional: without them those
 * suites fail with the Debian package to install.
 */
let postgres: PostgresService | undefined;
let starting: Promise<PostgresService> | undefined;
export async function ensurePostgres(): Promise<void> {
  starting ??= startPostgres();
  postgres = await starting;
}
/** The running PostgreSQL (a test that stops and restarts it). */
export function postgresService(): PostgresService | undefined {
  return postgres;
}

export function pgUrl(): string {
  if (!postgres) throw new Error('PostgreSQL did not start (see the beforeAll error)');
  return postgres.url;
}

/** Empties the database, schema and migrations included, so every test starts as a fresh deployment. */
export async function resetPg(): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl() });
  await c.connect();
  try {
    await c.query('DROP SCHEMA public CASCADE');
    await c.query('CREATE SCHEMA public');
  } finally {
    await c.end();
  }
}

/** Each implementation, and (where it can) a second instance over the same data: another writer. */
export interface Impl {
  make(): Store;
  /** Two instances sharing one database, as two processes or nodes would. */
  pair?(): [Store, Store];
  /** Runs once before the suite: starts what the implementation needs. */
  setup?(): Promise<void>;
  /** Runs before each test, for implementations whose data outlives a store instance. */
  reset?(): Promise<void>;
}

const IMPLS: Array<[string, Impl]> = [
  ['MemoryStore', { make: () => new MemoryStore() }],
  [
    'SqliteStore',
    {
      make: () => new SqliteStore({ file: sqliteFile() }),
      pair: () => {
        const file = sqliteFile();
        return [new SqliteStore({ file }), new SqliteStore({ file })];
      },
    },
  ],
  ['SqliteStore with checkpoint worker', { make: () => new SqliteStore({ file: sqliteFile(), checkpointEveryMs: 5 }) }],
  ['SqliteStore without group commit', { make: () => new SqliteStore({ file: sqliteFile(), groupCommit: false }) }],
  [
    'PgStore',
    {
      make: () => new PgStore({ url: pgUrl() }),
      // Two pools on one database: two nodes.
      pair: () => [new PgStore({ url: pgUrl() }), new PgStore({ url: pgUrl() })],
      setup: ensurePostgres,
      reset: resetPg,
    },
  ],
];

/** Every implementation, with the hooks that remove this file's SQLite folders and stop its PostgreSQL. */
export function testStores(): Array<[string, Impl]> {
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(async () => {
    await postgres?.dispose();
    postgres = undefined;
    starting = undefined;
  }, 60_000);
  return IMPLS;
}
