/**
 * Search benchmark: a generated SQLite database of MESSAGES messages over
 * ROOMS rooms (words drawn with Zipf frequencies from a vocabulary of
 * VOCABULARY, a few links, dotted names and Japanese lines among them),
 * written through the store's own commit (so the index is the one a server
 * builds), then SEARCHES searches through `Store.search`, a third each of:
 *
 * - common: one of the 20 most frequent words (the worst case for an index:
 *   hundreds of thousands of matches, of which a page is wanted);
 * - rare: one word ranked 2,000 or lower;
 * - phrase: two words that follow each other in a generated message.
 *
 * Then the same database and the same searches on PostgreSQL (a throwaway
 * server started for the run, as the cluster scenario does; skipped with the
 * reason when PostgreSQL is not installed).
 *
 * Reports p50/p99 per kind (ms, the store call: the engine with its access
 * check, not the network), and the index's size on disk against the
 * messages' text: on SQLite the FTS5 tables and the document map (dbstat);
 * on PostgreSQL the `search` tsvector column, its GIN index and the
 * newest-first order index. Prints one JSON object on stdout. `--quick`
 * shrinks the sizes; `--sizes` prints every table's size; `--keep` leaves the
 * SQLite database behind; `--sqlite-only` skips PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { parseSearch } from '../shared/search-query.ts';
import pg from 'pg';
import { startPostgres } from '../scripts/services/index.ts';
import { compileSearch } from '../server/store/search-text.ts';
import { PgStore } from '../server/store/pg-store.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';
import type { Draft, Store } from '../server/store/store.ts';
import { quantile } from './lib/stats.ts';

const quick = process.argv.includes('--quick');
const MESSAGES = quick ? 50_000 : 1_000_000;
const ROOMS = quick ? 100 : 1000;
const VOCABULARY = 20_000;
const SEARCHES = quick ? 300 : 1000;
const BATCH = 500;

/** A small deterministic PRNG (mulberry32), so every run searches the same database. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'de', 'po', 'an', 'el', 'is', 'or', 'um', 'ba', 'ce', 'fi', 'gu', 'hy'];
/** Word i of the vocabulary: a pronounceable string, distinct for every i. */
function word(i: number): string {
  let s = '';
  let n = i + 1;
  while (n > 0) {
    s += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return s;
}

/** Zipf (s = 1.07) ranks by inverse transform over the cumulative weights. */
function zipf(random: () => number): () => number {
  const cum = new Float64Array(VOCABULARY);
  let total = 0;
  for (let r = 0; r < VOCABULARY; r++) {
    total += 1 / Math.pow(r + 1, 1.07);
    cum[r] = total;
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = VOCABULARY - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function messageText(random: () => number, rank: () => number): string {
  const r = random();
  if (r < 0.02) return `東京の${word(rank())}について話しました`;
  const n = 3 + Math.floor(random() * 20);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(word(rank()));
  if (r < 0.07) words.push(`https://${word(rank())}.example.com/${word(rank())}`);
  else if (r < 0.1) words.push(`v${Math.floor(random() * 5)}.${Math.floor(random() * 10)}`);
  return words.join(' ');
}

async function fill(store: Store): Promise<{ textBytes: number; ms: number }> {
  const random = prng(42);
  const rank = zipf(random);
  const t = performance.now();
  let textBytes = 0;
  const start = Date.UTC(2026, 0, 1);
  for (let done = 0; done < MESSAGES; done += BATCH) {
    const room = `room-${Math.floor(random() * ROOMS)}`;
    const drafts: Draft[] = [];
    for (let k = 0; k < BATCH && done + k < MESSAGES; k++) {
      const i = done + k;
      const text = messageText(random, rank);
      textBytes += Buffer.byteLength(text);
      drafts.push({ id: `m${i}`, clientId: `c${i}`, author: 'gen', authorId: `u${i % 500}`, text, ts: start + i * 1000, kind: 'message' });
    }
    await store.commit(room, drafts, `epoch-${room}`);
  }
  return { textBytes, ms: Math.round(performance.now() - t) };
}

function queries(): Array<{ kind: 'common' | 'rare' | 'phrase'; q: string }> {
  const random = prng(7);
  const rank = zipf(random);
  const out: Array<{ kind: 'common' | 'rare' | 'phrase'; q: string }> = [];
  for (let i = 0; i < SEARCHES; i++) {
    const kind = (['common', 'rare', 'phrase'] as const)[i % 3] as 'common' | 'rare' | 'phrase';
    if (kind === 'common') out.push({ kind, q: word(Math.floor(random() * 20)) });
    else if (kind === 'rare') out.push({ kind, q: word(2000 + Math.floor(random() * (VOCABULARY - 2000))) });
    else out.push({ kind, q: `"${word(rank())} ${word(rank())}"` });
  }
  return out;
}

async function measure(store: Store): Promise<Record<string, { p50: number; p99: number; results: number }>> {
  const byKind: Record<string, number[]> = { common: [], rare: [], phrase: [] };
  const found: Record<string, number> = { common: 0, rare: 0, phrase: 0 };
  const list = queries();
  // Warm-up: the first searches page the index in.
  for (const { q } of list.slice(0, 30)) await run(store, q);
  for (const { kind, q } of list) {
    const t = performance.now();
    const page = await run(store, q);
    byKind[kind]?.push(performance.now() - t);
    found[kind] = (found[kind] ?? 0) + page.hits.length;
  }
  const out: Record<string, { p50: number; p99: number; results: number }> = {};
  for (const [kind, ms] of Object.entries(byKind)) {
    const sorted = [...ms].sort((a, b) => a - b);
    out[kind] = { p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)), results: round((found[kind] ?? 0) / Math.max(1, ms.length)) };
  }
  return out;
}

function run(store: Store, q: string) {
  const parsed = parseSearch(q);
  return store.search({ compiled: compileSearch(parsed), rooms: parsed.rooms, viewer: 'reader', limit: 20, budgetMs: 1000 });
}

const round = (x: number) => Math.round(x * 100) / 100;

type Measured = Record<string, unknown>;

/** The same fill and searches on a throwaway PostgreSQL; the index is the tsvector column and its two indexes. */
async function onPostgres(): Promise<Measured> {
  let server;
  try {
    server = await startPostgres();
  } catch (err) {
    return { skipped: `PostgreSQL did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    const store = new PgStore({ url: server.url, maxConnections: 4, timeoutMs: 60_000 });
    await store.ready();
    const filled = await fill(store);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      // Statistics for the planner, as autovacuum would have gathered them on a live server.
      await client.query('VACUUM ANALYZE messages');
      const measured = await measure(store);
      const size = await client.query<{ column_bytes: string; gin_bytes: string; pos_bytes: string }>(
        `SELECT (SELECT SUM(pg_column_size(search)) FROM messages) AS column_bytes,
                pg_relation_size('messages_search') AS gin_bytes,
                pg_relation_size('messages_search_pos') AS pos_bytes`,
      );
      const row = size.rows[0];
      const indexBytes = Number(row?.column_bytes ?? 0) + Number(row?.gin_bytes ?? 0) + Number(row?.pos_bytes ?? 0);
      if (process.argv.includes('--sizes')) console.error(row);
      return { ...measured, fillMs: filled.ms, indexBytes, indexToText: round(indexBytes / filled.textBytes) };
    } finally {
      await client.end();
      await store.close();
    }
  } finally {
    await server.dispose();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-search-bench-'));
  try {
    const file = join(dir, 'search.db');
    const store = new SqliteStore({ file });
    const filled = await fill(store);
    const sqlite = await measure(store);
    await store.close();
    const db = new Database(file, { readonly: true });
    const sizes = db.prepare<[], { name: string; bytes: number }>('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all();
    db.close();
    if (process.argv.includes("--sizes")) console.error(sizes);
    const indexBytes = sizes.filter((s) => s.name.startsWith('search_')).reduce((n, s) => n + s.bytes, 0);
    console.log(
      JSON.stringify({
        messages: MESSAGES,
        rooms: ROOMS,
        searches: SEARCHES,
        fillMs: filled.ms,
        textBytes: filled.textBytes,
        sqlite: { ...sqlite, indexBytes, indexToText: round(indexBytes / filled.textBytes) },
        postgres: process.argv.includes('--sqlite-only') ? { skipped: '--sqlite-only' } : await onPostgres(),
      }),
    );
  } finally {
    if (process.argv.includes('--keep')) console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
