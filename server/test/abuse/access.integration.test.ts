/**
 * Who gets in, and for how long: sessions per address (a small burst, then
 * SESSION_RATE_PER_MIN), /metrics only for loopback clients or with
 * METRICS_TOKEN, and a connection that ends with its token even if it
 * never sends another request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, startServer, type TestServer } from '../harness.ts';
import { refusals } from './measure.ts';
import { httpRequest, socketFrom } from './net.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}
const newSession = (s: TestServer, localAddress: string) =>
  httpRequest(s.url, { method: 'POST', path: '/api/session', body: '{"name":"someone"}', localAddress });

describe('sessions per address', () => {
  it('allow a burst of 5, then refuse with 429 and Retry-After; another address is not affected', async () => {
    // The defaults, which the test harness otherwise lifts for its own clients.
    const s = await server({ env: { SESSION_RATE_PER_MIN: '30', SESSION_BURST: '5' } });
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await newSession(s, '127.0.0.34')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await newSession(s, '127.0.0.34');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'rate_limited', retryAfterMs: expect.any(Number) } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await newSession(s, '127.0.0.35')).status).toBe(200);
    expect((await refusals(s.url)).rate_session).toBe(3);
  });
});

describe('/metrics', () => {
  const metrics = (s: TestServer, headers: Record<string, string> = {}) => httpRequest(s.url, { path: '/metrics', headers });

  it('without METRICS_TOKEN answers loopback clients only: a client behind the proxy is told not_found', async () => {
    // Behind a trusted proxy on loopback, the client is the address the proxy names;
    // from a documentation address (RFC 5737), that client is not local.
    const s = await server({ env: { TRUST_PROXY: 'loopback' } });
    expect((await metrics(s)).status).toBe(200);
    const remote = await metrics(s, { 'x-forwarded-for': '198.51.100.7' });
    expect(remote.status).toBe(404);
    expect(JSON.parse(remote.body)).toEqual({ error: { code: 'not_found', message: 'Not found' } });
    expect(remote.body).not.toContain('fiberchat');
    expect((await metrics(s, { 'x-forwarded-for': '127.0.0.1' })).status).toBe(200);
    // A client that writes a loopback hop itself gains nothing: the proxy appends the real one.
    expect((await metrics(s, { 'x-forwarded-for': '127.0.0.1, 198.51.100.7' })).status).toBe(404);
  });

  it('with METRICS_TOKEN requires the bearer token from everyone, loopback included', async () => {
    const token = 'metrics-token-0123456789';
    const s = await server({ env: { TRUST_PROXY: 'loopback', METRICS_TOKEN: token } });
    expect((await metrics(s)).status).toBe(401);
    expect((await metrics(s, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await metrics(s, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await metrics(s, { authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.7' })).status).toBe(200);
  });
});

describe('session expiry', () => {
  it('a connection that only listens is told bye session_expired and closed when its token expires', async () => {
    // Tokens last at least an hour; issue one as if an hour less two seconds ago.
    let offset = -(3_600_000 - 2_000);
    const s = await server({ env: { SESSION_TTL_HOURS: '1' }, now: () => Date.now() + offset });
    const session = await s.session('listener');
    offset = 0;
    const socket = await socketFrom(s.url, session.token);
    const bye = collect(socket, 'bye');
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect((await socket.emitWithAck('join', { room: 'quiet' })).ok).toBe(true);
    // From here on it sends nothing.
    expect(await closed).toBe('io server disconnect');
    expect(bye).toEqual([{ reason: 'session_expired' }]);
    expect(session.expiresAt).toBeLessThanOrEqual(Date.now());
  }, 15_000);
});
