import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Message } from '../../shared/protocol.ts';
import { SeqConflict, type RoomLog, type Store } from './store.ts';

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
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly appendTx: (room: string, messages: readonly Message[]) => void;
  private readonly checkpointer: Worker | undefined;

  constructor(opts: SqliteStoreOptions) {
    mkdirSync(dirname(opts.file), { recursive: true });
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
        'SELECT * FROM messages WHERE room = ? AND author_id = ? AND client_id IN (SELECT value FROM json_each(?))',
      ),
    };
    this.appendTx = db.transaction((room: string, messages: readonly Message[]) => {
      const last = this.stmts.lastSeq.get(room)?.s ?? 0;
      messages.forEach((m, i) => {
        if (m.seq !== last + 1 + i) throw new SeqConflict(`room ${room}: seq ${m.seq} does not continue the log at ${last}`);
        this.stmts.insert.run(m.room, m.seq, m.id, m.clientId ?? null, m.author, m.authorId, m.text, m.ts);
      });
    });
  }

  async openRoom(room: string): Promise<RoomLog> {
    let epoch = this.stmts.getRoom.get(room)?.epoch;
    if (epoch === undefined) {
      epoch = randomUUID();
      this.stmts.insertRoom.run(room, epoch, Date.now());
    }
    return { epoch, lastSeq: this.stmts.lastSeq.get(room)?.s ?? 0 };
  }

  async append(room: string, messages: readonly Message[]): Promise<void> {
    if (messages.length > 0) this.appendTx(room, messages);
  }

  async readAfter(room: string, after: number, limit: number): Promise<Message[]> {
    return this.stmts.after.all(room, after, limit).map(toMessage);
  }

  async readBefore(room: string, before: number, limit: number): Promise<Message[]> {
    return this.stmts.before.all(room, before, limit).map(toMessage).reverse();
  }

  async findByClientIds(room: string, authorId: string, clientIds: readonly string[]): Promise<Message[]> {
    if (clientIds.length === 0) return [];
    return this.stmts.byClient.all(room, authorId, JSON.stringify(clientIds)).map(toMessage);
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
