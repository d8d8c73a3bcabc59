/**
 * The SQLite store's search index: an FTS5 table of every message's tokens
 * (search-text.ts says which), kept in the same transaction as the log
 * entry that changes it, and the search that reads it.
 *
 * FTS5 wants integer document ids and `messages` has none (its key is
 * (room, seq)), so `search_docs` maps one to the other, with each room's
 * name held once, as a number, in `search_rooms`. Document ids follow
 * the commits (one more than the last), so the index is in the order
 * messages arrived and "newest first" is FTS5's own reverse rowid scan,
 * which stops at the first page instead of sorting every match. Dense ids
 * also keep the index small: FTS5 stores each posting as the difference
 * from the one before, and time-scaled ids made those differences (and the
 * index) about a third larger. Messages from before the index get ids below
 * zero, by send time (see `addOld`). The index
 * table is contentless (`content=''`, with `contentless_delete`): it holds
 * tokens and positions, never a second copy of the text.
 *
 * A search runs in chunks of matches, newest first, and stops when the
 * page is full or its time is up; then it answers what it found with the
 * position to go on from. better-sqlite3 exposes no progress handler, so
 * this is the engine's time limit: a chunk is bounded work, and the clock is
 * read between chunks.
 *
 * Databases from before the index are indexed by `SearchBackfill`: a few
 * thousand messages per transaction, one batch per event-loop turn, with
 * its progress in the log and its place kept in `meta`, so a restart goes
 * on where it stopped.
 */
import type Database from 'better-sqlite3';
import { fts5Match, fts5Not, searchDoc } from './search-text.ts';
import type { SearchHit, SearchPage, SearchSpec } from './store.ts';

/**
 * Messages indexed by the backfill take ids below zero in send order:
 * send time × OLD_PER_MS − OLD_OFFSET (then the next free id), every one
 * below the first live id (1) and within JavaScript's safe integers.
 */
const OLD_PER_MS = 1024;
const OLD_OFFSET = 2 ** 52;
/** Matches read per step of a search, between looks at the clock. */
const CHUNK = 256;

interface HitRow {
  docid: number;
  room: string;
  seq: number;
  id: string;
  author: string;
  author_id: string;
  ts: number;
  text: string;
  visibility: string;
  title: string | null;
}

const HIT_COLUMNS = 'd.docid, sr.name AS room, d.seq, m.id, m.author, m.author_id, m.ts, m.text, r.visibility, r.title';
const HIT_JOINS = 'JOIN search_rooms sr ON sr.no = d.room_no JOIN messages m ON m.room = sr.name AND m.seq = d.seq JOIN rooms r ON r.name = sr.name';

export class SqliteSearchIndex {
  private readonly q;
  private lastId: number;

  constructor(private readonly db: Database.Database) {
    this.q = {
      maxId: db.prepare<[], { id: number | null }>('SELECT max(docid) AS id FROM search_docs'),
      taken: db.prepare<[number], { x: number }>('SELECT 1 AS x FROM search_docs WHERE docid = ?'),
      docOf: db.prepare<[string, number], { docid: number }>(
        'SELECT docid FROM search_docs WHERE room_no = (SELECT no FROM search_rooms WHERE name = ?) AND seq = ?',
      ),
      addRoom: db.prepare<[string]>('INSERT OR IGNORE INTO search_rooms (name) VALUES (?)'),
      roomNo: db.prepare<[string], { no: number }>('SELECT no FROM search_rooms WHERE name = ?'),
      addDoc: db.prepare<[number, number, number]>('INSERT INTO search_docs (docid, room_no, seq) VALUES (?, ?, ?)'),
      dropDoc: db.prepare<[number]>('DELETE FROM search_docs WHERE docid = ?'),
      addTokens: db.prepare<[number, string, string]>('INSERT INTO search_index (rowid, words, parts) VALUES (?, ?, ?)'),
      dropTokens: db.prepare<[number]>('DELETE FROM search_index WHERE rowid = ?'),
      rooms: db.prepare<[string], { room: string }>('SELECT room FROM members WHERE user_id = ?'),
    };
    this.lastId = this.q.maxId.get()?.id ?? 0;
  }

