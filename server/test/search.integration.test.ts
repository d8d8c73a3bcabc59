import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, SessionOk } from '../../shared/protocol.ts';
import { cid, startServer, type ChatSocket, type TestServer } from './harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startServer({ store: 'sqlite', env: { MANAGE_RATE: '100', SEARCH_RATE: '100', ...env } });
  servers.push(s);
  return s;
}

type Result = { room: string; seq: number; text: string; snippet: string; highlights: Array<[number, number]>; title?: string; author: string };
type SearchAnswer = Ack<{ results: Result[]; next?: string; partial?: boolean }>;

function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}
function call(socket: ChatSocket, event: string, payload: unknown): Promise<Ack<Record<string, unknown>>> {
  return (socket as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<Record<string, unknown>>> }).emitWithAck(event, payload);
}
function searchSocket(socket: ChatSocket, payload: Record<string, unknown>): Promise<SearchAnswer> {
  return call(socket, 'search', payload) as Promise<SearchAnswer>;
}
/** GET /api/search as a bot (or the Ajax and Server-Sent Events carriers) would. */
async function searchRest(s: TestServer, session: SessionOk, params: Record<string, string>): Promise<{ status: number; body: SearchAnswer }> {
  const res = await fetch(`${s.url}/api/search?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${session.token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body: (res.ok ? { ok: true, ...body } : { ok: false, ...body }) as SearchAnswer };
}
const textsOf = (a: SearchAnswer) => ok(a).results.map((r) => r.text);

describe('search over every carrier', () => {
  it('finds public rooms for anyone and a private room only for its members now, over WebSocket, long-polling and REST', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    const strangerWs = await s.client('stranger');
    const strangerPolling = await s.connectAs(strangerWs.session, { transports: ['polling'] });
    ok(await alice.emitWithAck('send', { room: 'lobby', text: 'zanzibar for everyone', clientId: cid() }));
    const plans = ok(await call(alice, 'createRoom', { title: 'Plans' })) as unknown as { room: string };
    ok(await alice.emitWithAck('send', { room: plans.room, text: 'the secret zanzibar route', clientId: cid() }));

    for (const answer of [
      await searchSocket(strangerWs, { q: 'zanzibar' }),
      await searchSocket(strangerPolling, { q: 'zanzibar' }),
      (await searchRest(s, strangerWs.session, { q: 'zanzibar' })).body,
    ]) {
      expect(textsOf(answer)).toEqual(['zanzibar for everyone']);
    }
    // Naming the private room finds nothing either, and says nothing of it.
    expect(textsOf(await searchSocket(strangerWs, { q: 'zanzibar', room: plans.room }))).toEqual([]);
    expect(textsOf((await searchRest(s, strangerWs.session, { q: `secret in:#${plans.room}` })).body)).toEqual([]);

    const mine = ok(await searchSocket(alice, { q: 'zanzibar' })).results;
    expect(mine.map((r) => r.text)).toEqual(['the secret zanzibar route', 'zanzibar for everyone']);
    expect(mine[0]).toMatchObject({ room: plans.room, title: 'Plans', author: 'alice', snippet: 'the secret zanzibar route', highlights: [[11, 19]] });

    ok(await call(alice, 'invite', { room: plans.room, userId: bob.session.userId }));
    expect(textsOf(await searchSocket(bob, { q: 'secret' }))).toEqual(['the secret zanzibar route']);
    ok(await call(alice, 'removeMember', { room: plans.room, userId: bob.session.userId }));
    expect(textsOf(await searchSocket(bob, { q: 'secret' }))).toEqual([]);
  });

  it('follows edits and deletes at once, and filters by author, room and day', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    const first = ok(await alice.emitWithAck('send', { room: 'ops', text: 'deploy at noon', clientId: cid() }));
    ok(await bob.emitWithAck('send', { room: 'ops', text: 'deploy after lunch', clientId: cid() }));
    ok(await bob.emitWithAck('send', { room: 'dev', text: 'deploy the docs', clientId: cid() }));
    expect(textsOf(await searchSocket(alice, { q: 'deploy from:@bob' }))).toEqual(['deploy the docs', 'deploy after lunch']);
    expect(textsOf(await searchSocket(alice, { q: 'deploy', from: 'Bob', room: 'ops' }))).toEqual(['deploy after lunch']);
    expect(textsOf(await searchSocket(alice, { q: 'deploy from:@nobody' }))).toEqual([]);
    expect(textsOf(await searchSocket(alice, { q: 'deploy', before: '2000-01-01' }))).toEqual([]);
    expect(textsOf(await searchSocket(alice, { q: 'deploy after:2000-01-01 in:#dev' }))).toEqual(['deploy the docs']);

    ok(await call(alice, 'edit', { room: 'ops', target: first.seq, text: 'release at noon', clientId: cid() }));
    expect(textsOf(await searchSocket(bob, { q: 'noon' }))).toEqual(['release at noon']);
    expect(textsOf(await searchSocket(bob, { q: 'deploy in:#ops' }))).toEqual(['deploy after lunch']);
    ok(await call(alice, 'delete', { room: 'ops', target: first.seq, clientId: cid() }));
    expect(textsOf(await searchSocket(bob, { q: 'noon' }))).toEqual([]);
  });

  it('pages newest first by an opaque cursor, the same over REST and the socket', async () => {
    const s = await server();
    const alice = await s.client('alice');
    for (let i = 1; i <= 7; i++) ok(await alice.emitWithAck('send', { room: 'log', text: `entry ${i} of the log`, clientId: cid() }));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const { body } = await searchRest(s, alice.session, { q: 'entry', limit: '3', ...(cursor ? { cursor } : {}) });
      const a = ok(body);
      seen.push(...a.results.map((r) => r.text));
      cursor = a.next;
      if (!cursor) break;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1].map((i) => `entry ${i} of the log`));
    const first = ok(await searchSocket(alice, { q: 'entry', limit: 3 }));
    const second = ok(await searchSocket(alice, { q: 'entry', limit: 3, cursor: first.next }));
    expect(second.results.map((r) => r.seq)).toEqual([4, 3, 2]);
  });

  it('refuses what cannot be a search with a clear error, answers every typed string, and limits the rate', async () => {
    const s = await server({ SEARCH_RATE: '1' });
    const alice = await s.client('alice');
    const bad = async (payload: Record<string, unknown>) => {
      const a = await searchSocket(alice, payload);
      return a.ok ? 'ok' : `${a.error.code}: ${a.error.message}`;
    };
    expect(await bad({ q: 'x'.repeat(257) })).toMatch(/^too_large: q/);
    expect(await bad({ q: '-only -exclusions' })).toMatch(/^bad_request: say what to look for/);
    expect(await bad({ q: 'word', cursor: 'not-ours' })).toMatch(/^bad_request: that cursor/);
    expect(await bad({ q: 'word', before: '2026-02-30' })).toMatch(/^bad_request/);
    // Rate: a burst of 5, then refused with the wait.
    const rest = await searchRest(s, alice.session, { q: 'NEAR(a b) OR "x* {words}:' });
    expect(rest.status === 200 || rest.status === 429).toBe(true);
    let refused: SearchAnswer | undefined;
    for (let i = 0; i < 8 && !refused; i++) {
      const a = await searchSocket(alice, { q: `AND OR NOT "unclosed ${i}` });
      if (!a.ok) refused = a;
    }
    expect(refused && !refused.ok && refused.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    const limited = await searchRest(s, alice.session, { q: 'again' });
    expect(limited.status).toBe(429);
  });
});
