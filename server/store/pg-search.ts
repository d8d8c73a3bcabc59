/**
 * The PostgreSQL store's search index: a `tsvector` column on `messages`
 * (GIN-indexed), kept in the commit's transaction (pg-commit.ts), and the
 * search that reads it.
 *
 * PostgreSQL's own text parser never sees a message: the tokens are
 * search-text.ts's (the rule every store shares), written as a tsvector
 * literal, and queries are compiled from the same patterns into tsquery
 * text, cast with `::tsquery` (which takes lexemes as written, where
 * `to_tsquery` would parse and normalise them again). A document's `words`
 * carry weight A at positions 1..n in order, its `parts` weight B after
 * them, so a phrase is `'a':A <-> 'b':A` and a piece of a word `'x':B`.
 *
 * Each indexed message has a place in the newest-first order,
 * `search_pos`: its send time in ms × 1024 plus a slot in that ms, unique
 * (a partial unique index holds it to that), so a page ends at a number.
 * See `insertEntries` (pg-commit.ts) and `freeSlots` for how a slot is
 * chosen without a lock across rooms.
 *
 * A search reads matches in chunks, newest first, each chunk one statement
 * under `statement_timeout`, and stops when the page is full or its time is
 * spent; then it answers what it found with the position to go on from.
 *
 * Databases from before the index are indexed by `PgSearchBackfill`, in
 * batches, its place kept in `meta.search_backfill` (absent once done).
 */
import type pg from 'pg';
import { searchDoc, type CompiledSearch, type Pattern, type SearchDoc } from './search-text.ts';
import type { SearchHit, SearchPage, SearchSpec } from './store.ts';

/** Positions per ms of send time (the same scale as the other stores' positions). */
export const SLOTS_PER_MS = 1024;
/** PostgreSQL's largest lexeme position: later positions are written as this one. */
export const MAX_POSITION = 16383;
/** PostgreSQL's longest lexeme, in bytes: longer tokens are left out of the index (and match nothing). */
export const MAX_LEXEME_BYTES = 2046;
/** Positions PostgreSQL keeps per lexeme; it would drop the rest itself. */
const MAX_POSITIONS_PER_LEXEME = 256;
/** Matches read per step of a search, between looks at the clock. */
const CHUNK = 256;

// ----- tsvector and tsquery text -----------------------------------------------------------------

/** A token as a quoted lexeme of tsvector or tsquery text (a quote or a backslash is doubled). */
export function quoteLexeme(token: string): string {
  return `'${token.replace(/['\\]/g, (c) => c + c)}'`;
}

/** Whether PostgreSQL can hold a token as a lexeme. */
function fits(token: string): boolean {
  return token !== '' && Buffer.byteLength(token, 'utf8') <= MAX_LEXEME_BYTES;
}

/**
 * A document as tsvector text: `words` with weight A at positions 1..n,
 * `parts` with weight B after them, the positions of a repeated token
 * merged into one lexeme. A token PostgreSQL cannot hold keeps its position
 * (so the tokens around it do not become neighbours) but is left out.
 */
export function tsvectorLiteral(doc: SearchDoc): string {
  const positions = new Map<string, string[]>();
  let pos = 0;
  const add = (token: string, weight: 'A' | 'B') => {
    pos++;
    if (!fits(token)) return;
    let list = positions.get(token);
    if (list === undefined) positions.set(token, (list = []));
    const at = `${Math.min(pos, MAX_POSITION)}${weight}`;
    if (list.length < MAX_POSITIONS_PER_LEXEME && list.at(-1) !== at) list.push(at);
  };
  for (const t of doc.words) add(t, 'A');
  for (const t of doc.parts) add(t, 'B');
  return [...positions].map(([token, at]) => `${quoteLexeme(token)}:${at.join(',')}`).join(' ');
}

/** A message's text as tsvector text. */
export function textVector(text: string): string {
  return tsvectorLiteral(searchDoc(text));
}

/** One operand: a lexeme, maybe a prefix, maybe of one weight only. */
function operand(token: string, weight: '' | 'A' | 'B', prefix: boolean): string {
  return prefix || weight !== '' ? `${quoteLexeme(token)}:${prefix ? '*' : ''}${weight}` : quoteLexeme(token);
}

