import pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSearch } from '../../shared/search-query.ts';
import { MIGRATIONS } from './pg-schema.ts';
import { BACKFILL_BATCH, MAX_LEXEME_BYTES, MAX_POSITION, SLOTS_PER_MS, pgSearchQuery, quoteLexeme, tsvectorLiteral } from './pg-search.ts';
import { PgStore } from './pg-store.ts';
import { compileSearch } from './search-text.ts';
import type { Draft, SearchSpec } from './store.ts';
import { ensurePostgres, pgUrl, resetPg, testStores } from './test-stores.ts';

testStores(); // stops this file's PostgreSQL when done

describe('tsvector and tsquery text', () => {
  it('quotes a lexeme, doubling quotes and backslashes', () => {
    expect(quoteLexeme('plain')).toBe("'plain'");
    expect(quoteLexeme("it's")).toBe("'it''s'");
    expect(quoteLexeme('a\\b')).toBe("'a\\\\b'");
    expect(quoteLexeme("'\\'")).toBe("'''\\\\'''");
  });

  it('writes words with weight A in order, parts with weight B after them, repeated tokens merged', () => {
    expect(tsvectorLiteral({ words: ['deploy', 'key', 'deploy'], parts: ['example', 'key'] })).toBe("'deploy':1A,3A 'key':2A,5B 'example':4B");
    expect(tsvectorLiteral({ words: [], parts: [] })).toBe('');
  });

  it('leaves out tokens PostgreSQL cannot hold, keeping their place, and clamps positions', () => {
    const long = 'x'.repeat(MAX_LEXEME_BYTES + 1);
    expect(tsvectorLiteral({ words: ['a', long, 'b'], parts: [] })).toBe("'a':1A 'b':3A");
    const many = Array.from({ length: MAX_POSITION + 2 }, (_, i) => `w${i}`);
    const v = tsvectorLiteral({ words: many, parts: [] });
    expect(v.endsWith(`'w${MAX_POSITION - 1}':${MAX_POSITION}A 'w${MAX_POSITION}':${MAX_POSITION}A 'w${MAX_POSITION + 1}':${MAX_POSITION}A`)).toBe(true);
  });

  it('compiles patterns: any column, a phrase in words, a piece in parts, prefixes, exclusions', () => {
    const q = (s: string) => pgSearchQuery(compileSearch(parseSearch(s)));
    expect(q('deploy')).toEqual({ match: "('deploy')", not: undefined });
    expect(q('"deploy key" -staging')).toEqual({ match: "('deploy':A <-> 'key':A) & !(('staging'))", not: undefined });
    expect(q('京')).toEqual({ match: "('京':*)", not: undefined });
    expect(q('has:link')?.match).toMatch(/^\('.+':B\)$/u);
    expect(q('in:#design -three')).toEqual({ match: undefined, not: "('three')" });
    expect(q('in:#design')).toEqual({ match: undefined, not: undefined });
  });

  it('matches nothing for a wanted token too long to index, and excludes nothing for such an excluded one', () => {
    const long = 'y'.repeat(MAX_LEXEME_BYTES + 1);
    expect(pgSearchQuery({ want: [{ tokens: [long], column: 'any', prefix: false }], not: [] })).toBeUndefined();
    expect(pgSearchQuery({ want: [{ tokens: ['a'], column: 'any', prefix: false }], not: [{ tokens: [long], column: 'any', prefix: false }] })).toEqual({
      match: "('a')",
      not: undefined,
    });
  });
});

// ----- on PostgreSQL ---------------------------------------------------------------------------

const stores: PgStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function open(log?: (msg: string, fields: Record<string, unknown>) => void): PgStore {
  const s = new PgStore({ url: pgUrl(), log });
  stores.push(s);
  return s;
}

async function sql<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: pgUrl() });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `id-${n}`, clientId: `c-${n}`, author: 'alice', authorId: 'u1', text, ts: 1_800_000_000_000 + n * 1000, kind: 'message', ...extra };
}

