import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../shared/protocol.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { pageAfter, pageBefore, pageBytes, readWithin } from './pages.ts';

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
