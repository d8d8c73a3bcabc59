/**
 * The HTTP face of files (file-service.ts says what they are):
 *
 * - `POST /api/rooms/:room/files`, `multipart/form-data` with one part named
 *   `file` → 201 `{ file: { id, name, size, type, url } }`; 413 past the
 *   size cap (refused from `Content-Length` before a byte of the body is
 *   read, else as soon as the cap is passed); 429 with `Retry-After` when a
 *   quota is spent or the caller's uploads in progress are at their cap;
 *   408 for an upload below its rate or past its time (upload-budget.ts);
 *   404 for a room the caller may not use.
 * - `GET /files/:id/:name` (`?size=320|1280`: an image's thumbnail) → the
 *   bytes with `fileHeaders`: the stored type only when inert, always
 *   nosniff and a sandbox; 404 for anyone who may not read the room; 410
 *   once the message is deleted. Single byte ranges are answered (206), so
 *   audio and video can seek.
 *
 * Both take the bearer token of the REST API.
 */
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FileId, RoomName, fail } from '../../shared/protocol.ts';
import type { SessionService } from '../accounts/session-service.ts';
import { addressKey, canonicalAddress } from '../edge/client-address.ts';
import { bearer, sendError } from '../edge/http-edge.ts';
import { rawErrorAnswer } from '../edge/http-hardening.ts';
import type { Identity } from '../rooms/types.ts';
import type { BlobStore } from './blob-store.ts';
import { attachmentOf, type FileService, type UploadRefusal } from './file-service.ts';
import { fileHeaders } from './file-types.ts';
import { THUMB_SIZES } from './images.ts';
import type { UploadBudget } from './upload-budget.ts';

export interface FileRouteHooks {
  /** An upload was refused (metrics): why. */
  refused?: (why: 'too_large' | 'quota' | 'busy' | 'too_slow' | 'off' | 'not_found' | 'bad_request') => void;
  failed?: (err: unknown) => void;
}

/** After a refusal mid-body, the client's bytes are read and dropped this long, and at most this many, before the connection closes. */
const LINGER_MS = 2000;
const LINGER_BYTES = 64 * 1024 * 1024;

export interface FileRouteDeps {
  files: FileService;
  blobs: BlobStore;
  sessions: SessionService;
  budget: UploadBudget;
}

export function registerFileRoutes(root: FastifyInstance, deps: FileRouteDeps, hooks: FileRouteHooks = {}): void {
  // A scope of its own: multipart bodies are parsed on these routes only.
  root.register(async (app) => fileRoutes(app, deps, hooks));
}

