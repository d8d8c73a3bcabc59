import pg from 'pg';
import type { Message } from '../../shared/protocol.ts';
import type { CommitResult, Committed, Draft, RoomLog, Store } from './store.ts';

export interface PgStoreOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** Connections at most (default 10). A room commits one batch at a time, so a few serve many rooms. */
  maxConnections?: number;
  /**
   * Bound, in ms, on any one call's waits (default 5000): connecting or
   * waiting for a free connection, a statement on the server, a reply on
   * the wire. A dead or unreachable PostgreSQL makes calls reject within
   * about this long instead of hanging; the room answers `unavailable`.
   */
  timeoutMs?: number;
  /** Told of errors on idle connections (PostgreSQL restarted, network dropped); the pool replaces them. */
  onIdleError?: (err: Error) => void;
}

interface Row {
  room: string;
  seq: number;
  id: string;
  client_id: string | null;
  author: string;
  author_id: string;
  text: string;
  ts: number;
}

/**
 * Schema migrations, applied in order; `fiberchat_migrations` records each
 * one applied. Never edit a released entry: append a new one.
 *
 * `rooms.last_seq` is the room's counter, advanced only under the room
 * row's lock; no SEQUENCE, because a sequence leaves a gap on every rollback.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     name TEXT PRIMARY KEY,
     epoch TEXT NOT NULL,
     last_seq BIGINT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   CREATE TABLE messages (
     room TEXT NOT NULL REFERENCES rooms (name),
     seq BIGINT NOT NULL,
     id TEXT NOT NULL,
     client_id TEXT,
     author TEXT NOT NULL,
     author_id TEXT NOT NULL,
     text TEXT NOT NULL,
     ts BIGINT NOT NULL,
     PRIMARY KEY (room, seq)
   );
   CREATE UNIQUE INDEX messages_client ON messages (room, author_id, client_id);`,
];

/** Any fixed number: the advisory lock that serialises migrations across nodes starting at once. */
const MIGRATION_LOCK = 0x66696265; // "fibe"

const COLUMNS = 'room, seq, id, client_id, author, author_id, text, ts';

/**
 * int8 (seq, ts) as JS numbers rather than pg's default strings. Both stay
 * far below 2^53: a seq counts one room's messages, a ts is milliseconds.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

function toMessage(r: Row): Message {
  const m: Message = { room: r.room, seq: r.seq, id: r.id, author: r.author, authorId: r.author_id, text: r.text, ts: r.ts };
  if (r.client_id !== null) m.clientId = r.client_id;
  return m;
}

const clientKey = (authorId: string, clientId: string) => `${authorId}\u0000${clientId}`;

/**
 * Store on PostgreSQL, for several nodes sharing one database. A commit is
 * one transaction that takes the room row's lock (`SELECT … FOR UPDATE`):
 * that lock is the room's single writer across every node, so seqs from
 * any number of writers come out gap-free and each (authorId, clientId)
 * is stored once. Reads are single statements, outside any lock.
 *
 * The schema is migrated on first use (and retried on the next call if
 * PostgreSQL was down): `ready()` lets a server fail fast at start instead.
 */
export class PgStore implements Store {
  private readonly pool: pg.Pool;
  private migrated: Promise<void> | undefined;

