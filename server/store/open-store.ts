import type { Config } from '../config.ts';
import { PgStore } from './pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * The store this configuration asks for: PostgreSQL when DATABASE_URL is
 * set (several nodes may share it), else the SQLite file under DATA_DIR
 * (one process). `onConnectionLost` hears of PostgreSQL connections that
 * dropped while idle; the pool replaces them by itself. `log` hears of
 * start-up work in the background (indexing an older database for search).
 */
export function openStore(config: Config, onConnectionLost?: (err: Error) => void, log?: (msg: string, fields: Record<string, unknown>) => void): Store {
  if (config.databaseUrl !== undefined) {
    return new PgStore({ url: config.databaseUrl, maxConnections: config.databasePoolSize, onIdleError: onConnectionLost, log });
  }
  return new SqliteStore({ file: config.dbFile, synchronous: config.sqliteSynchronous, checkpointEveryMs: config.sqliteCheckpointMs, groupCommit: config.storeGroupCommit, log });
}

/** Where a store keeps its data, for the start-up log line; never includes a password. */
export function describeStore(config: Config): string {
  if (config.databaseUrl === undefined) return `sqlite:${config.dbFile}`;
  const u = new URL(config.databaseUrl);
  return `postgres://${u.host}${u.pathname}`;
}
