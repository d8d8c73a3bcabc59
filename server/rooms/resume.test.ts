import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../shared/protocol.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { resume, type ResumeOptions } from './resume.ts';

/** A room `r` of `n` entries of `chars` characters each, and where its log ends. */
async function room(n: number, chars = 10) {
  const store = new MemoryStore();
  const drafts = Array.from({ length: n }, (_, i) => ({
    id: `m${i}`,
    clientId: `c-${i}-xxxxxx`,
    author: 'a',
    authorId: 'u-a',
    text: `${i + 1}`.padEnd(chars, '.'),
    ts: i,
    kind: 'message' as const,
  }));
  const { log } = await store.commit('r', drafts, 'e1');
  return { store, log: { room: 'r', epoch: log.epoch, lastSeq: log.lastSeq } };
}

const JOIN: ResumeOptions = { limit: LIMITS.replayMax, latest: LIMITS.joinPage, whole: true };
const READ: ResumeOptions = { limit: 200, latest: 50, whole: false };
const seqs = (r: { messages: { seq: number }[] }) => r.messages.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the resume rule', () => {
  it('nothing held: the latest page, recovered', async () => {
    const { store, log } = await room(80);
    const r = await resume(store, log, undefined, undefined, JOIN);
    expect({ seqs: seqs(r), recovered: r.recovered }).toEqual({ seqs: range(31, 80), recovered: true });
  });

  it('an empty log answers nothing, recovered', async () => {
    const store = new MemoryStore();
    expect(await resume(store, { room: 'r', epoch: 'e1', lastSeq: 0 }, undefined, undefined, JOIN)).toEqual({ messages: [], recovered: true });
  });

  it('the same epoch: exactly what follows, or nothing when up to date; no epoch counts as the same log', async () => {
    const { store, log } = await room(80);
    expect(seqs(await resume(store, log, 70, 'e1', JOIN))).toEqual(range(71, 80));
    expect(await resume(store, log, 80, 'e1', JOIN)).toEqual({ messages: [], recovered: true });
    expect(seqs(await resume(store, log, 75, undefined, JOIN))).toEqual(range(76, 80));
  });

  it('another epoch, or a seq past the end, cannot be replayed: the latest page, not recovered', async () => {
    const { store, log } = await room(80);
    for (const [since, epoch] of [
      [70, 'e0'],
      [81, 'e1'],
    ] as const) {
      const r = await resume(store, log, since, epoch, JOIN);
      expect({ seqs: seqs(r), recovered: r.recovered }).toEqual({ seqs: range(31, 80), recovered: false });
    }
  });

  it('seq 0 holds nothing to mismatch: any epoch replays from the start', async () => {
    const { store, log } = await room(5);
    expect(await resume(store, log, 0, 'whatever', JOIN)).toMatchObject({ recovered: true, messages: range(1, 5).map((seq) => ({ seq })) });
  });

  it('more than the replay limit behind is not recovered; exactly the limit is', async () => {
    const { store, log } = await room(LIMITS.replayMax + 20);
    expect((await resume(store, log, 19, 'e1', JOIN)).recovered).toBe(false);
    const r = await resume(store, log, 20, 'e1', JOIN);
    expect({ n: r.messages.length, first: r.messages[0]?.seq, recovered: r.recovered }).toEqual({ n: LIMITS.replayMax, first: 21, recovered: true });
  });

  it('a join must answer the whole replay within its bytes, or it is not recovered; a read pages through the same replay', async () => {
    // Long entries: the replay of 300 is far over the join's byte limit.
    const { store, log } = await room(300, 4000);
    const joined = await resume(store, log, 0, 'e1', JOIN);
    expect(joined.recovered).toBe(false);
    const read = await resume(store, log, 0, 'e1', READ);
    expect(read.recovered).toBe(true);
    expect(read.messages[0]?.seq).toBe(1);
    expect(read.messages.length).toBeLessThan(300);
  });
});