  constructor(opts: PgStoreOptions) {
    const timeoutMs = opts.timeoutMs ?? 5000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.maxConnections ?? 10,
      types: TYPES,
      application_name: 'fiberchat',
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      // Client-side bound for a server that stops answering without closing the socket.
      query_timeout: timeoutMs + 1000,
      // A node that hangs inside a commit must not hold its room's lock for long.
      idle_in_transaction_session_timeout: timeoutMs * 2,
      keepAlive: true,
    });
    // Without a listener an idle connection's error (PostgreSQL restarting) would crash the process.
    this.pool.on('error', (err) => opts.onIdleError?.(err));
  }

  /** Resolves once the schema is up to date; rejects if PostgreSQL cannot be reached or migrated. */
  ready(): Promise<void> {
    this.migrated ??= this.migrate().catch((err: unknown) => {
      this.migrated = undefined; // try again on the next call
      throw err;
    });
    return this.migrated;
  }

  async roomLog(room: string): Promise<RoomLog | undefined> {
    await this.ready();
    const r = await this.pool.query<{ epoch: string; last_seq: number }>('SELECT epoch, last_seq FROM rooms WHERE name = $1', [room]);
    const row = r.rows[0];
    return row && { epoch: row.epoch, lastSeq: row.last_seq };
  }

  async roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>> {
    const out = new Map<string, RoomLog>();
    if (rooms.length === 0) return out;
    await this.ready();
    const r = await this.pool.query<{ name: string; epoch: string; last_seq: number }>(
      'SELECT name, epoch, last_seq FROM rooms WHERE name = ANY($1::text[])',
      [rooms],
    );
    for (const row of r.rows) out.set(row.name, { epoch: row.epoch, lastSeq: row.last_seq });
    return out;
  }

  async commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
    if (drafts.length === 0) return { log: (await this.roomLog(room)) ?? { epoch: epochIfNew, lastSeq: 0 }, results: [] };
    await this.ready();
    return this.transaction(async (client) => {
      const log = await lockRoom(client, room, epochIfNew);
      // Looked up under the lock, so commits of other nodes on this room are visible.
      const stored = await findStored(client, room, drafts);
      const inBatch = new Map<string, Committed>();
      const fresh: Message[] = [];
      const results = drafts.map((d): Committed => {
        const key = clientKey(d.authorId, d.clientId);
        const earlier = stored.get(key) ?? inBatch.get(key);
        if (earlier) return { message: { ...earlier.message }, duplicate: true };
        const message: Message = { room, seq: log.lastSeq + fresh.length + 1, ...d };
        fresh.push(message);
        const c = { message, duplicate: false };
        inBatch.set(key, c);
        return c;
      });
      if (fresh.length > 0) {
        log.lastSeq += fresh.length;
        await insertAndAdvance(client, room, fresh, log.lastSeq);
      }
      return { log, results };
    });
  }

  async readAfter(room: string, after: number, limit: number): Promise<Message[]> {
    await this.ready();
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [room, after, limit]);
    return r.rows.map(toMessage);
  }

  async readBefore(room: string, before: number, limit: number): Promise<Message[]> {
    await this.ready();
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, [room, before, limit]);
    return r.rows.map(toMessage).reverse();
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Applies missing migrations in one transaction, under an advisory lock so nodes starting together take turns. */
  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS fiberchat_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM fiberchat_migrations');
      for (let v = r.rows[0]?.v ?? 0; v < MIGRATIONS.length; v++) {
        await client.query(MIGRATIONS[v] as string);
        await client.query('INSERT INTO fiberchat_migrations (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  /** Runs `body` in a transaction on one connection: COMMIT if it resolves, ROLLBACK if anything fails. */
  private async transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out connection that drops emits 'error' besides failing its
    // query; unheard, that event would crash the process.
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      client.release();
      client.removeListener('error', ignore);
      return result;
    } catch (err) {
      abandon(client, ignore);
      throw err;
    }
  }
}

/**
 * Rolls back a failed transaction in the background, so the caller's
 * rejection is not held up by a dead server: the connection returns to the
 * pool if ROLLBACK succeeds (a plain SQL error), and is destroyed otherwise
 * (PostgreSQL then rolls back when the connection closes).
 */
function abandon(client: pg.PoolClient, errorListener: () => void): void {
  client
    .query('ROLLBACK')
    .then(
      () => client.release(),
      (err: unknown) => client.release(err instanceof Error ? err : true),
    )
    .finally(() => client.removeListener('error', errorListener));
}

/**
 * Locks the room's row for this transaction and returns its log, creating
 * the row first if the room has none. The common case (the room exists)
 * costs one statement.
 */
async function lockRoom(client: pg.PoolClient, room: string, epochIfNew: string): Promise<RoomLog> {
  const lock = () =>
    client.query<{ epoch: string; last_seq: number }>('SELECT epoch, last_seq FROM rooms WHERE name = $1 FOR UPDATE', [room]);
  let row = (await lock()).rows[0];
  if (!row) {
    // Two nodes may create the room at once: one insert wins, the other waits on it and then finds its row.
    await client.query('INSERT INTO rooms (name, epoch, last_seq) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING', [room, epochIfNew]);
    row = (await lock()).rows[0];
    if (!row) throw new Error(`room row missing after insert: ${room}`);
  }
  return { epoch: row.epoch, lastSeq: row.last_seq };
}

/** The room's stored messages whose (authorId, clientId) appear among the drafts, by that key. */
async function findStored(client: pg.PoolClient, room: string, drafts: readonly Draft[]): Promise<Map<string, Committed>> {
  const r = await client.query<Row>(
    `SELECT ${COLUMNS} FROM messages
     WHERE room = $1 AND (author_id, client_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [room, drafts.map((d) => d.authorId), drafts.map((d) => d.clientId)],
  );
  return new Map(r.rows.map((row) => [clientKey(row.author_id, row.client_id ?? ''), { message: toMessage(row), duplicate: true }]));
}

/** Inserts the batch in one statement and advances the room's counter in the same one. */
async function insertAndAdvance(client: pg.PoolClient, room: string, fresh: readonly Message[], lastSeq: number): Promise<void> {
  await client.query(
    `WITH inserted AS (
       INSERT INTO messages (${COLUMNS})
       SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
     )
     UPDATE rooms SET last_seq = $9 WHERE name = $1`,
    [
      room,
      fresh.map((m) => m.seq),
      fresh.map((m) => m.id),
      fresh.map((m) => m.clientId ?? null),
      fresh.map((m) => m.author),
      fresh.map((m) => m.authorId),
      fresh.map((m) => m.text),
      fresh.map((m) => m.ts),
      lastSeq,
    ],
  );
}
