/**
 * Files as the chat knows them: an upload streams into the blob store
 * (never whole in memory), is typed from its bytes, and, when it is an
 * image, measured, thumbnailed and stripped of its metadata; it is then a
 * record of the room it was uploaded to, usable by its uploader in one
 * message of that room. Who may read a file is who may read its room, and
 * a file whose message is deleted is gone (410). The HTTP routes
 * (file-routes.ts) only translate this to requests and answers.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { fail, type Attachment, type Fail } from '../../shared/protocol.ts';
import type { RoomAccess } from '../edge/access.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { FileRecord, FileRecords } from '../store/file-records.ts';
import type { Store } from '../store/store.ts';
import { BlobTooLarge, type BlobStore } from './blob-store.ts';
import { cleanFileName, isImage, sniffType, SNIFF_BYTES } from './file-types.ts';
import { describeImage, THUMB_SIZES } from './images.ts';

const DAY_MS = 86_400_000;
/** Uploads never sent within this are collected. */
export const ORPHAN_AFTER_MS = 3_600_000;

export interface FileLimits {
  /** Uploads on at all (UPLOADS). */
  enabled: boolean;
  /** Largest file, in bytes (MAX_UPLOAD_BYTES). */
  maxBytes: number;
  /** Bytes one identity may upload in 24 hours (UPLOAD_BYTES_PER_DAY). */
  perIdentityDay: number;
  /** Bytes every file recorded may take in all (FILES_TOTAL_BYTES; 0: no cap). */
  totalBytes: number;
}

export interface FileServiceDeps {
  blobs: BlobStore;
  records: FileRecords;
  store: Pick<Store, 'readAfter'>;
  access: Pick<RoomAccess, 'allows'>;
  limits: FileLimits;
  /** Bytes per client address, refilled over a day (UPLOAD_BYTES_PER_DAY_ADDRESS). */
  addressBytes: RateLimiter;
  now?: () => number;
  /** An upload was stored (metrics, /ops). */
  stored?: (bytes: number) => void;
}

export type UploadRefusal = Fail & { status: 400 | 403 | 404 | 408 | 413 | 429 | 503 };

/** The wire form of a stored file. */
export function fileUrl(f: Pick<FileRecord, 'id' | 'name'>): string {
  return `/files/${f.id}/${encodeURIComponent(f.name)}`;
}

export function attachmentOf(f: FileRecord): Attachment {
  const a: Attachment = { id: f.id, name: f.name, size: f.size, type: f.type, url: fileUrl(f) };
  if (f.width !== undefined && f.height !== undefined) {
    a.width = f.width;
    a.height = f.height;
  }
  if (f.thumb) a.thumb = `${fileUrl(f)}?size=${THUMB_SIZES.thumb}`;
  return a;
}

const refuse = (status: UploadRefusal['status'], ...args: Parameters<typeof fail>): UploadRefusal => ({ ...fail(...args), status });

/** What a read of a file answers: the bytes to serve, or why not. */
export type FileRead =
  | { ok: true; file: FileRecord; sha256: string; type: string; name: string }
  | { ok: false; status: 404 | 410 };

export class FileService {
  private readonly now: () => number;
  private stored = 0;