  /** Indexes a new message (inside the commit's transaction). */
  add(room: string, seq: number, ts: number, text: string): void {
    let id = Math.max(1, this.lastId + 1);
    while (this.q.taken.get(id)) id++;
    this.lastId = id;
    this.insert(id, room, seq, text);
  }

  /**
   * Indexes a message stored before the index existed: at its own send time,
   * below every message indexed live (which are newer), at the first free id.
   */
  addOld(room: string, seq: number, ts: number, text: string): void {
    if (this.q.docOf.get(room, seq)) return;
    let id = Math.min(ts * OLD_PER_MS - OLD_OFFSET, -1);
    while (this.q.taken.get(id)) id++;
    this.insert(id, room, seq, text);
  }

  /** An edit: the message keeps its place, its tokens are replaced. */
  replace(room: string, seq: number, text: string): void {
    const doc = this.q.docOf.get(room, seq);
    if (!doc) return; // not indexed yet: the backfill will read the edited text
    this.q.dropTokens.run(doc.docid);
    const { words, parts } = searchDoc(text);
    this.q.addTokens.run(doc.docid, words.join(' '), parts.join(' '));
  }

  /** A delete: the message leaves the index. */
  remove(room: string, seq: number): void {
    const doc = this.q.docOf.get(room, seq);
    if (!doc) return;
    this.q.dropTokens.run(doc.docid);
    this.q.dropDoc.run(doc.docid);
  }

  private insert(id: number, room: string, seq: number, text: string): void {
    const { words, parts } = searchDoc(text);
    let no = this.q.roomNo.get(room)?.no;
    if (no === undefined) {
      this.q.addRoom.run(room);
      no = (this.q.roomNo.get(room) as { no: number }).no;
    }
    this.q.addDoc.run(id, no, seq);
    this.q.addTokens.run(id, words.join(' '), parts.join(' '));
  }

  /** One page of a search, newest first. */
  search(spec: SearchSpec): SearchPage {
    const { rooms, authorIds, before, after } = spec;
    const match = fts5Match(spec.compiled);
    const not = match === undefined ? fts5Not(spec.compiled) : undefined;
    const deadline = performance.now() + spec.budgetMs;
    const mine = new Set(this.q.rooms.all(spec.viewer).map((r) => r.room));
    const readable = (row: HitRow) => row.visibility === 'public' || mine.has(row.room);
    const wanted = (row: HitRow) =>
      readable(row) &&
      (rooms.length === 0 || rooms.includes(row.room)) &&
      (authorIds === undefined || authorIds.includes(row.author_id)) &&
      (before === undefined || row.ts < before) &&
      (after === undefined || row.ts >= after);
    const stmt = this.chunkStatement(match !== undefined, not !== undefined);
    const hits: SearchHit[] = [];
    let below = spec.below ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const params: Record<string, unknown> = { below, chunk: CHUNK };
      if (match !== undefined) params.match = match;
      if (not !== undefined) params.not = not;
      const rows = stmt.all(params) as HitRow[];
      for (const row of rows) {
        below = row.docid;
        if (!wanted(row)) continue;
        if (hits.length === spec.limit) return { hits, next: hits[hits.length - 1]?.position };
        hits.push({ room: row.room, seq: row.seq, id: row.id, author: row.author, authorId: row.author_id, ts: row.ts, text: row.text, title: row.title ?? undefined, position: row.docid });
      }
      if (rows.length < CHUNK) return { hits };
      // Out of time: what was found, and where to go on (the caller asks again for more).
      if (performance.now() >= deadline) return { hits, next: below, partial: true };
    }
  }

  private readonly statements = new Map<string, Database.Statement>();

  private chunkStatement(withMatch: boolean, withNot: boolean): Database.Statement {
    const key = `${withMatch}/${withNot}`;
    let stmt = this.statements.get(key);
    if (stmt) return stmt;
    const exclude = withNot ? 'AND d.docid NOT IN (SELECT rowid FROM search_index WHERE search_index MATCH :not)' : '';
    const sql = withMatch
      ? `SELECT ${HIT_COLUMNS} FROM search_index JOIN search_docs d ON d.docid = search_index.rowid ${HIT_JOINS}
         WHERE search_index MATCH :match AND search_index.rowid < :below ORDER BY search_index.rowid DESC LIMIT :chunk`
      : `SELECT ${HIT_COLUMNS} FROM search_docs d ${HIT_JOINS}
         WHERE d.docid < :below ${exclude} ORDER BY d.docid DESC LIMIT :chunk`;
    stmt = this.db.prepare(sql);
    this.statements.set(key, stmt);
    return stmt;
  }
}

