import { afterEach, describe, expect, it } from 'vitest';
import { OpsSnapshot, type OpsSample } from '../../shared/ops.ts';
import { TRANSPORTS } from '../../shared/transports.ts';
import { cid, startServer, type TestServer } from './harness.ts';
import { openStream } from './sse-stream.ts';

/**
 * The operations page's data on the real server: off without OPS_TOKEN, 401
 * without the token, and with it a snapshot whose numbers are the ones
 * /metrics serves (from loopback, as the tests run).
 */
const TOKEN = 'ops-token-for-tests-0123456789';
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startServer({ env: { OPS_TOKEN: TOKEN, ...env } });
  servers.push(s);
  return s;
}

const bearer = { authorization: `Bearer ${TOKEN}` };

async function snapshot(s: TestServer): Promise<OpsSnapshot> {
  const res = await fetch(`${s.url}/api/ops/snapshot`, { headers: bearer });
  expect(res.status).toBe(200);
  return OpsSnapshot.parse(await res.json());
}

/** The newest sample of this node, once one taken after `since` exists. */
async function latest(s: TestServer, since: number): Promise<OpsSample> {
  let found: OpsSample | undefined;
  await expect
    .poll(async () => {
      found = (await snapshot(s)).nodes[0]?.samples.at(-1);
      return found !== undefined && found.t > since;
    }, { timeout: 5000, interval: 200 })
    .toBe(true);
  return found as OpsSample;
}

