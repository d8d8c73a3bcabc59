import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSearch } from '../../shared/search-query.ts';
import { compileSearch } from './search-text.ts';
import { BACKFILL_BATCH } from './sqlite-search.ts';
import { MIGRATIONS, createPrivately } from './sqlite-schema.ts';
import { SqliteStore } from './sqlite-store.ts';
import { sqliteFile, testStores } from './test-stores.ts';

testStores(); // removes the temporary folders after each test
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A database as the release before search left it: every migration but the search index's, and `count` messages. */
function olderDatabase(count: number): string {
  const file = sqliteFile();
  createPrivately(file);
  const db = new Database(file);
  // The schema as the release before search left it.
  MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.includes('search_backfill'))).forEach((m, i) => {
    db.exec(m);
    db.pragma(`user_version = ${i + 1}`);
  });
  db.prepare("INSERT INTO rooms (name, epoch, created_at, visibility) VALUES ('old', 'e', 0, 'public')").run();
  const insert = db.prepare("INSERT INTO messages (room, seq, id, author, author_id, text, ts, kind) VALUES ('old', ?, ?, 'alice', 'u1', ?, ?, 'message')");
  db.transaction(() => {
    for (let seq = 1; seq <= count; seq++) insert.run(seq, `m${seq}`, seq % 1000 === 0 ? `milestone ${seq}` : `routine ${seq}`, 1_700_000_000_000 + seq);
  })();
  db.prepare("UPDATE messages SET deleted = 1, text = '' WHERE seq = 2000").run();
  db.close();
  return file;
}

const search = (s: SqliteStore, q: string, limit = 20) => {
  const parsed = parseSearch(q);
  return s.search({ compiled: compileSearch(parsed), rooms: parsed.rooms, viewer: 'u1', limit, budgetMs: 1000 });
};

describe('indexing a database from before search', () => {
  it('indexes every message in batches on start, logging progress, newest first with the messages sent since', async () => {
    const count = 2 * BACKFILL_BATCH + 500;
    const file = olderDatabase(count);
    const lines: Array<[string, Record<string, unknown>]> = [];
    const s = new SqliteStore({ file, log: (msg, fields) => lines.push([msg, fields]) });
    stores.push(s);
    // Live messages are indexed at once, while the backfill runs.
    await s.commit('old', [{ id: 'new', clientId: 'new-client', author: 'bob', authorId: 'u2', text: 'milestone reached live', ts: Date.now(), kind: 'message' }], 'e');
    await s.indexed;
    const found = await search(s, 'milestone');
    expect(found.hits.map((h) => h.text)).toEqual(['milestone reached live', 'milestone 4000', 'milestone 3000', 'milestone 1000']);
    expect((await search(s, 'routine', 5)).hits.map((h) => h.seq)).toEqual([count, count - 1, count - 2, count - 3, count - 4]);
    // Pages go on across live and older messages alike.
    const parsed = parseSearch('milestone');
    const first = await s.search({ compiled: compileSearch(parsed), rooms: [], viewer: 'u1', limit: 2, budgetMs: 1000 });
    const second = await s.search({ compiled: compileSearch(parsed), rooms: [], viewer: 'u1', limit: 2, budgetMs: 1000, below: first.next });
    expect([...first.hits, ...second.hits].map((h) => h.text)).toEqual(['milestone reached live', 'milestone 4000', 'milestone 3000', 'milestone 1000']);
    expect(second.next).toBeUndefined();
    expect(lines.map(([m]) => m)).toEqual(expect.arrayContaining(['search index: indexing existing messages', 'search index: existing messages indexed']));
    expect(lines.find(([m]) => m === 'search index: existing messages indexed')?.[1]).toMatchObject({ entriesRead: count + 1 }); // each once, the live one too
    // Done: the next start has nothing to do.
    await s.close();
    stores.pop();
    const again = new SqliteStore({ file, log: (msg) => lines.push([`again: ${msg}`, {}]) });
    stores.push(again);
    await again.indexed;
    expect(lines.filter(([m]) => m.startsWith('again:'))).toEqual([]);
    expect((await search(again, 'milestone')).hits).toHaveLength(4);
  });

  it('leaves what a store closed early did not index to the next start', async () => {
    const file = olderDatabase(BACKFILL_BATCH * 3);
    const first = new SqliteStore({ file });
    // Closed before the backfill's first turn: nothing indexed, the place still at the start.
    await first.close();
    const second = new SqliteStore({ file });
    stores.push(second);
    await second.indexed;
    expect((await search(second, 'milestone')).hits.map((h) => h.text)).toEqual(['milestone 6000', 'milestone 5000', 'milestone 4000', 'milestone 3000', 'milestone 1000']);
  });

  it('a store closed in the middle goes on from its place at the next start: nothing skipped, nothing twice', async () => {
    const file = olderDatabase(6000);
    let closing: Promise<void> | undefined;
    // Small batches, progress every 50 of them: close at the first progress line (2,500 entries in).
    const first: SqliteStore = new SqliteStore({
      file,
      searchBackfillBatch: 50,
      log: (msg) => {
        if (msg === 'search index: indexing') closing ??= first.close();
      },
    });
    await first.indexed;
    await closing;
    expect(closing).toBeDefined();
    const db = new Database(file, { readonly: true });
    const place = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'search_backfill'").get();
    db.close();
    const [, seq] = JSON.parse(place?.value ?? '[]') as [string, number];
    expect(seq).toBeGreaterThanOrEqual(2500);
    expect(seq).toBeLessThan(6000);

    const second = new SqliteStore({ file });
    stores.push(second);
    await second.indexed;
    expect((await search(second, 'milestone')).hits.map((h) => h.text)).toEqual(['milestone 6000', 'milestone 5000', 'milestone 4000', 'milestone 3000', 'milestone 1000']);
    const routine = await search(second, 'routine', 100);
    expect(new Set(routine.hits.map((h) => h.seq)).size).toBe(routine.hits.length);
  });
});
