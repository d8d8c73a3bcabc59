/**
 * Files end to end over real HTTP and socket.io, as a bot would use them:
 * upload, send with the message, read by URL, and every refusal the
 * contract names.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, Message, SessionOk } from '../../shared/protocol.ts';
import { multipartLength, rawUpload } from './abuse/net.ts';
import { cid, startServer, type ChatSocket, type TestServer } from './harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startServer({ store: 'sqlite', env: { MANAGE_RATE: '100', ...env } });
  servers.push(s);
  return s;
}

function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}
function call(socket: ChatSocket, event: string, payload: unknown): Promise<Ack<Record<string, unknown>>> {
  return (socket as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<Record<string, unknown>>> }).emitWithAck(event, payload);
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Uploaded {
  status: number;
  headers: Headers;
  body: { file?: { id: string; name: string; size: number; type: string; url: string }; error?: { code: string; message: string } };
}
async function upload(s: TestServer, who: SessionOk, room: string, name: string, bytes: Uint8Array, type = 'application/octet-stream'): Promise<Uploaded> {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(bytes)], { type }), name);
  const res = await fetch(`${s.url}/api/rooms/${room}/files`, { method: 'POST', headers: { authorization: `Bearer ${who.token}` }, body: form });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Uploaded['body'] };
}
async function get(s: TestServer, who: SessionOk | undefined, url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const res = await fetch(`${s.url}${url}`, { headers: { ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...headers } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}
async function png(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
}

describe('files', () => {
  it('uploads a PNG, sends it with a message, and every reader gets the same bytes, its size and a thumbnail', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    ok(await bob.emitWithAck('join', { room: 'lobby' }));
    const live = new Promise<Message>((resolve) => bob.on('messages', (e: { messages: Message[] }) => e.messages[0] && resolve(e.messages[0])));
    const bytes = await png(640, 480);
    const up = await upload(s, alice.session, 'lobby', 'Screen Shot.png', bytes, 'text/html');
    expect(up.status).toBe(201);
    // The type is sniffed from the bytes: what the client claimed does not count.
    expect(up.body.file).toMatchObject({ name: 'Screen Shot.png', size: bytes.length, type: 'image/png' });
    const file = up.body.file as NonNullable<Uploaded['body']['file']>;
    expect(file.url).toBe(`/files/${file.id}/Screen%20Shot.png`);

    // Text is optional beside attachments.
    const sent = ok(await alice.emitWithAck('send', { room: 'lobby', text: '  ', clientId: cid(), attachments: [file.id] }));
    const m = await live;
    expect(m).toMatchObject({ seq: sent.seq, text: '' });
    expect(m.attachments).toEqual([{ id: file.id, name: 'Screen Shot.png', size: bytes.length, type: 'image/png', url: file.url, width: 640, height: 480, thumb: `${file.url}?size=320` }]);
    const page = ok(await call(bob, 'history', { room: 'lobby', before: 100 })) as unknown as { messages: Message[] };
    expect(page.messages.at(-1)?.attachments).toEqual(m.attachments);

    const original = await get(s, bob.session, file.url);
    expect(original.status).toBe(200);
    expect(sha(original.bytes)).toBe(sha(bytes));
    expect(original.headers.get('content-type')).toBe('image/png');
    expect(original.headers.get('x-content-type-options')).toBe('nosniff');
    expect(original.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    const thumb = await get(s, bob.session, `${file.url}?size=320`);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const info = await sharp(Buffer.from(thumb.bytes)).metadata();
    expect([info.format, info.width, info.height]).toEqual(['webp', 320, 240]);
    // Ranges, for audio and video to seek.
    const part = await get(s, bob.session, file.url, { range: 'bytes=0-7' });
    expect(part.status).toBe(206);
    expect([...part.bytes]).toEqual([...bytes.subarray(0, 8)]);
    // Unchanged bytes revalidate without a body.
    const again = await get(s, bob.session, file.url, { 'if-none-match': original.headers.get('etag') as string });
    expect(again.status).toBe(304);
    // A 304's headers replace the cached ones: the sandbox comes with it.
    expect(again.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect((await get(s, undefined, file.url)).status).toBe(401);
  });

  it('strips EXIF (and its GPS position) from a JPEG before it is stored or served', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: 'blue' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'PhoneCo' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 3/1' } })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const up = await upload(s, alice.session, 'lobby', 'holiday.jpg', jpeg);
    expect(up.status).toBe(201);
    const served = await get(s, alice.session, up.body.file?.url as string);
    const meta = await sharp(Buffer.from(served.bytes)).metadata();
    expect(meta.exif).toBeUndefined();
    expect([meta.width, meta.height]).toEqual([300, 200]);
    expect(Buffer.from(served.bytes).includes(Buffer.from('PhoneCo'))).toBe(false);
    expect(up.body.file?.size).toBe(served.bytes.length);
  });

  it('serves HTML and SVG only as downloads, and text as plain text', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const cases = [
      { name: 'page.html', body: '<!doctype html><script>alert(1)</script>', type: 'application/octet-stream', inline: false },
      { name: 'logo.svg', body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', type: 'application/octet-stream', inline: false },
      { name: 'notes.txt', body: 'just words', type: 'text/plain; charset=utf-8', inline: true },
      { name: 'tool.exe', body: 'MZ\u0090\u0000\u0003\u0000\u0000\u0000', type: 'application/octet-stream', inline: false },
    ];
    for (const c of cases) {
      const up = await upload(s, alice.session, 'lobby', c.name, new TextEncoder().encode(c.body), 'text/html');
      expect(up.status, c.name).toBe(201);
      const res = await get(s, alice.session, up.body.file?.url as string);
      expect(res.headers.get('content-type'), c.name).toBe(c.type);
      expect(res.headers.get('content-disposition'), c.name).toMatch(c.inline ? /^inline;/ : /^attachment;/);
      expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
      expect(new TextDecoder().decode(res.bytes)).toBe(c.body);
    }
  });

  it('refuses an attachment the caller did not upload to that room, and one already sent with another message', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    const file = (await upload(s, alice.session, 'lobby', 'a.txt', new TextEncoder().encode('a'))).body.file?.id as string;
    const refused = async (who: ChatSocket, payload: Record<string, unknown>) => {
      const a = await who.emitWithAck('send', { text: 'x', clientId: cid(), ...payload } as never);
      return a.ok ? 'ok' : a.error.code;
    };
    expect(await refused(bob, { room: 'lobby', attachments: [file] })).toBe('bad_request');
    expect(await refused(alice, { room: 'elsewhere', attachments: [file] })).toBe('bad_request');
    expect(await refused(alice, { room: 'lobby', attachments: ['AAAAAAAAAAAAAAAAAAAAAA'] })).toBe('bad_request');
    expect(await refused(alice, { room: 'lobby', attachments: [file, file] })).toBe('bad_request');
    expect(await refused(alice, { room: 'lobby', text: '' })).toBe('bad_request');
    const clientId = cid();
    const first = ok(await alice.emitWithAck('send', { room: 'lobby', text: 'one', clientId, attachments: [file] }));
    // The same send again (its ack was lost) is the same message.
    const again = ok(await alice.emitWithAck('send', { room: 'lobby', text: 'one', clientId, attachments: [file] }));
    expect([again.seq, again.duplicate]).toEqual([first.seq, true]);
    expect(await refused(alice, { room: 'lobby', attachments: [file] })).toBe('bad_request');
    // Over REST too.
    const res = await fetch(`${s.url}/api/rooms/lobby/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.session.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'mine now', clientId: cid(), attachments: [file] }),
    });
    expect(res.status).toBe(400);
  });

  it("keeps a private room's files from strangers and from a removed member, and a deleted message's files are gone (410)", async () => {
    const s = await server();
    const bob = await s.client('bob');
    const alice = await s.client('alice');
    const carol = await s.client('carol');
    const plans = ok(await call(bob, 'createRoom', { title: 'Plans' })) as unknown as { room: string };
    ok(await call(bob, 'invite', { room: plans.room, userId: alice.session.userId }));
    // A stranger cannot even upload to it: the room does not exist for her.
    expect((await upload(s, carol.session, plans.room, 'x.txt', new TextEncoder().encode('x'))).status).toBe(404);
    const up = await upload(s, bob.session, plans.room, 'plan.pdf', new TextEncoder().encode('%PDF-1.4\n%secret plan\n'));
    expect(up.body.file?.type).toBe('application/pdf');
    const url = up.body.file?.url as string;
    const sent = ok(await bob.emitWithAck('send', { room: plans.room, text: 'the plan', clientId: cid(), attachments: [up.body.file?.id as string] }));
    expect((await get(s, alice.session, url)).status).toBe(200);
    expect((await get(s, carol.session, url)).status).toBe(404);
    ok(await call(bob, 'removeMember', { room: plans.room, userId: alice.session.userId }));
    expect((await get(s, alice.session, url)).status).toBe(404);
    ok(await bob.emitWithAck('delete', { room: plans.room, target: sent.seq, clientId: cid() }));
    const gone = await get(s, bob.session, url);
    expect(gone.status).toBe(410);
    expect((await get(s, bob.session, `${url}?size=320`)).status).toBe(410);
  });

  it('refuses an oversized upload from its Content-Length before reading it, and one without a length once it passes the cap', async () => {
    const s = await server({ MAX_UPLOAD_BYTES: String(64 * 1024) });
    const alice = await s.client('alice');
    // Declared too big: answered at once, the body never sent.
    const early = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${s.url}/api/rooms/lobby/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.session.token}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(100 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('--x\r\n');
    });
    expect(early.status).toBe(413);
    expect(JSON.parse(early.body)).toMatchObject({ error: { code: 'too_large', message: 'Files can be at most 64 KiB' } });
    // Streamed without a length: refused as the cap passes, nothing kept.
    const big = await upload(s, alice.session, 'lobby', 'big.bin', new Uint8Array(64 * 1024 + 1));
    expect(big.status).toBe(413);
    expect(await s.store.files.totalBytes()).toBe(0);
    expect((await upload(s, alice.session, 'lobby', 'fits.bin', new Uint8Array(64 * 1024))).status).toBe(201);
  });

  it('refuses past the daily quota with Retry-After and a readable message, and when uploads are off', async () => {
    const s = await server({ UPLOAD_BYTES_PER_DAY: String(10_000) });
    const alice = await s.client('alice');
    expect((await upload(s, alice.session, 'lobby', 'a.bin', new Uint8Array(6000))).status).toBe(201);
    const over = await upload(s, alice.session, 'lobby', 'b.bin', new Uint8Array(6000));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.body.error?.message).toMatch(/uploaded .* today/);
    const bob = await s.client('bob');
    expect((await upload(s, bob.session, 'lobby', 'b.bin', new Uint8Array(6000))).status).toBe(201);

    const off = await server({ UPLOADS: 'off' });
    const carol = await off.client('carol');
    const refused = await upload(off, carol.session, 'lobby', 'c.bin', new Uint8Array(10));
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'forbidden']);
  });

  it('collects an upload never sent after an hour, its blob with it, and keeps sent ones', async () => {
    let now = Date.now();
    const s = await startServer({ store: 'sqlite', now: () => now });
    servers.push(s);
    const alice = await s.client('alice');
    const kept = (await upload(s, alice.session, 'lobby', 'kept.png', await png())).body.file as NonNullable<Uploaded['body']['file']>;
    const lost = (await upload(s, alice.session, 'lobby', 'lost.bin', new Uint8Array([1, 2, 3]))).body.file as NonNullable<Uploaded['body']['file']>;
    ok(await alice.emitWithAck('send', { room: 'lobby', text: 'kept', clientId: cid(), attachments: [kept.id] }));
    now += 2 * 3_600_000;
    expect(await s.app.files.collectOrphans()).toBe(1);
    expect((await get(s, alice.session, lost.url)).status).toBe(404);
    expect((await get(s, alice.session, kept.url)).status).toBe(200);
  });

  it('counts uploads and stored bytes on /metrics and in the /ops samples', async () => {
    const token = 'ops-token-for-files-0123456789';
    const s = await server({ OPS_TOKEN: token });
    const alice = await s.client('alice');
    const series = async (name: string) => {
      const line = (await (await fetch(`${s.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.slice(name.length + 1)) : 0;
    };
    expect(await series('fiberchat_files_stored_bytes')).toBe(0);
    const first = (await upload(s, alice.session, 'lobby', 'a.txt', new TextEncoder().encode('x'.repeat(1000)))).body.file;
    const second = (await upload(s, alice.session, 'lobby', 'b.txt', new TextEncoder().encode('y'.repeat(2345)))).body.file;
    expect([first?.size, second?.size]).toEqual([1000, 2345]);
    expect(await series('fiberchat_files_stored_bytes')).toBe(3345);
    expect(await series('fiberchat_uploads_total{result="stored"}')).toBe(2);
    expect(await series('fiberchat_upload_bytes_total')).toBe(3345);
    await expect
      .poll(async () => {
        const snap = (await (await fetch(`${s.url}/api/ops/snapshot`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          nodes: Array<{ samples: Array<{ uploads: number; storedBytes: number }> }>;
        };
        const last = snap.nodes[0]?.samples.at(-1);
        return last && [last.uploads, last.storedBytes];
      }, { timeout: 5000, interval: 200 })
      .toEqual([2, 3345]);
  });

  it('stores an upload slower than the 15 s request timeout that keeps its rate, and answers its refusals to a client still writing', { timeout: 60_000 }, async () => {
    const s = await server();
    const alice = await s.client('alice');
    // 18 s at 32 KiB/s: longer than any other request may take, above the 8 KiB/s floor.
    const chunks = async function* () {
      for (let i = 0; i < 18; i++) {
        yield Buffer.alloc(32 * 1024, i);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const slow = await rawUpload(s.url, { token: alice.session.token, room: 'lobby', declared: multipartLength(18 * 32 * 1024), chunks: chunks() });
    expect(slow.ms).toBeGreaterThan(16_000);
    expect(slow.status).toBe(201);
    expect((JSON.parse(slow.body) as { file: { size: number } }).file.size).toBe(18 * 32 * 1024);
    // A body without a length, far past the cap, written as fast as the server takes it: the 413 reaches the client, not a reset.
    const huge = await rawUpload(s.url, {
      token: alice.session.token,
      room: 'lobby',
      declared: 'chunked',
      chunks: (function* () {
        for (let i = 0; i < 400; i++) yield Buffer.alloc(256 * 1024, 7);
      })(),
    });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ error: { code: 'too_large' } });
  });

  it('keeps the bytes in an S3-compatible bucket when FILES_S3_URL is set: uploaded, sent, served and removed there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiberchat-s3rver-'));
    const bucket = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'chat-files' }] });
    const { port } = await bucket.run();
    try {
      const s = await server({ FILES_S3_URL: `http://S3RVER:S3RVER@127.0.0.1:${port}/chat-files/uploads?region=eu-west-1` });
      const alice = await s.client('alice');
      const bytes = await png(300, 200);
      const up = await upload(s, alice.session, 'lobby', 'chart.png', bytes);
      expect(up.status).toBe(201);
      const file = up.body.file as { id: string; url: string };
      const sent = ok(await call(alice, 'send', { room: 'lobby', text: '', clientId: cid(), attachments: [file.id] }));
      const read = await get(s, alice.session, file.url);
      expect(read.status).toBe(200);
      expect(sha(read.bytes)).toBe(sha(bytes));
      expect((await get(s, alice.session, `${file.url}?size=320`)).status).toBe(200);
      // The blob is an object of the bucket, under the prefix, named by its SHA-256.
      expect(readdirSync(join(dir, 'chat-files'), { recursive: true }).some((f) => String(f).includes(sha(bytes)))).toBe(true);
      ok(await call(alice, 'delete', { room: 'lobby', target: sent.seq, clientId: cid() }));
      expect((await get(s, alice.session, file.url)).status).toBe(410);
    } finally {
      await Promise.all(servers.splice(0).map((x) => x.close()));
      await bucket.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
