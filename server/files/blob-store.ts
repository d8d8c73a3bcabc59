/**
 * Where the bytes of uploaded files live, content-addressed by SHA-256: the
 * same bytes are stored once, however many files name them. What a file is
 * (its name, type, room, uploader, message) is the chat store's record; a
 * blob is only bytes. Three backends: a folder on the local disk for one
 * process (`disk-blobs.ts`), PostgreSQL for a cluster, whose nodes all
 * reach it already (`pg-blobs.ts`), and an S3-compatible bucket
 * (`s3-blobs.ts`). `blob-store.contract.test.ts` runs the same cases on all.
 */
import type { Readable } from 'node:stream';

export interface StoredBlob {
  /** Hex SHA-256 of the bytes: the blob's name. */
  sha256: string;
  size: number;
}

export interface BlobStore {
  /**
   * Streams `source` in, hashing as it goes, and resolves once the bytes are
   * durable. Nothing is buffered whole: memory stays at a chunk whatever the
   * size. Past `maxBytes` it stops reading, keeps nothing and rejects with
   * `BlobTooLarge`; a source that fails keeps nothing either. Bytes already
   * stored resolve to the same blob without a second copy.
   */
  put(source: Readable | AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBlob>;
  /** The blob's bytes as a stream (from `start` to `end` inclusive when given: a range request), or null when it is not stored. */
  get(sha256: string, range?: { start: number; end: number }): Promise<{ size: number; stream: Readable } | null>;
  has(sha256: string): Promise<boolean>;
  /** Removes the blob (the caller checked no file names it any more); removing one that is not there is done. */
  delete(sha256: string): Promise<void>;
  /** What is stored: blobs and their bytes (for quotas and `/ops`). */
  usage(): Promise<{ blobs: number; bytes: number }>;
}

/** A put that passed its byte limit: nothing was kept. */
export class BlobTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes`);
    this.name = 'BlobTooLarge';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A blob's name is exactly 64 lower-case hex digits: anything else names no blob (and no path). */
export function isBlobName(s: string): boolean {
  return SHA256_HEX.test(s);
}
