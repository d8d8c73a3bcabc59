/**
 * The blob store's contract, the same cases on every backend: the local
 * disk (one process), PostgreSQL (a cluster; a throwaway server) and an
 * S3-compatible bucket (s3rver, an S3 server in Node, on loopback).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgres, pgUrl, resetPg } from '../store/test-stores.ts';
import { PgStore } from '../store/pg-store.ts';
import { BlobTooLarge, type BlobStore } from './blob-store.ts';
import { DiskBlobStore } from './disk-blobs.ts';
import { CHUNK_BYTES, PgBlobStore } from './pg-blobs.ts';
import { parseS3Url, S3BlobStore } from './s3-blobs.ts';
import S3rver from 's3rver';

const dirs: string[] = [];
const stores: PgStore[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const s of stores.splice(0)) await s.close();
});

/** Bytes in `parts` pieces, as a request body arrives. */
function source(bytes: Buffer, parts = 7): Readable {
  const size = Math.ceil(bytes.length / parts);
  return Readable.from(Array.from({ length: parts }, (_, i) => bytes.subarray(i * size, (i + 1) * size)).filter((b) => b.length > 0));
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function bytesOf(s: BlobStore, name: string, range?: { start: number; end: number }): Promise<Buffer | null> {
  const got = await s.get(name, range);
  if (!got) return null;
  const parts: Buffer[] = [];
  for await (const c of got.stream) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}
/** Deterministic bytes that are not one repeated value. */
function data(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

interface Backend {
  name: string;
  open(): Promise<BlobStore>;
  /** What a put that did not finish left behind (provisional files or rows). */
  leftovers(s: BlobStore): Promise<number>;
}

const BUCKET = 'fiberchat-files';
let s3: { server: S3rver; url: string; dir: string } | undefined;
const s3Stores: S3BlobStore[] = [];

const backends: Backend[] = [
  {
    name: 'disk',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'fiberchat-blobs-'));
      dirs.push(dir);
      return new DiskBlobStore(join(dir, 'files'));
    },
    async leftovers(s) {
      return readdirSync(join((s as unknown as { dir: string }).dir, 'tmp')).length;
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      await resetPg();
      const store = new PgStore({ url: pgUrl() });
      stores.push(store);
      await store.ready();
      return store.blobs();
    },
    async leftovers() {
      const store = stores[stores.length - 1] as PgStore;
      const r = await poolOf(store).query<{ n: string | number }>('SELECT count(*) AS n FROM blob_uploads');
      return (await provisional(store)) + Number(r.rows[0]?.n ?? 0);
    },
  },
  {
    name: 'S3',
    async open() {
      if (!s3) throw new Error('s3rver did not start');
      const spool = mkdtempSync(join(tmpdir(), 'fiberchat-s3-spool-'));
      dirs.push(spool);
      // A prefix of its own per test: the bucket is shared, the blobs are not.
      const store = new S3BlobStore(parseS3Url(`${s3.url}/${BUCKET}/t-${Math.random().toString(36).slice(2)}?region=eu-west-1`), spool);
      s3Stores.push(store);
      return store;
    },
    async leftovers(s) {
      return readdirSync((s as unknown as { spool: string }).spool).length;
    },
  },
];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  // s3rver takes any signature made with its own keys.
  s3 = { server, url: `http://S3RVER:S3RVER@127.0.0.1:${port}`, dir };
  await ensurePostgres();
}, 120_000);
afterAll(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const s of s3Stores.splice(0)) s.close();
  if (s3) {
    await s3.server.close();
    rmSync(s3.dir, { recursive: true, force: true });
  }
});

