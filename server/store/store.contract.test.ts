import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Draft, Store } from './store.ts';

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `id-${n}`, clientId: `client-${n.toString().padStart(4, '0')}`, author: 'alice', authorId: 'u1', text, ts: 1000 + n, ...extra };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sqliteFile() {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'chat.db');
}

/** Each implementation, and (where it can) a second instance over the same data: another writer. */
interface Impl {
  make(): Store;
  /** Two instances sharing one database, as two processes or nodes would. */
  pair?(): [Store, Store];
}

const impls: Array<[string, Impl]> = [
  ['MemoryStore', { make: () => new MemoryStore() }],
  [
    'SqliteStore',
    {
      make: () => new SqliteStore({ file: sqliteFile() }),
      pair: () => {
        const file = sqliteFile();
        return [new SqliteStore({ file }), new SqliteStore({ file })];
      },
    },
  ],
  ['SqliteStore with checkpoint worker', { make: () => new SqliteStore({ file: sqliteFile(), checkpointEveryMs: 5 }) }],
];

describe.each(impls)('%s contract', (_name, impl) => {
  it('knows nothing of a room before its first message, and writes nothing to say so', async () => {
    const s = impl.make();
    expect(await s.roomLog('lobby')).toBeUndefined();
    expect(await s.readAfter('lobby', 0, 10)).toEqual([]);
    expect(await s.readBefore('lobby', 100, 10)).toEqual([]);
    const none = await s.commit('lobby', [], 'epoch-a');
    expect(none.results).toEqual([]);
    expect(await s.roomLog('lobby')).toBeUndefined();
    await s.close();
  });

  it('creates the room with its first message, under the proposed epoch, and keeps that epoch', async () => {
    const s = impl.make();
    const first = await s.commit('lobby', [draft('hi')], 'epoch-a');
    expect(first.log).toEqual({ epoch: 'epoch-a', lastSeq: 1 });
    expect(await s.roomLog('lobby')).toEqual({ epoch: 'epoch-a', lastSeq: 1 });
    const second = await s.commit('lobby', [draft('again')], 'epoch-b');
    expect(second.log).toEqual({ epoch: 'epoch-a', lastSeq: 2 });
    expect((await s.commit('other', [draft('x')], 'epoch-c')).log.epoch).toBe('epoch-c');
    await s.close();
  });

  it('assigns gap-free seqs and reads ranges in seq order', async () => {
    const s = impl.make();
    const a = await s.commit('r', [draft('one'), draft('two', { clientId: 'client-two' })], 'e');
    expect(a.results.map((r) => [r.message.seq, r.duplicate])).toEqual([
      [1, false],
      [2, false],
    ]);
    await s.commit('r', [draft('three')], 'e');
    expect((await s.roomLog('r'))?.lastSeq).toBe(3);
    expect((await s.readAfter('r', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await s.readAfter('r', 1, 1)).map((m) => m.seq)).toEqual([2]);
    expect((await s.readBefore('r', 3, 10)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await s.readBefore('r', 4, 2)).map((m) => m.seq)).toEqual([2, 3]);
    expect(await s.readBefore('r', 1, 10)).toEqual([]);
    expect(await s.readAfter('r', 3, 10)).toEqual([]);
    const [two] = await s.readAfter('r', 1, 1);
    expect(two).toEqual({ ...a.results[1]?.message });
    expect(two).toMatchObject({ room: 'r', seq: 2, text: 'two', clientId: 'client-two', author: 'alice', authorId: 'u1' });
    await s.close();
  });

  it('stores a retried clientId once, in a later batch or the same one, and answers with the original', async () => {
    const s = impl.make();
    const original = draft('hello', { clientId: 'retry-0001' });
    const first = await s.commit('r', [original], 'e');
    const again = await s.commit('r', [draft('hello', { clientId: 'retry-0001' }), draft('new'), draft('new', { clientId: 'retry-0001' })], 'e');
    expect(again.results.map((r) => [r.message.seq, r.duplicate])).toEqual([
      [1, true],
      [2, false],
      [1, true],
    ]);
    expect(again.results[0]?.message).toEqual(first.results[0]?.message);
    // Within one batch, the second copy of a new clientId is the duplicate.
    const twice = await s.commit('r', [draft('a', { clientId: 'twice-0001' }), draft('a', { clientId: 'twice-0001' })], 'e');
    expect(twice.results.map((r) => [r.message.seq, r.duplicate])).toEqual([
      [3, false],
      [3, true],
    ]);
    // Another author may use the same clientId independently.
    const bob = await s.commit('r', [draft('hi', { clientId: 'retry-0001', authorId: 'u2', author: 'bob' })], 'e');
    expect(bob.results[0]).toMatchObject({ duplicate: false, message: { seq: 4 } });
    expect((await s.readAfter('r', 0, 10)).length).toBe(4);
    await s.close();
  });

  it.runIf(impl.pair !== undefined)('orders commits from two writers on one room: no gap, no duplicate, each sees the other', async () => {
    const [a, b] = (impl.pair as () => [Store, Store])();
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const writer = i % 3 === 0 ? b : a;
      const res = await writer.commit('shared', [draft(`m${i}`), draft(`n${i}`)], `epoch-${i % 2 === 0 ? 'a' : 'b'}`);
      seqs.push(...res.results.map((r) => r.message.seq));
      expect(res.log.lastSeq).toBe(seqs.length);
    }
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // A retry through the other writer finds what the first committed.
    const c = draft('once', { clientId: 'cross-0001' });
    const viaA = await a.commit('shared', [c], 'x');
    const viaB = await b.commit('shared', [{ ...c, id: 'other-id' }], 'x');
    expect(viaB.results[0]).toEqual({ message: viaA.results[0]?.message, duplicate: true });
    // The first writer's epoch is the room's, whoever proposes another.
    expect((await a.roomLog('shared'))?.epoch).toBe('epoch-a');
    expect(await b.roomLog('shared')).toEqual(await a.roomLog('shared'));
    await a.close();
    await b.close();
  });
});

describe('SqliteStore durability', () => {
  it('checkpoints on its worker thread and leaves a complete database on close', async () => {
    const file = sqliteFile();
    const a = new SqliteStore({ file, checkpointEveryMs: 5 });
    for (let i = 1; i <= 200; i++) await a.commit('r', [draft('x'.repeat(500))], 'e');
    await a.close();
    // The final TRUNCATE checkpoint emptied the WAL into the database file.
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
    const b = new SqliteStore({ file });
    expect((await b.roomLog('r'))?.lastSeq).toBe(200);
    await b.close();
  });

  it('keeps messages and epoch across reopen of the same file', async () => {
    const file = sqliteFile();
    const a = new SqliteStore({ file });
    await a.commit('r', [draft('hello 1'), draft('hello 2')], 'the-epoch');
    await a.close();
    const b = new SqliteStore({ file, synchronous: 'FULL' });
    expect(await b.roomLog('r')).toEqual({ epoch: 'the-epoch', lastSeq: 2 });
    expect((await b.readAfter('r', 0, 10)).map((m) => m.text)).toEqual(['hello 1', 'hello 2']);
    await b.close();
  });

  it('creates its folder 0700 and the database 0600, and the WAL with the same mode', async () => {
    const file = sqliteFile();
    const s = new SqliteStore({ file });
    await s.commit('r', [draft('private')], 'e');
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    await s.close();
  });
});
