/**
 * The HTTP surface a browser or an attacker meets: security headers on every
 * kind of response, and malformed requests answered with the error envelope
 * without quoting the request back. Real server on port 0, raw TCP where a
 * well-behaved client could not send the request at all.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { CONTENT_SECURITY_POLICY, HTTP_LIMITS, SECURITY_HEADERS, httpHardeningOptions, registerHttpHardening } from '../edge/http-hardening.ts';
import { MemoryStore } from '../store/memory-store.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server wrote, status line and headers included. */
  raw: string;
}

/** Writes `request` as is on a fresh TCP connection and reads until the server closes it. */
function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(split + 4), raw });
    });
    socket.write(request);
  });
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`;
const post = (path: string, contentType: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function expectSecurityHeaders(res: RawResponse, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name], `${name} on ${what}`).toBe(value);
}

/** A marker put in the offending part of each bad request; it must never come back. */
const CANARY = 'CANARY7f3a';

let app: App;
let port: number;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fiberchat-hardening-'));
  // A client folder of our own, with a source map in it that must not be served.
  const clientDir = join(dataDir, 'client');
  mkdirSync(join(clientDir, 'assets'), { recursive: true });
  writeFileSync(join(clientDir, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(clientDir, 'assets', 'app.js'), 'console.log(1)\n//# sourceMappingURL=app.js.map\n');
  writeFileSync(join(clientDir, 'assets', 'app.js.map'), '{"version":3,"sources":["secret-source.ts"]}');
  const config = { ...loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir }), clientDir };
  app = createApp({ config, store: new MemoryStore(), logger: pino({ level: 'silent' }) });
  port = await app.listen();
});

afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('security headers', () => {
  it('spell the policy the client needs', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; connect-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
  });

  it.each<[string, string | (() => string), number]>([
    ['the app', get('/'), 200],
    ['a client route (the app again)', get('/r/lobby'), 200],
    ['a script', get('/assets/app.js'), 200],
    ['API JSON', post('/api/session', 'application/json', '{"name":"alice"}'), 200],
    ['an API error', get('/api/rooms/r/messages'), 401],
    ['an unknown API route', get('/api/nothing-here'), 404],
    ['a health check', get('/healthz'), 200],
    ['a socket.io long-polling handshake', get('/socket.io/?EIO=4&transport=polling'), 200],
    ['an engine.io refusal', get('/socket.io/?EIO=4&transport=carrier-pigeon'), 400],
    ['a framework error (bad JSON)', post('/api/session', 'application/json', '{"name":'), 400],
    ['a parser error (oversized headers)', () => get('/', `X-Big: ${'x'.repeat(HTTP_LIMITS.maxHeaderBytes)}\r\n`), 431],
  ])('are on %s', async (what, request, status) => {
    const res = await rawRequest(port, typeof request === 'string' ? request : request());
    expect(res.status, what).toBe(status);
    expectSecurityHeaders(res, what);
  });
});

describe('source maps', () => {
  it.each([
    ['the file', '/assets/app.js.map'],
    ['an escaped dot', '/assets/app.js%2Emap'],
    ['upper case', '/assets/app.js.MAP'],
    ['a query string', '/assets/app.js.map?x=1'],
  ])('are not served: %s', async (_label, path) => {
    const res = await rawRequest(port, get(path));
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'not_found', message: 'Not found' } });
    expect(res.raw).not.toContain('secret-source');
  });

  it('nor on HEAD', async () => {
    const res = await rawRequest(port, `HEAD /assets/app.js.map HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(404);
  });
});