/** Tokens in a row in one column (a sequence ignores `prefix`, as `matchesDoc` does). */
function sequence(tokens: readonly string[], weight: '' | 'A' | 'B', prefix: boolean): string {
  if (tokens.length === 1) return operand(tokens[0] as string, weight, prefix);
  return tokens.map((t) => operand(t, weight, false)).join(' <-> ');
}

/** A pattern as tsquery text; undefined when it can match nothing (a token too long to be indexed). */
export function patternQuery(p: Pattern): string | undefined {
  if (p.tokens.length === 0 || !p.tokens.every(fits)) return undefined;
  if (p.column === 'words') return sequence(p.tokens, 'A', p.prefix);
  if (p.column === 'parts') return sequence(p.tokens, 'B', p.prefix);
  if (p.tokens.length === 1) return operand(p.tokens[0] as string, '', p.prefix);
  return `${sequence(p.tokens, 'A', false)} | ${sequence(p.tokens, 'B', false)}`;
}

/** A compiled search as tsquery text: what a match must hold, and what it must not. */
export interface PgSearchQuery {
  /** The wanted patterns minus the excluded ones; undefined when nothing is wanted (filters only). */
  match: string | undefined;
  /** Any excluded pattern, for a search without wanted patterns; undefined when none is excluded. */
  not: string | undefined;
}

/** The tsquery text of a compiled search; undefined when it can match no message. */
export function pgSearchQuery(c: CompiledSearch): PgSearchQuery | undefined {
  const want: string[] = [];
  for (const p of c.want) {
    const q = patternQuery(p);
    if (q === undefined) return undefined;
    want.push(`(${q})`);
  }
  // An excluded pattern that can match nothing excludes nothing.
  const excluded = c.not.flatMap((p) => patternQuery(p) ?? []).map((q) => `(${q})`);
  const not = excluded.length === 0 ? undefined : excluded.join(' | ');
  if (want.length === 0) return { match: undefined, not };
  const all = want.join(' & ');
  return { match: not === undefined ? all : `${all} & !(${not})`, not: undefined };
}

// ----- the search ------------------------------------------------------------------------------

