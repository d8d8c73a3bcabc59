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