const search = (s: PgStore, q: string, extra: Partial<SearchSpec> = {}) => {
  const parsed = parseSearch(q);
  return s.search({ compiled: compileSearch(parsed), rooms: parsed.rooms, viewer: 'u1', limit: 20, budgetMs: 1000, ...extra });
};

describe('PgStore search on PostgreSQL', () => {
  beforeAll(ensurePostgres, 120_000);
  beforeEach(resetPg);

  it('stores lexemes as written: quotes, backslashes and private-use escapes come back unchanged', async () => {
    const s = open();
    await s.ready();
    const tokens = ["it's", 'a\\b', '\uE000x\uE001', '東京'];
    const [row] = await sql<{ lexemes: string[]; hit: boolean }>(
      'SELECT tsvector_to_array($1::tsvector) AS lexemes, $1::tsvector @@ $2::tsquery AS hit',
      [tsvectorLiteral({ words: tokens, parts: [] }), tokens.map(quoteLexeme).join(' <-> ')],
    );
    expect([...(row?.lexemes ?? [])].sort()).toEqual([...tokens].sort());
    expect(row?.hit).toBe(true);
    await s.commit('lobby', [draft("{words}: 'quote' \\ back")], 'e');
    expect((await search(s, "'quote'")).hits.map((h) => h.text)).toEqual(["{words}: 'quote' \\ back"]);
  });

  it('indexes a database migrated from the release before search, in batches, newest first with the messages sent since', async () => {
    // The schema as that release left it, with messages.
    await sql('CREATE TABLE fiberchat_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const searchMigration = MIGRATIONS.findIndex((m) => m.includes('search_backfill'));
    for (const [i, m] of MIGRATIONS.slice(0, searchMigration).entries()) {
      await sql(m);
      await sql('INSERT INTO fiberchat_migrations (version) VALUES ($1)', [i + 1]);
    }
    const count = 2 * BACKFILL_BATCH + 500;
    await sql("INSERT INTO rooms (name, epoch, last_seq, visibility) VALUES ('old', 'e', $1, 'public')", [count]);
    await sql(
      `INSERT INTO messages (room, seq, id, author, author_id, text, ts, kind)
       SELECT 'old', g, 'm' || g, 'alice', 'u1', CASE WHEN g % 1000 = 0 THEN 'milestone ' || g ELSE 'routine ' || g END, 1700000000000 + g, 'message'
       FROM generate_series(1, $1::int) AS g`,
      [count],
    );
    await sql("UPDATE messages SET deleted = true, text = '' WHERE seq = 2000");
    const lines: Array<[string, Record<string, unknown>]> = [];
    const s = open((msg, fields) => lines.push([msg, fields]));
    // Live messages are indexed at once, while the backfill runs.
    await s.commit('old', [{ id: 'new', clientId: 'new-client', author: 'bob', authorId: 'u2', text: 'milestone reached live', ts: Date.now(), kind: 'message' }], 'e');
    await s.indexed;
    expect((await search(s, 'milestone')).hits.map((h) => h.text)).toEqual(['milestone reached live', 'milestone 4000', 'milestone 3000', 'milestone 1000']);
    expect((await search(s, 'routine', { limit: 5 })).hits.map((h) => h.seq)).toEqual([count, count - 1, count - 2, count - 3, count - 4]);
    expect(lines.map(([m]) => m)).toEqual(expect.arrayContaining(['search index: indexing existing messages', 'search index: existing messages indexed']));
    expect(lines.find(([m]) => m === 'search index: existing messages indexed')?.[1]).toMatchObject({ entriesRead: count + 1 }); // each once, the live one too
    expect(await sql("SELECT 1 FROM meta WHERE key = 'search_backfill'")).toEqual([]);
    // Done: the next start has nothing to do.
    await s.close();
    stores.pop();
    const again = open((msg) => lines.push([`again: ${msg}`, {}]));
    await again.indexed;
    expect(lines.filter(([m]) => m.startsWith('again:'))).toEqual([]);
    expect((await search(again, 'milestone')).hits).toHaveLength(4);
  }, 60_000);

  it('indexes messages left unindexed again on the next start, edited and deleted ones as they are', async () => {
    const s = open();
    const { results } = await s.commit('lobby', [draft('alpha one'), draft('alpha two'), draft('alpha three'), draft('alpha four')], 'e');
    const seqs = results.map((r) => ('message' in r ? r.message.seq : -1));
    await s.indexed;
    await s.close();
    stores.pop();
    // As if stored before the index: nothing indexed, the backfill pending from the start.
    await sql('UPDATE messages SET search = NULL, search_pos = NULL');
    await sql("INSERT INTO meta (key, value) VALUES ('search_backfill', '')");
    const again = open();
    // Closed before the backfill's first batch: the next start does it.
    await again.close();
    stores.pop();
    const third = open();
    await third.commit('lobby', [draft('alpha edited', { kind: 'edit', target: seqs[1] }), draft('', { kind: 'delete', target: seqs[2] })], 'e');
    await third.indexed;
    expect((await search(third, 'alpha')).hits.map((h) => h.text)).toEqual(['alpha four', 'alpha edited', 'alpha one']);
    expect((await search(third, 'two')).hits).toEqual([]);
  });

  it('gives a message whose slot is taken the next free one, and keeps every position unique', async () => {
    const s = open();
    const [first] = (await s.commit('a', [draft('slot first')], 'e')).results;
    const ts = 1_900_000_000_000;
    // The next value of the sequence puts the next message at slot 0 of its ms: take that slot first.
    await sql('UPDATE messages SET search_pos = $1', [ts * SLOTS_PER_MS]);
    await sql("SELECT setval('search_pos_seq', $1)", [SLOTS_PER_MS - 1]);
    await s.commit('b', [draft('slot second', { ts })], 'e');
    const page = await search(s, 'slot');
    expect(page.hits.map((h) => [h.text, h.position])).toEqual([
      ['slot second', ts * SLOTS_PER_MS + 1],
      ['slot first', ts * SLOTS_PER_MS],
    ]);
    expect(first && 'message' in first).toBe(true);
  });

  it('pages through more matches than one chunk reads, newest first, neither repeating nor skipping', async () => {
    const s = open();
    const total = 700;
    for (let i = 0; i < total; i += 350) await s.commit('lobby', Array.from({ length: 350 }, (_, k) => draft(`bulk ${i + k}`)), 'e');
    const seen: string[] = [];
    let below: number | undefined;
    for (;;) {
      const p = await search(s, 'bulk', { limit: 300, below });
      seen.push(...p.hits.map((h) => h.text));
      if (p.next === undefined) break;
      below = p.next;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => `bulk ${total - 1 - i}`));
  }, 30_000);

  it('answers what it found when its time is spent, and where to go on from', async () => {
    const s = open();
    await s.commit('lobby', [draft('needle in public')], 'e');
    await s.createRoom('p-hidden', { visibility: 'private', owner: 'u9' }, 'e2');
    for (let i = 0; i < 4; i++) await s.commit('p-hidden', Array.from({ length: 500 }, (_, k) => draft(`needle hidden ${i * 500 + k}`, { authorId: 'u9' })), 'e2');
    // No time at all: the first chunk (the newest 256 positions, all in the hidden room) runs or is
    // cancelled by its statement_timeout, and either way the page ends there, empty, with a place to go on from.
    const hurried = await search(s, 'needle', { budgetMs: 0 });
    expect(hurried).toMatchObject({ hits: [], partial: true });
    expect(hurried.next).toEqual(expect.any(Number));
    let page = hurried;
    while (page.partial) page = await search(s, 'needle', { below: page.next, budgetMs: 1000 });
    expect(page.hits.map((h) => h.text)).toEqual(['needle in public']);
  }, 30_000);
});