/** Runs `body` in a transaction on one connection (PgStore's). */
export type Transact = <T>(body: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

interface ChunkRow {
  pos: number;
  room: string;
  seq: number;
  id: string;
  author: string;
  author_id: string;
  ts: number;
  /** Null for a match the filters leave out (its text is not sent). */
  text: string | null;
  title: string | null;
  wanted: boolean;
}

/**
 * One chunk: up to CHUNK matches below a position, newest first (the
 * bounded part, whatever the filters leave), each with whether the reader
 * may see it and the filters keep it. $1 position, $2 chunk size,
 * $3 viewer, $4 rooms (empty: all), $5 authors (null: anyone), $6 before,
 * $7 after, $8 the tsquery.
 */
function chunkSql(kind: 'match' | 'not' | 'all'): string {
  const where =
    kind === 'match' ? 'search @@ $8::tsquery AND search_pos < $1' : kind === 'not' ? 'search_pos < $1 AND NOT (search @@ $8::tsquery)' : 'search_pos < $1';
  return `
    WITH c AS (
      SELECT search_pos, room, seq, id, author, author_id, ts, text FROM messages
      WHERE ${where} ORDER BY search_pos DESC LIMIT $2
    ), f AS (
      SELECT c.*, r.title,
        (r.visibility = 'public' OR EXISTS (SELECT 1 FROM members mb WHERE mb.room = c.room AND mb.user_id = $3))
        AND (cardinality($4::text[]) = 0 OR c.room = ANY ($4::text[]))
        AND ($5::text[] IS NULL OR c.author_id = ANY ($5::text[]))
        AND ($6::bigint IS NULL OR c.ts < $6)
        AND ($7::bigint IS NULL OR c.ts >= $7) AS wanted
      FROM c JOIN rooms r ON r.name = c.room
    )
    SELECT search_pos AS pos, room, seq, id, author, author_id, ts, CASE WHEN wanted THEN text END AS text, title, wanted
    FROM f ORDER BY search_pos DESC`;
}

const CHUNK_SQL = { match: chunkSql('match'), not: chunkSql('not'), all: chunkSql('all') };

/** PostgreSQL's "canceling statement due to statement timeout". */
const QUERY_CANCELED = '57014';

/**
 * One page of a search, newest first, in one transaction: each chunk runs
 * with `statement_timeout` set to the time left (at most `maxMs`, the
 * store's bound on any statement). A chunk cut off by it aborts the
 * transaction, which then ends as a rollback (COMMIT of an aborted
 * transaction is one); the page answers what the chunks before it found.
 */
export async function searchPg(transact: Transact, spec: SearchSpec, maxMs: number): Promise<SearchPage> {
  const q = pgSearchQuery(spec.compiled);
  if (q === undefined) return { hits: [] };
  const kind = q.match !== undefined ? 'match' : q.not !== undefined ? 'not' : 'all';
  const tsquery = q.match ?? q.not;
  const deadline = performance.now() + spec.budgetMs;
  return transact(async (client) => {
    const hits: SearchHit[] = [];
    let below = spec.below ?? Number.MAX_SAFE_INTEGER;
    for (let first = true; ; first = false) {
      const left = Math.ceil(deadline - performance.now());
      // Out of time: what was found, and where to go on (the caller asks again for more).
      if (!first && left <= 0) return { hits, next: below, partial: true };
      await client.query("SELECT set_config('statement_timeout', $1, true)", [String(Math.max(1, Math.min(left, maxMs)))]);
      const params: unknown[] = [below, CHUNK, spec.viewer, spec.rooms, spec.authorIds ?? null, spec.before ?? null, spec.after ?? null];
      if (tsquery !== undefined) params.push(tsquery);
      let rows: ChunkRow[];
      try {
        rows = (await client.query<ChunkRow>(CHUNK_SQL[kind], params)).rows;
      } catch (err) {
        if ((err as { code?: string }).code === QUERY_CANCELED) return { hits, next: below, partial: true };
        throw err;
      }
      for (const row of rows) {
        below = row.pos;
        if (!row.wanted) continue;
        if (hits.length === spec.limit) return { hits, next: hits[hits.length - 1]?.position };
        hits.push({ room: row.room, seq: row.seq, id: row.id, author: row.author, authorId: row.author_id, ts: row.ts, text: row.text ?? '', title: row.title ?? undefined, position: row.pos });
      }
      if (rows.length < CHUNK) return { hits };
    }
  });
}

// ----- positions ---------------------------------------------------------------------------------

/** Positions looked at above a ms's first slot for a free one: its own slots and the next ms's (spill-over). */
const SLOT_WINDOW = 2 * SLOTS_PER_MS;

/**
 * Free positions for messages stored before the index, each at its send
 * time: the first slot of its ms (or after) that no indexed message holds
 * and no earlier one of `ts` was given. A live commit racing for the same
 * slot makes one of the two wait and then fail or retry (the unique index),
 * never share it.
 */
export async function freeSlots(client: pg.PoolClient, ts: readonly number[]): Promise<number[]> {
  const ms = [...new Set(ts)];
  const { rows } = await client.query<{ pos: number }>(
    `SELECT m.search_pos AS pos FROM unnest($1::bigint[]) AS t(ms)
     JOIN messages m ON m.search_pos >= t.ms * ${SLOTS_PER_MS} AND m.search_pos < t.ms * ${SLOTS_PER_MS} + ${SLOT_WINDOW}`,
    [ms],
  );
  const taken = new Set(rows.map((r) => r.pos));
  return ts.map((t) => {
    let pos = t * SLOTS_PER_MS;
    while (taken.has(pos)) pos++;
    taken.add(pos);
    return pos;
  });
}

// ----- indexing a database from before the index -----------------------------------------------

/** Messages the backfill reads per transaction. */
export const BACKFILL_BATCH = 2000;

export interface BackfillLog {
  (msg: string, fields: Record<string, unknown>): void;
}

/** How long the backfill waits before trying again after a failed batch (PostgreSQL down, a race lost). */
const RETRY_MS = 1000;

interface OldRow {
  room: string;
  seq: number;
  ts: number;
  text: string;
  kind: string;
  deleted: boolean;
  search_pos: number | null;
}

/**
 * Indexes the messages a database held before it had the index, in batches
 * of one transaction each, yielding to the event loop between them. Its
 * place, `meta.search_backfill` (JSON [room, seq]; '' at the start), is
 * read and moved under the row's lock, so nodes starting together take
 * turns instead of indexing a batch twice, and a restart goes on where the
 * last batch stopped. The batch's rows are locked too, so an edit or delete
 * committed meanwhile waits for it and then applies to the indexed row (an
 * edit replaces `search`, a delete clears it). New messages are indexed by
 * their commits meanwhile.
 */
export class PgSearchBackfill {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private done = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly transact: Transact,
    private readonly ready: () => Promise<void>,
    private readonly log: BackfillLog = () => {},
    private readonly batch = BACKFILL_BATCH,
  ) {}

  /** Starts indexing in the background once the schema is ready; resolves when done (at once when nothing is pending) or stopped. Never rejects. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops after the batch under way (which commits or rolls back on its own); resolves once nothing runs. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    // The schema first (PostgreSQL may be down at start: try again until it is up, or the store closes).
    while (!this.stopped) {
      try {
        await this.ready();
        break;
      } catch {
        await this.pause(RETRY_MS);
      }
    }
    if (this.stopped || !(await this.start())) return;
    const startedAt = Date.now();
    while (!this.stopped) {
      let more: boolean;
      try {
        more = await this.transact((client) => this.step(client));
      } catch (err) {
        this.log('search index: a batch failed, retrying', { err: String(err) });
        await this.pause(RETRY_MS);
        continue;
      }
      if (!more) {
        this.log('search index: existing messages indexed', { entriesRead: this.done, ms: Date.now() - startedAt });
        return;
      }
      if (this.done % (this.batch * 50) === 0) this.log('search index: indexing', { entriesRead: this.done });
      await this.pause(0);
    }
  }

  /** Whether there is anything to index: says so in the log; a database without such messages is marked done, silently. */
  private async start(): Promise<boolean> {
    for (;;) {
      try {
        return await this.transact(async (client) => {
          if ((await client.query("SELECT 1 FROM meta WHERE key = 'search_backfill'")).rows.length === 0) return false;
          // Whether any message is stored at all: one row read (a count of what is left would scan the
          // table, past the statement timeout on a large one).
          const { rows } = await client.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM messages) AS any');
          if (rows[0]?.any !== true) {
            await client.query("DELETE FROM meta WHERE key = 'search_backfill'");
            return false;
          }
          this.log('search index: indexing existing messages', { batch: this.batch });
          return true;
        });
      } catch (err) {
        if (this.stopped) return false;
        this.log('search index: cannot start indexing, retrying', { err: String(err) });
        await this.pause(RETRY_MS);
        if (this.stopped) return false;
      }
    }
  }

  /** One batch, inside the caller's transaction; false when none was left. */
  private async step(client: pg.PoolClient): Promise<boolean> {
    const place = (await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'search_backfill' FOR UPDATE")).rows[0];
    if (place === undefined) return false;
    const [room, seq] = place.value === '' ? ['', 0] : (JSON.parse(place.value) as [string, number]);
    const { rows } = await client.query<OldRow>(
      `SELECT room, seq, ts, text, kind, deleted, search_pos FROM messages
       WHERE (room, seq) > ($1, $2) ORDER BY room, seq LIMIT $3 FOR UPDATE`,
      [room, seq, this.batch],
    );
    const todo = rows.filter((r) => r.kind === 'message' && !r.deleted && r.text !== '' && r.search_pos === null);
    if (todo.length > 0) {
      const positions = await freeSlots(client, todo.map((r) => r.ts));
      await client.query(
        `UPDATE messages m SET search = x.search::tsvector, search_pos = x.pos
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) AS x(room, seq, search, pos)
         WHERE m.room = x.room AND m.seq = x.seq`,
        [todo.map((r) => r.room), todo.map((r) => r.seq), todo.map((r) => textVector(r.text)), positions],
      );
    }
    this.done += rows.length;
    const last = rows[rows.length - 1];
    if (!last || rows.length < this.batch) {
      await client.query("DELETE FROM meta WHERE key = 'search_backfill'");
      return false;
    }
    await client.query("UPDATE meta SET value = $1 WHERE key = 'search_backfill'", [JSON.stringify([last.room, last.seq])]);
    return true;
  }

  /** Waits `ms` (0: one turn of the event loop), or less if the backfill is stopped. */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake?.();
      }, ms);
      this.timer.unref();
    });
  }
}