describe('malformed requests', () => {
  const longParam = CANARY.repeat(Math.ceil((HTTP_LIMITS.maxParamLength + 1) / CANARY.length));
  it.each<[string, string | Buffer, number, string]>([
    ['a malformed percent-escape in the path', get(`/api/rooms/%zz${CANARY}/messages`), 400, 'bad_request'],
    ['a path parameter over the limit', get(`/api/rooms/${longParam}/messages`), 400, 'bad_request'],
    ['a URL over the header limit', get(`/${CANARY.repeat(HTTP_LIMITS.maxHeaderBytes / CANARY.length + 1)}`), 431, 'too_large'],
    ['headers over the limit', get('/', `X-Big: ${CANARY.repeat(HTTP_LIMITS.maxHeaderBytes / CANARY.length + 1)}\r\n`), 431, 'too_large'],
    ['a space inside the path', `GET /a ${CANARY} HTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'bad_request'],
    ['an unknown method', `${CANARY} / HTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'bad_request'],
    ['a control character in a header name', get('/', `X-${CANARY}\u0001: y\r\n`), 400, 'bad_request'],
    ['a non-numeric Content-Length', `POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Length: ${CANARY}\r\n\r\n`, 400, 'bad_request'],
    ['bad JSON', post('/api/session', 'application/json', `{"name": ${CANARY}`), 400, 'bad_request'],
    ['a JSON body that is not JSON at all', post('/api/session', 'application/json', `${CANARY}<script>`), 400, 'bad_request'],
    ['an empty JSON body', post('/api/session', 'application/json', ''), 400, 'bad_request'],
    ['prototype poisoning', post('/api/session', 'application/json', `{"__proto__":{"${CANARY}":1}}`), 400, 'bad_request'],
    ['a wrong content type', post('/api/session', `text/${CANARY}`, 'name=alice'), 400, 'bad_request'],
    ['a body over the limit', post('/api/session', 'application/json', `{"name":"${CANARY.repeat(7000)}"}`), 413, 'too_large'],
    ['an unknown API route', get(`/api/${CANARY}`), 404, 'not_found'],
    ['an unknown API method', `DELETE /api/${CANARY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 404, 'not_found'],
  ])('%s: the envelope, and nothing of the request', async (_label, request, status, code) => {
    const res = await rawRequest(port, request);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(/^[A-Z][a-z]/);
    expect(res.raw.toLowerCase()).not.toContain(CANARY.toLowerCase());
    expectSecurityHeaders(res, 'an error');
  });
});

describe('timeouts', () => {
  // The server's own limits with short values, on a bare Fastify, so the test waits tenths of seconds.
  const limits = { ...HTTP_LIMITS, headersTimeoutMs: 300, requestTimeoutMs: 600, connectionsCheckingIntervalMs: 50 };
  let bare: ReturnType<typeof Fastify>;
  let barePort: number;

  beforeAll(async () => {
    bare = Fastify({ ...httpHardeningOptions(limits) });
    registerHttpHardening(bare);
    // Like a long poll: the request is complete, the answer waits longer than the request timeout.
    bare.get('/slow', async () => {
      await new Promise((r) => setTimeout(r, limits.requestTimeoutMs * 2));
      return { ok: true };
    });
    await bare.listen({ port: 0, host: '127.0.0.1' });
    const addr = bare.server.address();
    barePort = typeof addr === 'object' && addr ? addr.port : 0;
  });
  afterAll(() => bare.close());

  it('answer headers that never finish with 408 and the envelope', async () => {
    const res = await rawRequest(barePort, `GET /slow HTTP/1.1\r\nHost: x\r\nX-${CANARY}: `);
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'bad_request', message: 'The request took too long to arrive' } });
    expect(res.raw).not.toContain(CANARY);
    expectSecurityHeaders(res, 'a timeout');
  });

  it('answer a body that never finishes with 408', async () => {
    const res = await rawRequest(barePort, `POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
    expect(res.status).toBe(408);
  });

  it('leave a complete request whose answer takes long (a long poll) alone', async () => {
    const res = await rawRequest(barePort, get('/slow'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });

  it('are what the server is created with', () => {
    const o = httpHardeningOptions();
    expect(o.http).toMatchObject({ headersTimeout: 5_000, requestTimeout: 15_000, maxHeaderSize: 16 * 1024 });
    expect([o.requestTimeout, o.keepAliveTimeout]).toEqual([15_000, 72_000]);
    expect([app.http.server.headersTimeout, app.http.server.requestTimeout, app.http.server.keepAliveTimeout]).toEqual([5_000, 15_000, 72_000]);
  });
});
