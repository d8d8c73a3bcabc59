import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Message } from '../../shared/protocol.ts';
import type { CommitResult, Committed, Draft, RoomLog, Store } from './store.ts';

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteStoreOptions {
  /** Database file; created with its folder when missing. */
  file: string;
  /**
   * NORMAL (default): in WAL mode a commit survives a crash or SIGKILL of the
   * process; the last commits may be lost on power failure. FULL: also
   * survives power loss, at the cost of an fsync per batch.
   */
  synchronous?: SqliteSynchronous;
  /**
   * Checkpoint the WAL on a worker thread every this many ms instead of inside
   * commits (SQLite's default auto-checkpoint runs in whichever commit crosses
   * 1000 pages, stalling the event loop). 0 keeps SQLite's auto-checkpoint.
   */
  checkpointEveryMs?: number;
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

/** Schema migrations, applied in order; `PRAGMA user_version` records the last one applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     name TEXT PRIMARY KEY,
     epoch TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE messages (
     room TEXT NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     client_id TEXT,
     author TEXT NOT NULL,
     author_id TEXT NOT NULL,
     text TEXT NOT NULL,
     ts INTEGER NOT NULL,
     PRIMARY KEY (room, seq)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX messages_client ON messages (room, client_id, author_id) WHERE client_id IS NOT NULL;`,
];

function toMessage(r: Row): Message {
  const m: Message = { room: r.room, seq: r.seq, id: r.id, author: r.author, authorId: r.author_id, text: r.text, ts: r.ts };
  if (r.client_id !== null) m.clientId = r.client_id;
  return m;
}

/**
 * The default Store: one SQLite file in WAL mode through better-sqlite3.
 * Calls are synchronous under the hood; they stay short because the room
 * fiber commits a whole turn's messages in one transaction and every read is
 * an index range scan. Event-loop delay under load is reported by the bench.
 *
 * The data folder is created 0700 and the database 0600 (SQLite gives its
 * WAL and shared-memory files the database's mode): messages and the session
 * secret are nobody else's business on a shared machine.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly commitTx: (room: string, drafts: readonly Draft[], epochIfNew: string) => CommitResult;
  private readonly checkpointer: Worker | undefined;

  constructor(opts: SqliteStoreOptions) {
    createPrivately(opts.file);
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    if (opts.checkpointEveryMs) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
        workerData: { file: opts.file, everyMs: opts.checkpointEveryMs },
      });
      this.checkpointer.unref();
    }
    const db = this.db;
    this.stmts = {
      getRoom: db.prepare<[string], { epoch: string }>('SELECT epoch FROM rooms WHERE name = ?'),
      insertRoom: db.prepare<[string, string, number]>('INSERT INTO rooms (name, epoch, created_at) VALUES (?, ?, ?)'),
      lastSeq: db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM messages WHERE room = ?'),
      insert: db.prepare<[string, number, string, string | null, string, string, string, number]>(
        'INSERT INTO messages (room, seq, id, client_id, author, author_id, text, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      after: db.prepare<[string, number, number], Row>('SELECT * FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?'),
      before: db.prepare<[string, number, number], Row>(
        'SELECT * FROM messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      byClient: db.prepare<[string, string, string], Row>(
        'SELECT * FROM messages WHERE room = ? AND client_id = ? AND author_id = ?',
      ),
    };
    this.commitTx = db.transaction((room: string, drafts: readonly Draft[], epochIfNew: string): CommitResult => {
      let epoch = this.stmts.getRoom.get(room)?.epoch;
      if (epoch === undefined) {
        if (drafts.length === 0) return { log: { epoch: epochIfNew, lastSeq: 0 }, results: [] };
        epoch = epochIfNew;
        this.stmts.insertRoom.run(room, epoch, Date.now());
      }
      let last = this.stmts.lastSeq.get(room)?.s ?? 0;
      const inBatch = new Map<string, Committed>();
      const results = drafts.map((d): Committed => {
        const key = `${d.authorId}\u0000${d.clientId}`;
        const earlier = inBatch.get(key);
        if (earlier) return { message: { ...earlier.message }, duplicate: true };
        const stored = this.stmts.byClient.get(room, d.clientId, d.authorId);
        if (stored) return { message: toMessage(stored), duplicate: true };
        last += 1;
        this.stmts.insert.run(room, last, d.id, d.clientId, d.author, d.authorId, d.text, d.ts);
        const c = { message: { room, seq: last, ...d }, duplicate: false };
        inBatch.set(key, c);
        return c;
      });
      return { log: { epoch, lastSeq: last }, results };
    });
  }

  async roomLog(room: string): Promise<RoomLog | undefined> {
    const epoch = this.stmts.getRoom.get(room)?.epoch;
    if (epoch === undefined) return undefined;
    return { epoch, lastSeq: this.stmts.lastSeq.get(room)?.s ?? 0 };
  }

  async roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>> {
    const out = new Map<string, RoomLog>();
    for (const room of rooms) {
      const log = await this.roomLog(room);
      if (log) out.set(room, log);
    }
    return out;
  }

  async commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
    return this.commitTx(room, drafts, epochIfNew);
  }

  async readAfter(room: string, after: number, limit: number): Promise<Message[]> {
    return this.stmts.after.all(room, after, limit).map(toMessage);
  }

  async readBefore(room: string, before: number, limit: number): Promise<Message[]> {
    return this.stmts.before.all(room, before, limit).map(toMessage).reverse();
  }

  async close(): Promise<void> {
    if (this.checkpointer) {
      const worker = this.checkpointer;
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      });
      await worker.terminate();
    }
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }
}

/** Creates the database's folder (0700) and file (0600) when missing, before SQLite opens it. */
function createPrivately(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode is filtered by the umask
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
}
