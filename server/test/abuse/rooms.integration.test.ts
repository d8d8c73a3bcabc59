/**
 * Lookups of rooms that do not exist are cheap and leave nothing behind, and
 * the room fibers a client can start are budgeted per identity, per address
 * and per connection, so no client can fill the room table (MAX_ROOMS) and
 * lock everyone else out of opening a room.
 */
import { Agent } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ack } from '../../../shared/protocol.ts';
import { startServer, type TestServer } from '../harness.ts';
import { refusals, roomRows } from './measure.ts';
import { httpRequest, sessionFrom, socketFrom } from './net.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}
const codeOf = (a: Ack<unknown>) => (a.ok ? 'ok' : a.error.code);
function count(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** REST reads of `rooms` with one token from one address, 16 at a time; the statuses in order. */
async function poll(s: TestServer, token: string, rooms: string[], localAddress = '127.0.0.1', query = ''): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const statuses: number[] = [];
  try {
    for (let i = 0; i < rooms.length; i += 16) {
      const batch = rooms.slice(i, i + 16).map((room) =>
        httpRequest(s.url, { path: `/api/rooms/${room}/messages${query}`, headers: { authorization: `Bearer ${token}` }, localAddress, agent }),
      );
      statuses.push(...(await Promise.all(batch)).map((r) => r.status));
    }
  } finally {
    agent.destroy();
  }
  return statuses;
}

describe('rooms that never stored a message', () => {
  it('answer scrollback over socket and REST with an empty page, start no fiber and write no row', async () => {
    // Read budgets lifted so that every request is served: the point is what serving costs.
    const s = await server({ store: 'sqlite', env: { READ_RATE: '100000', READ_BURST: '100000', MAX_IN_FLIGHT: '65536' } });
    const a = await s.client('prober');
    const answers = await Promise.all(range(150).map((i) => a.emitWithAck('history', { room: `ghost-${i}`, before: 1000 })));
    expect(answers.every((x) => x.ok && x.messages.length === 0)).toBe(true);
    const statuses = await poll(s, a.session.token, range(150).map((i) => `phantom-${i}`), '127.0.0.1', '?before=1000');
    expect(count(statuses.map(String))).toEqual({ 200: 150 });
    expect(s.app.rooms.size).toBe(0);
    expect(roomRows(join(s.dataDir, 'fiberchat.db'))).toBe(0);
    // A room gets its row with its first message, and not before.
    expect((await a.emitWithAck('join', { room: 'real' })).ok).toBe(true);
    expect(roomRows(join(s.dataDir, 'fiberchat.db'))).toBe(0);
    expect((await a.emitWithAck('send', { room: 'real', text: 'first', clientId: 'first-message' })).ok).toBe(true);
    expect(roomRows(join(s.dataDir, 'fiberchat.db'))).toBe(1);
  });
});

describe('room budgets', () => {
  it('an identity may have 100 live rooms it started; the 101st answers rate_limited, and others still open rooms', async () => {
    // Read budgets lifted: this is about the room budget, which a slower opener meets too.
    const s = await server({ env: { READ_RATE: '100000', READ_BURST: '100000' } });
    const { token } = await s.session('opener');
    const statuses = await poll(s, token, range(101).map((i) => `open-${i}`));
    expect(count(statuses.map(String))).toEqual({ 200: 100, 429: 1 });
    expect(s.app.rooms.size).toBe(100);
    // A socket join by the same identity is charged to the same budget.
    const same = await socketFrom(s.url, token);
    expect(codeOf(await same.emitWithAck('join', { room: 'mine' }))).toBe('rate_limited');
    same.disconnect();
    const other = await sessionFrom(s.url, 'other');
    expect(await poll(s, other.token, ['other-room'])).toEqual([200]);
    expect((await refusals(s.url)).room_budget).toBe(2);
  });

  it('an address may have 500 live rooms its identities started; past it a new identity there is refused, another address is not', async () => {
    const s = await server({ env: { READ_RATE: '100000', READ_BURST: '100000' } });
    const address = '127.0.0.20';
    const tokens = await Promise.all(range(6).map(async (i) => (await sessionFrom(s.url, `crowd${i}`, address)).token));
    for (const [i, token] of tokens.slice(0, 5).entries()) {
      expect(count((await poll(s, token, range(100).map((k) => `a${i}-${k}`), address)).map(String))).toEqual({ 200: 100 });
    }
    expect(s.app.rooms.size).toBe(500);
    expect(await poll(s, tokens[5] as string, ['one-more'], address)).toEqual([429]);
    const elsewhere = await sessionFrom(s.url, 'elsewhere', '127.0.0.21');
    expect(await poll(s, elsewhere.token, ['one-more'], '127.0.0.21')).toEqual([200]);
  });

  it('a connection is in at most 100 rooms, even when 150 joins arrive at once', async () => {
    // Join rates lifted: this is about the cap holding under concurrency.
    const s = await server({ env: { JOIN_RATE: '100000', JOIN_BURST: '100000', MAX_IN_FLIGHT: '65536' } });
    const a = await s.client('joiner');
    const answers = await Promise.all(range(150).map((i) => a.emitWithAck('join', { room: `j-${i}` })));
    expect(count(answers.map(codeOf))).toEqual({ ok: 100, forbidden: 50 });
    const rooms = await a.emitWithAck('rooms', {});
    expect(rooms.ok && rooms.rooms.length).toBe(100);
  });
});
