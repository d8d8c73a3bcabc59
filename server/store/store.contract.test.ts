import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../shared/protocol.ts';
import { MemoryStore } from './memory-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { SeqConflict, type Store } from './store.ts';

function msg(room: string, seq: number, extra: Partial<Message> = {}): Message {
  return { room, seq, id: `id-${room}-${seq}`, author: 'alice', authorId: 'u1', text: `hello ${seq}`, ts: 1000 + seq, ...extra };
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

const impls: Array<[string, () => Store]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SqliteStore', () => new SqliteStore({ file: sqliteFile() })],
  ['SqliteStore with checkpoint worker', () => new SqliteStore({ file: sqliteFile(), checkpointEveryMs: 5 })],
];

describe.each(impls)('%s contract', (_name, make) => {
  it('opens an empty room with a stable epoch', async () => {
    const s = make();
    const a = await s.openRoom('lobby');
    expect(a.lastSeq).toBe(0);
    expect(a.epoch).toMatch(/\S{8,}/);
    expect((await s.openRoom('lobby')).epoch).toBe(a.epoch);
    expect((await s.openRoom('other')).epoch).not.toBe(a.epoch);
    await s.close();
  });

  it('appends batches and reads ranges in seq order', async () => {
    const s = make();
    await s.openRoom('r');
    await s.append('r', [msg('r', 1), msg('r', 2, { clientId: 'client-0002' })]);
    await s.append('r', [msg('r', 3)]);
    expect((await s.openRoom('r')).lastSeq).toBe(3);
    expect((await s.readAfter('r', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await s.readAfter('r', 1, 1)).map((m) => m.seq)).toEqual([2]);
    expect((await s.readBefore('r', 3, 10)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await s.readBefore('r', 4, 2)).map((m) => m.seq)).toEqual([2, 3]);
    expect(await s.readBefore('r', 1, 10)).toEqual([]);
    expect(await s.readAfter('r', 3, 10)).toEqual([]);
    const [two] = await s.readAfter('r', 1, 1);
    expect(two).toEqual(msg('r', 2, { clientId: 'client-0002' }));
    await s.close();
  });

  it('refuses a batch that does not continue the log, and commits none of it', async () => {
    const s = make();
    await s.openRoom('r');
    await s.append('r', [msg('r', 1)]);
    await expect(s.append('r', [msg('r', 2), msg('r', 4)])).rejects.toBeInstanceOf(SeqConflict);
    expect((await s.openRoom('r')).lastSeq).toBe(1);
    await s.close();
  });

  it('finds stored messages by author and client id', async () => {
    const s = make();
    await s.openRoom('r');
    await s.append('r', [
      msg('r', 1, { clientId: 'aaaaaaaa' }),
      msg('r', 2, { clientId: 'bbbbbbbb', authorId: 'u2' }),
      msg('r', 3, { clientId: 'cccccccc' }),
    ]);
    const found = await s.findByClientIds('r', 'u1', ['aaaaaaaa', 'bbbbbbbb', 'zzzzzzzz']);
    expect(found.map((m) => m.seq)).toEqual([1]);
    expect(await s.findByClientIds('r', 'u1', [])).toEqual([]);
    await s.close();
  });
});

describe('SqliteStore durability', () => {
  it('checkpoints on its worker thread and leaves a complete database on close', async () => {
    const file = sqliteFile();
    const a = new SqliteStore({ file, checkpointEveryMs: 5 });
    await a.openRoom('r');
    for (let i = 1; i <= 200; i++) await a.append('r', [msg('r', i, { text: 'x'.repeat(500) })]);
    await a.close();
    // The final TRUNCATE checkpoint emptied the WAL into the database file.
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
    const b = new SqliteStore({ file });
    expect((await b.openRoom('r')).lastSeq).toBe(200);
    await b.close();
  });

  it('keeps messages and epoch across reopen of the same file', async () => {
    const file = sqliteFile();
    const a = new SqliteStore({ file });
    const { epoch } = await a.openRoom('r');
    await a.append('r', [msg('r', 1), msg('r', 2)]);
    await a.close();
    const b = new SqliteStore({ file, synchronous: 'FULL' });
    expect(await b.openRoom('r')).toEqual({ epoch, lastSeq: 2 });
    expect((await b.readAfter('r', 0, 10)).map((m) => m.text)).toEqual(['hello 1', 'hello 2']);
    await b.close();
  });
});