/** One series of /metrics (labels as written, e.g. `{transport="websocket"}`), 0 when absent. */
async function metric(s: TestServer, series: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('operations page: access', () => {
  it('is off without OPS_TOKEN: the page and every data route answer 404', async () => {
    const s = await startServer();
    servers.push(s);
    for (const [method, path] of [
      ['GET', '/ops'],
      ['GET', '/ops.html'],
      ['GET', '/api/ops/snapshot'],
      ['GET', '/api/ops/stream'],
      ['POST', '/api/ops/session'],
    ] as const) {
      const res = await fetch(`${s.url}${path}`, { method, headers: { ...bearer, 'content-type': 'application/json' }, body: method === 'POST' ? JSON.stringify({ token: TOKEN }) : undefined });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
  });

  it('answers 401 without the token or with a wrong one, on the page and its data', async () => {
    const s = await start();
    for (const path of ['/ops', '/api/ops/snapshot', '/api/ops/stream']) {
      expect((await fetch(`${s.url}${path}`)).status, path).toBe(401);
      expect((await fetch(`${s.url}${path}`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status, path).toBe(401);
      expect((await fetch(`${s.url}${path}`, { headers: { cookie: 'fc_ops=9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })).status, path).toBe(401);
    }
    // The built page is never served by its file name, however spelled.
    for (const path of ['/ops.html', '/%6Fps.html', '/ops.html?x=1']) expect((await fetch(`${s.url}${path}`, { headers: bearer })).status, path).toBe(404);
  });

  it('exchanges the typed token for an HttpOnly cookie that opens the data; tries are rate-limited', async () => {
    const s = await start();
    const login = (token: string) =>
      fetch(`${s.url}/api/ops/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect((await login('wrong-token-wrong-token')).status).toBe(401);
    const ok = await login(TOKEN);
    expect(ok.status).toBe(204);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^fc_ops=\d+\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
    const cookie = setCookie.split(';')[0] as string;
    expect((await fetch(`${s.url}/api/ops/snapshot`, { headers: { cookie } })).status).toBe(200);
    // Five tries a minute per address: the sixth and later are refused and counted.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login('wrong-token-wrong-token')).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    expect(await metric(s, 'fiberchat_refusals_total{reason="rate_ops_login"}')).toBeGreaterThan(0);
  });
});

describe('operations page: data', () => {
  it('samples connections by transport, messages, deliveries and send→ack latency as /metrics counts them', async () => {
    const s = await start();
    const ws = await s.client('ws-user');
    const lp = await s.client('lp-user', { transports: ['polling'] });
    const ajax = await s.session('ajax-user');
    const sse = await s.session('sse-user');
    for (const c of [ws, lp]) expect((await c.emitWithAck('join', { room: 'ops-room' })).ok).toBe(true);
    const stream = await openStream(s, sse.token, ['ops-room']);
    const poll = await fetch(`${s.url}/api/rooms/ops-room/messages`, { headers: { authorization: `Bearer ${ajax.token}` } });
    expect(poll.status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await ws.emitWithAck('send', { room: 'ops-room', text: `m${i}`, clientId: cid() })).ok).toBe(true);
    const since = Date.now();
    const sample = await latest(s, since);

    // One connection of each carrier, in the order of the shared list.
    expect(Object.fromEntries(TRANSPORTS.map((t, i) => [t, sample.conn[i]]))).toEqual({ websocket: 1, 'long-polling': 1, sse: 1, ajax: 1 });
    expect(sample.messages).toBe(3);
    // Three subscribers in the room (an Ajax poller subscribes to nothing): each message delivered three times.
    expect(sample.deliveries).toBe(9);
    expect(sample.ack.at(-1)).toBe(3);
    expect(sample.rooms).toBe(1);
    for (const [i, t] of TRANSPORTS.entries()) {
      expect(await metric(s, `fiberchat_connections{transport="${t}"}`), t).toBe(sample.conn[i]);
    }
    expect(await metric(s, 'fiberchat_messages_total')).toBe(3);
    expect(await metric(s, 'fiberchat_deliveries_total')).toBe(9);
    expect(await metric(s, 'fiberchat_send_ack_seconds_count')).toBe(3);
    expect(sample.rssBytes).toBeGreaterThan(0);
    expect(sample.heapBytes).toBeGreaterThan(0);

    const view = (await snapshot(s)).nodes[0];
    expect(view?.node.state).toBe('serving');
    expect(view?.tables.rooms[0]).toMatchObject({ label: 'ops-room', kind: 'public', subscribers: 3 });
    stream.close();
    expect(view?.tables.rooms[0]?.perMin).toBeGreaterThan(0);
  });

  it('counts refusals by reason and names the address and identity that drew them', async () => {
    const s = await start({ READ_RATE: '1', READ_BURST: '1' });
    const hammer = await s.client('hammer');
    expect((await hammer.emitWithAck('join', { room: 'h' })).ok).toBe(true);
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      const res = await hammer.emitWithAck('history', { room: 'h', before: 1 });
      if (!res.ok) refused++;
    }
    expect(refused).toBeGreaterThan(0);
    const sample = await latest(s, Date.now());
    expect(sample.refusals.rate_read).toBe(refused);
    expect(await metric(s, 'fiberchat_refusals_total{reason="rate_read"}')).toBe(refused);
    const tables = (await snapshot(s)).nodes[0]?.tables;
    expect(tables?.addresses[0]?.address).toBe('127.0.0.1');
    expect(tables?.identities[0]).toMatchObject({ userId: hammer.session.userId, name: 'hammer' });
  });

  it('takes transport reports: validated, within a budget, counted by event and carrier', async () => {
    const s = await start();
    const c = await s.client('mover');
    expect(await c.emitWithAck('report', { event: 'fallback', from: 'websocket', to: 'ajax', reason: 'timeout' })).toEqual({ ok: true });
    // A fallback goes down the ladder, never up.
    const wrong = await c.emitWithAck('report', { event: 'fallback', from: 'ajax', to: 'websocket' });
    expect(wrong.ok ? 'ok' : wrong.error.code).toBe('bad_request');
    const extra = await c.emitWithAck('report', { event: 'upgrade', from: 'long-polling', to: 'websocket', text: 'x' } as never);
    expect(extra.ok ? 'ok' : extra.error.code).toBe('bad_request');
    // Over REST too (Ajax clients report there).
    const rest = await fetch(`${s.url}/api/report`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.session.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'upgrade', from: 'ajax', to: 'websocket' }),
    });
    expect(rest.status).toBe(200);
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await c.emitWithAck('report', { event: 'upgrade', from: 'long-polling', to: 'websocket' });
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    expect(codes).toContain('rate_limited');
    expect(await metric(s, 'fiberchat_transport_reports_total{event="fallback",from="websocket",to="ajax",reason="timeout"}')).toBe(1);
    expect(await metric(s, 'fiberchat_transport_reports_total{event="upgrade",from="ajax",to="websocket",reason="none"}')).toBe(1);
    const sample = await latest(s, Date.now());
    expect(sample.reports['fallback:ajax']).toBe(1);
    expect(sample.reports['upgrade:websocket']).toBe(1 + codes.filter((x) => x === 'ok').length);
  });

  it('streams a snapshot, then a tick each second with only the new samples', async () => {
    const s = await start();
    const ac = new AbortController();
    const res = await fetch(`${s.url}/api/ops/stream`, { headers: bearer, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const events: Array<{ event: string; data: OpsSnapshot }> = [];
    const deadline = Date.now() + 8000;
    while (events.length < 3 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? '{}';
        events.push({ event, data: OpsSnapshot.parse(JSON.parse(data)) });
      }
    }
    ac.abort();
    expect(events.map((e) => e.event)).toEqual(['snapshot', 'tick', 'tick']);
    const [first, second, third] = events.map((e) => e.data.nodes[0]?.samples.map((x) => x.t) ?? []);
    expect(second?.length).toBe(1);
    expect(third?.length).toBe(1);
    expect(second?.[0]).toBeGreaterThan(first?.at(-1) ?? 0);
    expect(third?.[0]).toBeGreaterThan(second?.[0] ?? 0);
  });
});
