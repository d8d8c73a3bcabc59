/**
 * Blobs in an S3-compatible bucket (`FILES_S3_URL`), for files beyond what
 * the database should hold: AWS S3, MinIO, Ceph RGW, Cloudflare R2,
 * Backblaze B2 and the like, addressed path-style
 * (`<endpoint>/<bucket>/<prefix>/<sha256>`).
 *
 * A put is spooled to a local file while it is hashed and measured (the
 * request body's length is not known until it ends, and S3 takes a single
 * PUT only with its length), then sent in one PUT whose
 * `x-amz-content-sha256` is that hash: the bucket checks the bytes it got
 * against it, so a blob under a name is whole or absent, as on the disk
 * backend. The same bytes already in the bucket are not sent again. Requests
 * are signed with AWS Signature Version 4 (`aws4`), over Node's own HTTP
 * with keep-alive; nothing is buffered whole in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import aws4 from 'aws4';
import { BlobTooLarge, isBlobName, type BlobStore, type StoredBlob } from './blob-store.ts';

export interface S3Location {
  endpoint: URL;
  bucket: string;
  /** Keys are `<prefix><sha256>`; empty or ending in `/`. */
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * `https://<access key>:<secret key>@<host>[:port]/<bucket>[/<prefix>][?region=<region>]`
 * (`http://` for a bucket on a private network). The keys may be
 * percent-encoded; the region defaults to `us-east-1`.
 */
export function parseS3Url(text: string): S3Location {
  const u = new URL(text);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('FILES_S3_URL must be an https:// (or http://) URL');
  const [bucket, ...rest] = u.pathname.split('/').filter((p) => p !== '');
  if (!bucket) throw new Error('FILES_S3_URL must name the bucket as its path: https://key:secret@host/bucket');
  if (!u.username || !u.password) throw new Error('FILES_S3_URL must carry the access key and secret: https://key:secret@host/bucket');
  return {
    endpoint: new URL(`${u.protocol}//${u.host}`),
    bucket,
    prefix: rest.length > 0 ? `${rest.join('/')}/` : '',
    region: u.searchParams.get('region') ?? 'us-east-1',
    accessKeyId: decodeURIComponent(u.username),
    secretAccessKey: decodeURIComponent(u.password),
  };
}

/** The hash of an empty body, which a GET, HEAD or DELETE signs. */
const EMPTY_SHA256 = createHash('sha256').digest('hex');

export class S3BlobStore implements BlobStore {
  private readonly agent: HttpAgent;

