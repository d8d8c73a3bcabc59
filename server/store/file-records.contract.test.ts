/** The file records' contract, the same cases on every store. */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FileRecord } from './file-records.ts';
import { testStores } from './test-stores.ts';
import type { Store } from './store.ts';

const impls = testStores().filter(([name]) => ['MemoryStore', 'SqliteStore', 'PgStore'].includes(name));
const T = 1_800_000_000_000;
const HOUR = 3_600_000;
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function file(id: string, extra: Partial<FileRecord> = {}): FileRecord {
  return { id, room: 'lobby', uploaderId: 'u1', sha256: SHA_A, name: `${id}.png`, type: 'image/png', size: 1000, createdAt: T, ...extra };
}

describe.each(impls)('file records on %s', (_, impl) => {
  let store: Store;
  beforeAll(async () => impl.setup?.(), 120_000);
  beforeEach(async () => {
    await impl.reset?.();
    store = impl.make();
  });
  afterEach(async () => store.close());

  it('records an upload as given and reads it back, dimensions optional, not yet sent', async () => {
    await store.files.add(file('f1', { width: 640, height: 480, name: 'Screenshot 2026-12-07 at 10.00.png' }));
    await store.files.add(file('f2', { type: 'application/pdf', name: 'plan.pdf', size: 25 * 1024 * 1024 }));
    expect(await store.files.get('f1')).toEqual(file('f1', { width: 640, height: 480, name: 'Screenshot 2026-12-07 at 10.00.png' }));
    const pdf = await store.files.get('f2');
    expect(pdf).toEqual(file('f2', { type: 'application/pdf', name: 'plan.pdf', size: 25 * 1024 * 1024 }));
    expect(pdf?.width).toBeUndefined();
    expect(pdf?.seq).toBeUndefined();
    expect(await store.files.get('nope')).toBeUndefined();
    await expect(store.files.add(file('f1'))).rejects.toThrow();
  });

  it('lists unsent uploads older than a time, oldest first, bounded', async () => {
    await store.files.add(file('late', { createdAt: T + 3 * HOUR }));
    await store.files.add(file('old2', { createdAt: T + HOUR }));
    await store.files.add(file('old1', { createdAt: T }));
    await store.files.add(file('old3', { createdAt: T + HOUR }));
    expect((await store.files.unsent(T + 2 * HOUR, 10)).map((f) => f.id)).toEqual(['old1', 'old2', 'old3']);
    expect((await store.files.unsent(T + 2 * HOUR, 2)).map((f) => f.id)).toEqual(['old1', 'old2']);
    expect(await store.files.unsent(T, 10)).toEqual([]);
  });

  it('says how many records still name a blob when one goes, so the bytes go with the last', async () => {
    await store.files.add(file('x1'));
    await store.files.add(file('x2', { uploaderId: 'u2', room: 'other' }));
    await store.files.add(file('y1', { sha256: SHA_B }));
    expect(await store.files.remove('x1')).toBe(1);
    expect(await store.files.get('x1')).toBeUndefined();
    expect(await store.files.remove('x1')).toBe(0);
    expect(await store.files.remove('x2')).toBe(0);
    expect(await store.files.get('y1')).toBeDefined();
  });

  it('marks unsent files of the room as sent with one message, once', async () => {
    await store.files.add(file('p1', { thumb: SHA_B, preview: SHA_B }));
    await store.files.add(file('p2'));
    await store.files.add(file('elsewhere', { room: 'other' }));
    expect(await store.files.attach(['p1', 'p2', 'elsewhere', 'missing'], 'lobby', 7)).toBe(2);
    expect(await store.files.get('p1')).toEqual(file('p1', { thumb: SHA_B, preview: SHA_B, seq: 7 }));
    expect((await store.files.get('elsewhere'))?.seq).toBeUndefined();
    // Already sent: a second message does not take it.
    expect(await store.files.attach(['p1'], 'lobby', 9)).toBe(0);
    expect((await store.files.get('p1'))?.seq).toBe(7);
    expect((await store.files.unsent(T + 1, 10)).map((f) => f.id)).toEqual(['elsewhere']);
  });

  it('keeps a message\'s attachments through commit and reads, sends its files in the same commit, and its tombstone drops them', async () => {
    const attachments = [{ id: 'file-0000000000000001', name: 'a.png', size: 10, type: 'image/png', url: '/files/file-0000000000000001/a.png', width: 2, height: 3, thumb: '/files/file-0000000000000001/a.png?size=320' }];
    await store.files.add(file('file-0000000000000001'));
    const sent = await store.commit('lobby', [{ id: 'e1', clientId: 'client-0001', author: 'alice', authorId: 'u1', text: '', ts: T, kind: 'message', attachments }], 'ep');
    const entry = sent.results[0];
    expect(entry && 'message' in entry ? entry.message.attachments : undefined).toEqual(attachments);
    expect((await store.readAfter('lobby', 0, 10))[0]?.attachments).toEqual(attachments);
    expect((await store.files.get('file-0000000000000001'))?.seq).toBe(1);
    await store.commit('lobby', [{ id: 'e2', clientId: 'client-0002', author: 'alice', authorId: 'u1', text: '', ts: T + 1, kind: 'delete', target: 1 }], 'ep');
    const [gone] = await store.readAfter('lobby', 0, 1);
    expect(gone?.deleted).toBe(true);
    expect(gone?.attachments).toBeUndefined();
  });

  it('counts bytes per uploader since a time, and for the whole deployment', async () => {
    await store.files.add(file('a', { size: 100, createdAt: T }));
    await store.files.add(file('b', { size: 200, createdAt: T + HOUR }));
    await store.files.add(file('c', { size: 400, uploaderId: 'u2', createdAt: T + HOUR }));
    expect(await store.files.uploadedBytes('u1', T)).toBe(300);
    expect(await store.files.uploadedBytes('u1', T + 1)).toBe(200);
    expect(await store.files.uploadedBytes('u3', 0)).toBe(0);
    expect(await store.files.totalBytes()).toBe(700);
  });
});