  constructor(private readonly deps: FileServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get limits(): FileLimits {
    return this.deps.limits;
  }

  /**
   * Bytes of every file recorded, as last read from the records (at most a
   * refresh old; in a cluster, other nodes' uploads show at the next one).
   */
  get storedBytes(): number {
    return this.stored;
  }

  /** Reads the deployment's stored bytes again (a periodic refresh, and before a quota check). */
  async refreshUsage(): Promise<number> {
    this.stored = await this.deps.records.totalBytes();
    return this.stored;
  }

  /**
   * Refusals known before a byte is read: uploads off, a room the caller may
   * not use (404, as for any room command), a declared size over the cap,
   * or a quota the declared size would pass.
   */
  async admit(userId: string, address: string, room: string, declared: number | undefined): Promise<UploadRefusal | undefined> {
    const { limits } = this.deps;
    if (!limits.enabled) return refuse(403, 'forbidden', 'Uploads are turned off on this server');
    if (!(await this.deps.access.allows(userId, room))) return refuse(404, 'not_found', 'no such room');
    if (declared !== undefined && declared > limits.maxBytes + MULTIPART_SLACK) return tooLarge(limits.maxBytes);
    const size = Math.min(declared ?? 0, limits.maxBytes);
    const today = await this.deps.records.uploadedBytes(userId, this.now() - DAY_MS);
    if (today + size > limits.perIdentityDay) {
      return refuse(429, 'rate_limited', `You have uploaded ${mib(today)} today, the most one person may upload in a day; try again later`, 3_600_000);
    }
    const wait = this.deps.addressBytes.check([address]);
    if (wait > 0) return refuse(429, 'rate_limited', 'Too many uploads from your network today; try again later', wait);
    if (limits.totalBytes > 0 && (await this.refreshUsage()) + size > limits.totalBytes) {
      return refuse(429, 'rate_limited', 'This server has no room left for files', 3_600_000);
    }
    return undefined;
  }

  /** Streams one file in and records it. The source ends, errs or passes the cap; nothing partial is kept. */
  async upload(userId: string, address: string, room: string, fileName: string, source: Readable): Promise<{ ok: true; file: FileRecord } | UploadRefusal> {
    const { blobs, limits } = this.deps;
    const head = new HeadTap(SNIFF_BYTES);
    source.on('error', (err) => head.destroy(err));
    let blob;
    try {
      blob = await blobs.put(source.pipe(head), limits.maxBytes);
    } catch (err) {
      if (err instanceof BlobTooLarge) return tooLarge(limits.maxBytes);
      throw err;
    }
    let sha256 = blob.sha256;
    let size = blob.size;
    const type = await sniffType(head.bytes());
    const record: FileRecord = { id: newFileId(), room, uploaderId: userId, sha256, name: cleanFileName(fileName), type, size, createdAt: this.now() };
    if (isImage(type)) {
      const facts = await describeImage(async () => (await blobs.get(sha256))?.stream ?? Readable.from([]));
      // The same metadata-laden bytes uploaded twice at once: the first upload's stripping took them away.
      if (!facts && !(await blobs.has(sha256))) return refuse(503, 'unavailable', 'The server was busy with the same file; try again', 1000);
      if (facts) {
        record.width = facts.width;
        record.height = facts.height;
        if (facts.stripped) {
          // The metadata-free image is what is kept and served; the uploaded bytes go unless another file has them.
          const clean = await blobs.put(facts.stripped, limits.maxBytes * 2);
          // No record names them: every upload of the same bytes is stripped the same way.
          if (clean.sha256 !== sha256) await blobs.delete(sha256);
          sha256 = clean.sha256;
          size = clean.size;
        }
        record.sha256 = sha256;
        record.size = size;
        record.thumb = (await blobs.put(Readable.from([facts.thumb]), limits.maxBytes)).sha256;
        record.preview = (await blobs.put(Readable.from([facts.preview]), limits.maxBytes)).sha256;
      }
    }
    await this.deps.records.add(record);
    this.deps.addressBytes.charge([address], size);
    this.stored += size;
    this.deps.stored?.(size);
    return { ok: true, file: record };
  }

  /**
   * The attachments of a message `userId` sends to `room` with `clientId`:
   * each id must be a file they uploaded to that room and not yet sent
   * (or sent with this very message: a retry, which the room answers as a
   * duplicate).
   */
  async attachments(userId: string, room: string, clientId: string, ids: readonly string[]): Promise<{ ok: true; attachments: Attachment[] } | Fail> {
    const out: Attachment[] = [];
    for (const id of ids) {
      const f = await this.deps.records.get(id);
      if (!f || f.room !== room || f.uploaderId !== userId) return fail('bad_request', `attachments: ${id} is not a file you uploaded to this room`);
      if (f.seq !== undefined) {
        const [sent] = await this.deps.store.readAfter(room, f.seq - 1, 1);
        if (!sent || sent.seq !== f.seq || sent.clientId !== clientId || sent.authorId !== userId) {
          return fail('bad_request', `attachments: ${id} was already sent with another message`);
        }
      }
      out.push(attachmentOf(f));
    }
    return { ok: true, attachments: out };
  }

  /**
   * What `userId` may read of file `id` (`size`: a thumbnail): 404 for a
   * file that is not there, of a room they may not use, or not yet sent by
   * someone else; 410 once its message is deleted.
   */
  async read(userId: string, id: string, size: number | undefined): Promise<FileRead> {
    const f = await this.deps.records.get(id);
    if (!f) return { ok: false, status: 404 };
    if (!(await this.deps.access.allows(userId, f.room))) return { ok: false, status: 404 };
    if (f.seq === undefined) {
      if (f.uploaderId !== userId) return { ok: false, status: 404 };
    } else {
      const [m] = await this.deps.store.readAfter(f.room, f.seq - 1, 1);
      if (!m || m.seq !== f.seq || m.deleted) return { ok: false, status: 410 };
    }
    if (size === undefined) return { ok: true, file: f, sha256: f.sha256, type: f.type, name: f.name };
    const sha = size === THUMB_SIZES.thumb ? f.thumb : size === THUMB_SIZES.preview ? f.preview : undefined;
    if (!sha) return { ok: false, status: 404 };
    return { ok: true, file: f, sha256: sha, type: 'image/webp', name: `${f.name.replace(/\.[^.]*$/, '')}-${size}.webp` };
  }

  /** Forgets uploads never sent within ORPHAN_AFTER_MS, and their blobs when no other file has them; answers how many. */
  async collectOrphans(limit = 500): Promise<number> {
    const orphans = await this.deps.records.unsent(this.now() - ORPHAN_AFTER_MS, limit);
    for (const f of orphans) {
      const left = await this.deps.records.remove(f.id);
      if (left > 0) continue;
      for (const sha of [f.sha256, f.thumb, f.preview]) if (sha) await this.deps.blobs.delete(sha);
    }
    return orphans.length;
  }
}

/** Headers and boundaries of a multipart body around its one file, at most. */
export const MULTIPART_SLACK = 16 * 1024;

function tooLarge(max: number): UploadRefusal {
  return refuse(413, 'too_large', `Files can be at most ${mib(max)}`);
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function newFileId(): string {
  return randomBytes(16).toString('base64url');
}

/** Passes bytes through, keeping a copy of the first `n` (for sniffing the type). */
class HeadTap extends Transform {
  private readonly parts: Buffer[] = [];
  private kept = 0;

  constructor(private readonly n: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.kept < this.n) {
      const part = chunk.subarray(0, this.n - this.kept);
      this.parts.push(Buffer.from(part));
      this.kept += part.length;
    }
    done(null, chunk);
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}