async function fileRoutes(app: FastifyInstance, { files, blobs, sessions, budget }: FileRouteDeps, hooks: FileRouteHooks): Promise<void> {
  await app.register(fastifyMultipart, {
    throwFileSizeLimit: false,
    // One file and nothing else; the file's own cap is the service's (plus a byte, to see it passed).
    limits: { files: 1, fields: 0, headerPairs: 20, fileSize: files.limits.maxBytes + 1 },
  });

  async function who(req: FastifyRequest, res: FastifyReply): Promise<{ identity: Identity; address: string } | undefined> {
    const address = addressKey(canonicalAddress(req.ip));
    let identity: Identity | 'refused' | undefined;
    try {
      identity = await bearer(req, sessions, address);
    } catch (err) {
      hooks.failed?.(err);
      sendError(res, fail('unavailable', 'the server could not check the session; try again', 1000).error);
      return undefined;
    }
    if (!identity || identity === 'refused') {
      sendError(res, fail('unauthorized', 'a valid session token is required').error);
      return undefined;
    }
    return { identity, address };
  }

  /**
   * A refusal while the body may still be arriving: the answer is written
   * and the connection half-closed, and what the client still sends is read
   * and dropped for a moment (a lingering close, as nginx and Apache do)
   * before it is closed. Closed at once, the client's unread bytes would
   * make the kernel reset the connection, and a client still writing would
   * see that reset instead of the answer.
   */
  function refuse(req: FastifyRequest, res: FastifyReply, r: UploadRefusal): FastifyReply {
    if (res.sent) return res;
    const socket = req.raw.socket;
    res.hijack();
    socket.end(rawErrorAnswer(r.status, r.error));
    req.raw.unpipe();
    let dropped = 0;
    req.raw.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > LINGER_BYTES) socket.destroy();
    });
    req.raw.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    return res;
  }

  app.post('/api/rooms/:room/files', async (req, res) => {
    const caller = await who(req, res);
    if (!caller) return res;
    const room = RoomName.safeParse((req.params as { room: string }).room);
    if (!room.success) return refuse(req, res, { ...fail('bad_request', 'not a room name'), status: 400 });
    if (!req.isMultipart()) {
      hooks.refused?.('bad_request');
      return refuse(req, res, { ...fail('bad_request', 'send the file as multipart/form-data, in a part named "file"'), status: 400 });
    }
    const declared = Number(req.headers['content-length']);
    let uploading: { release(): void } | undefined;
    try {
      const early = await files.admit(caller.identity.userId, caller.address, room.data, Number.isFinite(declared) ? declared : undefined);
      if (early) {
        hooks.refused?.(early.error.code === 'too_large' ? 'too_large' : early.status === 403 ? 'off' : early.status === 404 ? 'not_found' : 'quota');
        return refuse(req, res, early);
      }
      const place = budget.take(caller.identity.userId, caller.address, req.raw.socket, (cut) => {
        // Too slow or too long: answered now, and the connection ends with the answer (the upload then fails, keeping nothing).
        hooks.refused?.('too_slow');
        refuse(req, res, { ...fail('bad_request', cut.message), status: 408 });
      });
      if (typeof place === 'string') {
        hooks.refused?.('busy');
        const whose = place === 'identity' ? 'You have' : 'Your network has';
        return refuse(req, res, { ...fail('rate_limited', `${whose} ${place === 'identity' ? budget.limits.perIdentity : budget.limits.perAddress} uploads in progress, the most at once; wait for one to finish`, 1000), status: 429 });
      }
      uploading = place;
      const part = await req.file();
      if (res.sent) return res;
      if (!part || part.fieldname !== 'file') {
        hooks.refused?.('bad_request');
        return refuse(req, res, { ...fail('bad_request', 'send the file in a part named "file"'), status: 400 });
      }
      // Once the file's bytes are all in, the rest (hashing, image work, waiting for the image worker) is not the client's slowness.
      part.file.once('end', () => place.received());
      const done = await files.upload(caller.identity.userId, caller.address, room.data, part.filename, part.file);
      if (res.sent) return res;
      if (!done.ok) {
        hooks.refused?.(done.error.code === 'too_large' ? 'too_large' : 'quota');
        return refuse(req, res, done);
      }
      const a = attachmentOf(done.file);
      // Whatever of the body follows the file (its closing boundary) is not waited for: the connection ends with the answer.
      res.header('connection', 'close');
      req.raw.resume();
      return res.code(201).send({ file: { id: a.id, name: a.name, size: a.size, type: a.type, url: a.url } });
    } catch (err) {
      // Cut for its budget, the client went away mid-upload, or the body is not multipart as it says: nothing was kept.
      if (res.sent || req.raw.destroyed || res.raw.destroyed) return res;
      if (isMultipartError(err)) return refuse(req, res, { ...fail('bad_request', 'the multipart body is malformed'), status: 400 });
      hooks.failed?.(err);
      req.log.error({ err }, 'upload failed');
      return refuse(req, res, { ...fail('unavailable', 'the file could not be stored; try again', 1000), status: 503 });
    } finally {
      uploading?.release();
    }
  });

  app.get('/files/:id/*', async (req, res) => {
    const caller = await who(req, res);
    if (!caller) return res;
    const id = FileId.safeParse((req.params as { id: string }).id);
    if (!id.success) return sendError(res, fail('not_found', 'no such file').error);
    const sizeParam = (req.query as { size?: string }).size;
    const size = sizeParam === undefined ? undefined : Number(sizeParam);
    if (size !== undefined && size !== THUMB_SIZES.thumb && size !== THUMB_SIZES.preview) return sendError(res, fail('bad_request', 'size is 320 or 1280').error);
    let read;
    try {
      read = await files.read(caller.identity.userId, id.data, size);
    } catch (err) {
      hooks.failed?.(err);
      return sendError(res, fail('unavailable', 'the file could not be read; try again', 1000).error);
    }
    if (!read.ok) {
      return read.status === 410
        ? res.code(410).send({ error: { code: 'not_found', message: 'This file was removed with its message' } })
        : sendError(res, fail('not_found', 'no such file').error);
    }
    const etag = `"${read.sha256}"`;
    if (req.headers['if-none-match'] === etag) {
      // A 304's headers replace the cached ones: the file's own (its sandbox above all) go with it, not the app's.
      const { 'content-length': _length, ...headers } = fileHeaders(read.type, read.name, 0);
      return res.code(304).headers({ ...headers, etag }).send();
    }
    const range = size === undefined ? parseRange(req.headers.range, read.file.size) : null;
    const blob = await blobs.get(read.sha256, range ?? undefined);
    if (!blob) return sendError(res, fail('unavailable', 'the file could not be read; try again', 1000).error);
    const headers = fileHeaders(read.type, read.name, blob.size);
    res.headers({ ...headers, etag, 'accept-ranges': 'bytes' });
    if (range) {
      res.code(206).header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`).header('content-length', String(range.end - range.start + 1));
    }
    return res.send(blob.stream);
  });
}

/** One `bytes=a-b` (or `a-`) range within `size`, else null (the whole file is served). */
function parseRange(h: string | undefined, size: number): { start: number; end: number } | null {
  if (typeof h !== 'string') return null;
  const m = /^bytes=(\d{1,15})-(\d{0,15})$/.exec(h.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start <= end ? { start, end } : null;
}

function isMultipartError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('FST_');
}

