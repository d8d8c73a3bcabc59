import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../shared/protocol.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { pageAfter, pageAt, pageBefore, pageBytes, rangeOf, readWithin } from './pages.ts';

/** A store whose reads are counted, to see what a page costs. */
async function room(count: number, textChars: number) {
  const store = new MemoryStore();
  const drafts = Array.from({ length: count }, (_, i) => ({
    id: `m${i}`,
    clientId: `c-${i}-xxxxx`,
    author: 'a',
    authorId: 'u',
    text: 'x'.repeat(textChars),
    ts: i,
    kind: 'message' as const,
  }));
  await store.commit('r', drafts, 'e');
  let rowsRead = 0;
  const readBefore = store.readBefore.bind(store);
  const readAfter = store.readAfter.bind(store);
  store.readBefore = async (...args) => {
    const rows = await readBefore(...args);
    rowsRead += rows.length;
    return rows;
  };
  store.readAfter = async (...args) => {
    const rows = await readAfter(...args);
    rowsRead += rows.length;
    return rows;
  };
  return { store, rows: () => rowsRead };
}

describe('pages bounded by bytes', () => {
  it('a page of long messages reads about what it returns, not the whole limit', async () => {
    const { store, rows } = await room(400, 8000); // ~16 KB each
    const page = await pageBefore(store, 'r', 401, 200);
    expect(pageBytes(page)).toBeLessThanOrEqual(LIMITS.pageMaxBytes);
    expect(page.at(-1)?.seq).toBe(400);
    expect(page.map((m) => m.seq)).toEqual(Array.from({ length: page.length }, (_, i) => 401 - page.length + i));
    expect(rows()).toBeLessThan(page.length + 30);
  });

  it('a page of short messages is the whole limit in two reads at most', async () => {
    const { store, rows } = await room(400, 50);
    const page = await pageBefore(store, 'r', 401, 200);
    expect(page).toHaveLength(200);
    expect(rows()).toBe(200);
    const after = await pageAfter(store, 'r', 0, 200);
    expect(after.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('a replay over the byte limit is known incomplete without reading all of it', async () => {
    const { store, rows } = await room(1000, 8000);
    const r = await readWithin(store, 'r', 0, 1000, LIMITS.replayMaxBytes);
    expect(r.complete).toBe(false);
    expect(rows()).toBeLessThan(80);
    const small = await room(100, 50);
    expect(await readWithin(small.store, 'r', 10, 90, LIMITS.replayMaxBytes)).toMatchObject({ complete: true, messages: expect.any(Array) });
    expect((await readWithin(small.store, 'r', 10, 90, LIMITS.replayMaxBytes)).messages).toHaveLength(90);
  });
});

describe('a page around a seq', () => {
  const seqs = (page: readonly { seq: number }[]) => page.map((m) => m.seq);

  it('holds the seq with the entries just below and just above it', async () => {
    const { store } = await room(400, 50);
    expect(seqs(await pageAt(store, 'r', { around: 200 }, 10))).toEqual([196, 197, 198, 199, 200, 201, 202, 203, 204, 205]);
    expect(seqs(await pageAt(store, 'r', { around: 200 }, 1))).toEqual([200]);
    // At the ends of the log the page is shorter, never shifted off the seq.
    expect(seqs(await pageAt(store, 'r', { around: 2 }, 10))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seqs(await pageAt(store, 'r', { around: 399 }, 10))).toEqual([395, 396, 397, 398, 399, 400]);
  });

  it('long messages split the bytes between both sides and keep the seq', async () => {
    const { store } = await room(400, 8000);
    const page = await pageAt(store, 'r', { around: 200 }, 200);
    expect(pageBytes(page)).toBeLessThanOrEqual(LIMITS.pageMaxBytes);
    expect(seqs(page)).toContain(200);
    const below = page.filter((m) => m.seq <= 200).length;
    const above = page.filter((m) => m.seq > 200).length;
    expect(Math.abs(below - above)).toBeLessThanOrEqual(1);
    expect(seqs(page)).toEqual(Array.from({ length: page.length }, (_, i) => (page[0]?.seq ?? 0) + i));
  });

  it('after and before name the pages on either side', async () => {
    const { store } = await room(50, 50);
    expect(seqs(await pageAt(store, 'r', { after: 45 }, 10))).toEqual([46, 47, 48, 49, 50]);
    expect(seqs(await pageAt(store, 'r', { before: 4 }, 10))).toEqual([1, 2, 3]);
    expect(rangeOf({ around: 7 })).toEqual({ around: 7 });
    expect(rangeOf({ after: 0 })).toEqual({ after: 0 });
    expect(rangeOf({ before: 9 })).toEqual({ before: 9 });
  });
});