/** Messages the backfill indexes per transaction. */
export const BACKFILL_BATCH = 2000;

export interface BackfillLog {
  (msg: string, fields: Record<string, unknown>): void;
}

/**
 * Indexes the messages a database held before it had the index, in batches
 * (one transaction each, one per event-loop turn), keeping its place in
 * `meta.search_backfill` (absent once done). New messages are indexed by
 * their commits meanwhile; a message edited or deleted before its batch is
 * read as it is then.
 */
export class SearchBackfill {
  private readonly q;
  private timer: NodeJS.Immediate | undefined;
  private stopped = false;
  private done = 0;
  private readonly startedAt = Date.now();
  private readonly step: Database.Transaction<() => boolean>;

  constructor(
    private readonly db: Database.Database,
    private readonly index: SqliteSearchIndex,
    private readonly log: BackfillLog = () => {},
    private readonly batch = BACKFILL_BATCH,
  ) {
    this.q = {
      place: db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'search_backfill'"),
      setPlace: db.prepare<[string]>("UPDATE meta SET value = ? WHERE key = 'search_backfill'"),
      finish: db.prepare("DELETE FROM meta WHERE key = 'search_backfill'"),
      // Whether any message is stored at all: one row read, where a count would read them all on the event loop.
      any: db.prepare<[], { n: number }>('SELECT EXISTS (SELECT 1 FROM messages) AS n'),
      next: db.prepare<[string, number, number], { room: string; seq: number; ts: number; text: string; kind: string; deleted: number }>(
        `SELECT room, seq, ts, text, kind, deleted FROM messages WHERE (room, seq) > (?, ?) ORDER BY room, seq LIMIT ?`,
      ),
    };
    this.step = db.transaction(() => this.runBatch());
  }

  /** Whether there is anything to index (a database from before the index, not yet done). */
  get pending(): boolean {
    return this.q.place.get() !== undefined;
  }

  /** Starts indexing in the background; resolves when done (at once when nothing is pending) or stopped. */
  run(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    if (this.q.any.get()?.n !== 1) {
      // A new database (or one without messages): nothing to index, nothing to say.
      this.q.finish.run();
      return Promise.resolve();
    }
    this.log('search index: indexing existing messages', { batch: this.batch });
    return new Promise((resolve) => {
      const tick = () => {
        this.timer = undefined;
        if (this.stopped) return resolve();
        let more: boolean;
        try {
          more = this.step.immediate();
        } catch (err) {
          // A busy database: try again on a later turn.
          this.log('search index: a batch failed, retrying', { err: String(err) });
          this.timer = setImmediate(tick);
          return;
        }
        if (!more) {
          this.log('search index: existing messages indexed', { entriesRead: this.done, ms: Date.now() - this.startedAt });
          return resolve();
        }
        if (this.done % (this.batch * 50) === 0) this.log('search index: indexing', { entriesRead: this.done });
        this.timer = setImmediate(tick);
      };
      this.timer = setImmediate(tick);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
  }

  /** One batch, in its own transaction; false when none was left. */
  private runBatch(): boolean {
    const place = this.q.place.get();
    if (place === undefined) return false;
    const [room, seq] = place.value === '' ? ['', 0] : (JSON.parse(place.value) as [string, number]);
    const rows = this.q.next.all(room, seq, this.batch);
    for (const r of rows) if (r.kind === 'message' && r.deleted === 0 && r.text !== '') this.index.addOld(r.room, r.seq, r.ts, r.text);
    this.done += rows.length;
    const last = rows[rows.length - 1];
    if (!last || rows.length < this.batch) {
      this.q.finish.run();
      return false;
    }
    this.q.setPlace.run(JSON.stringify([last.room, last.seq]));
    return true;
  }
}
