/**
 * Blobs as files under one folder (`DATA_DIR/files` in a deployment): each
 * at `<first two hex digits>/<sha256>`, written first to `tmp/` while it is
 * hashed, flushed to disk, then renamed into place, so a blob is either
 * whole under its name or absent (a crash leaves at most a file in `tmp/`,
 * cleared at start). For one process; a cluster's nodes do not share a disk.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BlobTooLarge, isBlobName, type BlobStore, type StoredBlob } from './blob-store.ts';

export class DiskBlobStore implements BlobStore {
  private readonly tmp: string;

  constructor(private readonly dir: string) {
    this.tmp = join(dir, 'tmp');
    mkdirSync(this.tmp, { recursive: true });
    // What an interrupted put left behind is not any blob.
    for (const name of readdirSync(this.tmp)) rmSync(join(this.tmp, name), { force: true });
  }

  private pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  async put(source: Readable | AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBlob> {
    const partial = join(this.tmp, randomUUID());
    const out = createWriteStream(partial, { flags: 'wx' });
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new BlobTooLarge(maxBytes);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
          out.once('drain', resolve);
          out.once('error', reject);
        });
      }
      out.end();
      await finished(out);
      const handle = await open(partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true });
      // The same bytes stored before: keep the one copy.
      if (await exists(final)) await rm(partial, { force: true });
      else await rename(partial, final);
      return { sha256, size };
    } catch (err) {
      out.destroy();
      await rm(partial, { force: true });
      throw err;
    }
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<{ size: number; stream: Readable } | null> {
    if (!isBlobName(sha256)) return null;
    const path = this.pathOf(sha256);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return null;
    }
    return { size, stream: createReadStream(path, range ? { start: range.start, end: range.end } : {}) };
  }

  async has(sha256: string): Promise<boolean> {
    return isBlobName(sha256) && (await exists(this.pathOf(sha256)));
  }

  async delete(sha256: string): Promise<void> {
    if (isBlobName(sha256)) await rm(this.pathOf(sha256), { force: true });
  }

  async usage(): Promise<{ blobs: number; bytes: number }> {
    let blobs = 0;
    let bytes = 0;
    for (const sub of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of await readdir(join(this.dir, sub))) {
        if (!isBlobName(name)) continue;
        blobs++;
        bytes += (await stat(join(this.dir, sub, name))).size;
      }
    }
    return { blobs, bytes };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