  constructor(
    private readonly at: S3Location,
    /** A local folder for puts in progress (emptied at start). */
    private readonly spool: string,
  ) {
    this.agent = at.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 32 }) : new HttpAgent({ keepAlive: true, maxSockets: 32 });
    mkdirSync(spool, { recursive: true });
    for (const name of readdirSync(spool)) rmSync(join(spool, name), { force: true });
  }

  private key(sha256: string): string {
    return `${this.at.prefix}${sha256}`;
  }

  /** One signed request; resolves with the response (its body unread), never rejects on a status. */
  private send(method: 'GET' | 'HEAD' | 'PUT' | 'DELETE', key: string, opts: { query?: string; headers?: Record<string, string>; body?: Readable; contentSha256?: string } = {}): Promise<IncomingMessage> {
    const path = `/${this.at.bucket}/${key.split('/').map(encodeURIComponent).join('/')}${opts.query ? `?${opts.query}` : ''}`;
    const signed = aws4.sign(
      {
        host: this.at.endpoint.host,
        path,
        method,
        service: 's3',
        region: this.at.region,
        headers: { ...opts.headers, 'x-amz-content-sha256': opts.contentSha256 ?? EMPTY_SHA256 },
      },
      { accessKeyId: this.at.accessKeyId, secretAccessKey: this.at.secretAccessKey },
    );
    const request = this.at.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          protocol: this.at.endpoint.protocol,
          hostname: this.at.endpoint.hostname,
          port: this.at.endpoint.port || undefined,
          method,
          path,
          headers: signed.headers as Record<string, string>,
          agent: this.agent,
          timeout: 30_000,
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`S3 ${method} timed out`)));
      req.on('error', reject);
      if (opts.body) opts.body.on('error', (err) => req.destroy(err)).pipe(req);
      else req.end();
    });
  }

  /** Reads and drops a response's body (so its connection is reused), failing unless its status is expected. */
  private async expect(res: IncomingMessage, what: string, ok: readonly number[]): Promise<number> {
    const body: Buffer[] = [];
    for await (const c of res) if (body.length < 16) body.push(c as Buffer);
    const status = res.statusCode ?? 0;
    if (!ok.includes(status)) throw new Error(`S3 ${what}: ${status} ${Buffer.concat(body).toString().slice(0, 300)}`);
    return status;
  }

  async put(source: Readable | AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBlob> {
    const file = join(this.spool, randomUUID());
    try {
      const hash = createHash('sha256');
      let size = 0;
      const out = createWriteStream(file);
      try {
        for await (const chunk of source) {
          const c = chunk as Uint8Array;
          size += c.byteLength;
          if (size > maxBytes) throw new BlobTooLarge(maxBytes);
          hash.update(c);
          if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
        }
      } finally {
        out.end();
        await finished(out);
      }
      const sha256 = hash.digest('hex');
      if (!(await this.has(sha256))) {
        const res = await this.send('PUT', this.key(sha256), {
          body: createReadStream(file),
          contentSha256: sha256,
          headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
        });
        await this.expect(res, 'put', [200]);
      }
      return { sha256, size };
    } finally {
      await rm(file, { force: true });
    }
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<{ size: number; stream: Readable } | null> {
    if (!isBlobName(sha256)) return null;
    const res = await this.send('GET', this.key(sha256), range ? { headers: { range: `bytes=${range.start}-${range.end}` } } : {});
    if (res.statusCode === 404) {
      await this.expect(res, 'get', [404]);
      return null;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      await this.expect(res, 'get', [200, 206]);
      return null;
    }
    // The whole blob's size: from a range answer's Content-Range (`bytes a-b/size`), else its length.
    const answered = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    const size = Number(answered?.[3] ?? res.headers['content-length'] ?? 0);
    if (!range) return { size, stream: res };
    // Some S3-compatible servers answer a range with more than was asked (the whole object, as 200 or as 206): cut to it here.
    const from = res.statusCode === 206 && answered ? Number(answered[1]) : 0;
    const to = res.statusCode === 206 && answered ? Number(answered[2]) : size - 1;
    if (from === range.start && to === range.end) return { size, stream: res };
    if (from > range.start || to < range.end) {
      res.destroy();
      throw new Error(`S3 get: asked bytes ${range.start}-${range.end}, answered ${from}-${to}`);
    }
    return { size, stream: res.pipe(slice(range.start - from, range.end - from)) };
  }

  async has(sha256: string): Promise<boolean> {
    if (!isBlobName(sha256)) return false;
    return (await this.expect(await this.send('HEAD', this.key(sha256)), 'head', [200, 404])) === 200;
  }

  async delete(sha256: string): Promise<void> {
    if (!isBlobName(sha256)) return;
    await this.expect(await this.send('DELETE', this.key(sha256)), 'delete', [200, 204, 404]);
  }

  /** Lists the prefix (ListObjectsV2, a thousand keys a page): for occasional use, not per request. */
  async usage(): Promise<{ blobs: number; bytes: number }> {
    let blobs = 0;
    let bytes = 0;
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ 'list-type': '2', prefix: this.at.prefix, ...(token ? { 'continuation-token': token } : {}) });
      const res = await this.send('GET', '', { query: query.toString().replace(/\+/g, '%20') });
      const xml = (await readAll(res)).toString('utf8');
      if (res.statusCode !== 200) throw new Error(`S3 list: ${res.statusCode ?? 0} ${xml.slice(0, 300)}`);
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(m[1] ?? '')?.[1] ?? '';
        if (!isBlobName(key.slice(this.at.prefix.length))) continue;
        blobs++;
        bytes += Number(/<Size>(\d+)<\/Size>/.exec(m[1] ?? '')?.[1] ?? 0);
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] : undefined;
    } while (token);
    return { blobs, bytes };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Bytes `start` to `end` (inclusive) of what flows through. */
function slice(start: number, end: number): Transform {
  let at = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, start - at);
      const to = Math.min(chunk.length, end + 1 - at);
      at += chunk.length;
      done(null, to > from ? chunk.subarray(from, to) : undefined);
    },
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