describe.each(backends)('blob store on $name', (backend) => {
  it('stores bytes under their SHA-256, streams them back whole or by range, and counts them', async () => {
    const s = await backend.open();
    const bytes = data(3 * CHUNK_BYTES + 12_345);
    const stored = await s.put(source(bytes, 13), 10 * 1024 * 1024);
    expect(stored).toEqual({ sha256: sha(bytes), size: bytes.length });
    expect(await s.has(stored.sha256)).toBe(true);
    expect((await bytesOf(s, stored.sha256))?.equals(bytes)).toBe(true);
    // Ranges across chunk boundaries, and at the ends.
    for (const [start, end] of [
      [0, 0],
      [CHUNK_BYTES - 3, CHUNK_BYTES + 2],
      [2 * CHUNK_BYTES + 1, bytes.length - 1],
      [100, 2 * CHUNK_BYTES + 99],
    ] as const) {
      expect((await bytesOf(s, stored.sha256, { start, end }))?.equals(bytes.subarray(start, end + 1))).toBe(true);
    }
    expect(await s.usage()).toEqual({ blobs: 1, bytes: bytes.length });
  });

  it('keeps the same bytes once, however often they are put', async () => {
    const s = await backend.open();
    const bytes = data(50_000, 7);
    const a = await s.put(source(bytes, 3), 1e6);
    const b = await s.put(source(bytes, 11), 1e6);
    expect(b).toEqual(a);
    expect(await s.usage()).toEqual({ blobs: 1, bytes: 50_000 });
    expect(await backend.leftovers(s)).toBe(0);
    // An empty file is a blob too.
    const empty = await s.put(Readable.from([]), 10);
    expect(empty).toEqual({ sha256: sha(Buffer.alloc(0)), size: 0 });
    expect((await bytesOf(s, empty.sha256))?.length).toBe(0);
  });

  it('refuses past its limit and keeps nothing, nor of a source that fails', async () => {
    const s = await backend.open();
    const bytes = data(2 * CHUNK_BYTES + 1);
    await expect(s.put(source(bytes), 2 * CHUNK_BYTES)).rejects.toBeInstanceOf(BlobTooLarge);
    expect(await s.has(sha(bytes))).toBe(false);
    async function* failing() {
      yield data(CHUNK_BYTES + 10);
      throw new Error('the client went away');
    }
    await expect(s.put(failing(), 1e7)).rejects.toThrow('the client went away');
    expect(await s.usage()).toEqual({ blobs: 0, bytes: 0 });
    expect(await backend.leftovers(s)).toBe(0);
    // Exactly at the limit is fine.
    expect((await s.put(source(bytes.subarray(0, 1000)), 1000)).size).toBe(1000);
  });

  it('deletes, and names nothing outside its blobs', async () => {
    const s = await backend.open();
    const stored = await s.put(source(Buffer.from('hello, files')), 100);
    expect(await text((await s.get(stored.sha256))!.stream)).toBe('hello, files');
    await s.delete(stored.sha256);
    await s.delete(stored.sha256);
    expect(await s.get(stored.sha256)).toBeNull();
    expect(await s.has(stored.sha256)).toBe(false);
    for (const bad of ['../../etc/passwd', 'tmp', stored.sha256.toUpperCase(), `${stored.sha256}/..`, '']) {
      expect(await s.get(bad)).toBeNull();
      expect(await s.has(bad)).toBe(false);
    }
  });
});

/** The store's pool, to look at the tables the blobs are in. */
const poolOf = (s: PgStore) => (s as unknown as { pool: pg.Pool }).pool;
async function provisional(s: PgStore): Promise<number> {
  const r = await poolOf(s).query<{ n: string | number }>("SELECT count(*) AS n FROM file_chunks WHERE blob LIKE 'tmp:%'");
  return Number(r.rows[0]?.n ?? 0);
}

describe('PostgreSQL blobs across nodes', () => {
  it('a put on one node is read on another, and a put a killed node left half done is swept', async () => {
    await resetPg();
    const a = new PgStore({ url: pgUrl() });
    const b = new PgStore({ url: pgUrl() });
    stores.push(a, b);
    await a.ready();
    const bytes = data(CHUNK_BYTES + 5, 3);
    const stored = await a.blobs().put(source(bytes), 1e6);
    expect((await bytesOf(b.blobs(), stored.sha256))?.equals(bytes)).toBe(true);

    // A node that stops mid-put leaves provisional chunks; a sweep once the longest upload is over removes them.
    let t = 1_000_000;
    const clocked = new PgBlobStore(poolOf(a), () => a.ready(), () => t);
    const never = new Promise<Uint8Array>(() => undefined);
    async function* stalls() {
      yield data(CHUNK_BYTES + 1);
      yield await never;
    }
    void clocked.put(stalls(), 1e7);
    await expect.poll(() => provisional(a)).toBe(1);
    expect(await clocked.sweep(60_000)).toBe(0);
    t += 61_000;
    expect(await clocked.sweep(60_000)).toBe(1);
    expect(await provisional(a)).toBe(0);
    expect((await bytesOf(b.blobs(), stored.sha256))?.equals(bytes)).toBe(true);
  });
});
