/**
 * Blobs in PostgreSQL, for a cluster: every node reaches the database
 * already, so files need no new service. A blob is rows of `file_chunks`
 * (256 KiB of `bytea` each) and one row of `file_blobs`. A put writes its
 * chunks as they arrive under a provisional key (one chunk in memory at a
 * time, no transaction held open across the upload), then, once the bytes
 * are all in and hashed, gives them the blob's name in one transaction, or
 * drops them if the same bytes are stored already. Provisional chunks of a
 * put that never finished (a node killed mid-upload) are removed by
 * `sweep()` once they are older than any upload may take.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { BlobTooLarge, isBlobName, type BlobStore, type StoredBlob } from './blob-store.ts';

/** Bytes per chunk row: large enough that a 25 MiB file is 100 rows, small enough to hold one in memory per upload. */
export const CHUNK_BYTES = 256 * 1024;

export class PgBlobStore implements BlobStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Resolves once the schema is migrated (the store's `ready`). */
    private readonly ready: () => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  async put(source: Readable | AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBlob> {
    await this.ready();
    const upload = randomUUID();
    const key = `tmp:${upload}`;
    await this.pool.query('INSERT INTO blob_uploads (id, started_at) VALUES ($1, $2)', [upload, this.now()]);
    const hash = createHash('sha256');
    let size = 0;
    let n = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (all: boolean) => {
      while (pendingBytes >= CHUNK_BYTES || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending);
        const data = joined.subarray(0, CHUNK_BYTES);
        const rest = joined.subarray(data.length);
        await this.pool.query('INSERT INTO file_chunks (blob, n, data) VALUES ($1, $2, $3)', [key, n++, data]);
        pending = rest.length > 0 ? [Buffer.from(rest)] : [];
        pendingBytes = rest.length;
      }
    };
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new BlobTooLarge(maxBytes);
        hash.update(chunk);
        pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        pendingBytes += chunk.byteLength;
        await flush(false);
      }
      await flush(true);
      const sha256 = hash.digest('hex');
      await this.transaction(async (client) => {
        const stored = await client.query('INSERT INTO file_blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', [
          sha256,
          size,
          this.now(),
        ]);
        // The same bytes stored before: keep the one copy.
        if (stored.rowCount === 1) await client.query('UPDATE file_chunks SET blob = $1 WHERE blob = $2', [sha256, key]);
        else await client.query('DELETE FROM file_chunks WHERE blob = $1', [key]);
        await client.query('DELETE FROM blob_uploads WHERE id = $1', [upload]);
      });
      return { sha256, size };
    } catch (err) {
      await this.discard(upload).catch(() => undefined);
      throw err;
    }
  }

  private async discard(upload: string): Promise<void> {
    await this.pool.query('DELETE FROM file_chunks WHERE blob = $1', [`tmp:${upload}`]);
    await this.pool.query('DELETE FROM blob_uploads WHERE id = $1', [upload]);
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<{ size: number; stream: Readable } | null> {
    if (!isBlobName(sha256)) return null;
    await this.ready();
    const row = await this.pool.query<{ size: string | number }>('SELECT size FROM file_blobs WHERE sha256 = $1', [sha256]);
    const found = row.rows[0];
    if (!found) return null;
    const size = Number(found.size);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size - 1, size - 1);
    const pool = this.pool;
    // One chunk read at a time, as the reader pulls: a large file never sits in memory whole.
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let n = Math.floor(start / CHUNK_BYTES); n * CHUNK_BYTES <= end; n++) {
        const r = await pool.query<{ data: Buffer }>('SELECT data FROM file_chunks WHERE blob = $1 AND n = $2', [sha256, n]);
        const data = r.rows[0]?.data;
        if (!data) throw new Error(`blob ${sha256} is missing chunk ${n}`);
        const from = Math.max(0, start - n * CHUNK_BYTES);
        const to = Math.min(data.length, end - n * CHUNK_BYTES + 1);
        yield data.subarray(from, to);
      }
    }
    return { size, stream: Readable.from(chunks(), { objectMode: false }) };
  }

  async has(sha256: string): Promise<boolean> {
    if (!isBlobName(sha256)) return false;
    await this.ready();
    return (await this.pool.query('SELECT 1 FROM file_blobs WHERE sha256 = $1', [sha256])).rowCount === 1;
  }

  async delete(sha256: string): Promise<void> {
    if (!isBlobName(sha256)) return;
    await this.ready();
    await this.transaction(async (client) => {
      await client.query('DELETE FROM file_blobs WHERE sha256 = $1', [sha256]);
      await client.query('DELETE FROM file_chunks WHERE blob = $1', [sha256]);
    });
  }

  /** Runs `body` in one transaction on one connection: COMMIT if it resolves, ROLLBACK if anything fails. */
  private async transaction(body: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await body(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async usage(): Promise<{ blobs: number; bytes: number }> {
    await this.ready();
    const r = await this.pool.query<{ blobs: string; bytes: string | null }>('SELECT count(*) AS blobs, sum(size) AS bytes FROM file_blobs');
    return { blobs: Number(r.rows[0]?.blobs ?? 0), bytes: Number(r.rows[0]?.bytes ?? 0) };
  }

  /** Removes the chunks of puts started before `olderThanMs` ago that never finished (their node stopped mid-upload). */
  async sweep(olderThanMs: number): Promise<number> {
    await this.ready();
    const stale = await this.pool.query<{ id: string }>('DELETE FROM blob_uploads WHERE started_at < $1 RETURNING id', [this.now() - olderThanMs]);
    for (const { id } of stale.rows) await this.pool.query('DELETE FROM file_chunks WHERE blob = $1', [`tmp:${id}`]);
    return stale.rows.length;
  }
}
