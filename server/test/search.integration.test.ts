import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, SessionOk } from '../../shared/protocol.ts';
import { cid, startServer, unlimitedSends, type ChatSocket, type TestServer } from './harness.ts';

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

describe('a result in its context', () => {
  type Page = Ack<{ messages: Array<{ seq: number; text: string; kind?: string }> }>;
  const seqsOf = (a: Page) => ok(a).messages.map((m) => m.seq);
  async function historyRest(s: TestServer, session: SessionOk, room: string, params: Record<string, string>): Promise<{ status: number; body: Page }> {
    const res = await fetch(`${s.url}/api/rooms/${room}/history?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${session.token}` } });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, body: (res.ok ? { ok: true, ...body } : { ok: false, ...body }) as Page };
  }

  it('history around a seq and after one, in their current state, over WebSocket, long-polling and REST, for readers only', async () => {
    const s = await server(unlimitedSends());
    const alice = await s.client('alice');
    for (let i = 1; i <= 60; i++) ok(await alice.emitWithAck('send', { room: 'far', text: `far ${i}`, clientId: cid() }));
    ok(await call(alice, 'edit', { room: 'far', target: 20, text: 'far 20 edited', clientId: cid() }));
    const polling = await s.connectAs(alice.session, { transports: ['polling'] });
    const expected = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
    // The room has no live fiber yet (nobody joined it since the sends' fiber: read straight from the store or the tail).
    for (const page of [
      (await call(alice, 'history', { room: 'far', around: 20, limit: 10 })) as Page,
      (await call(polling, 'history', { room: 'far', around: 20, limit: 10 })) as Page,
      (await historyRest(s, alice.session, 'far', { around: '20', limit: '10' })).body,
    ]) {
      expect(seqsOf(page)).toEqual(expected);
      expect(ok(page).messages.find((m) => m.seq === 20)?.text).toBe('far 20 edited');
    }
    // Scrolling down from the stretch: what follows, up to the edit entry at the end of the log.
    expect(seqsOf((await call(alice, 'history', { room: 'far', after: 55, limit: 10 })) as Page)).toEqual([56, 57, 58, 59, 60, 61]);
    expect(seqsOf((await historyRest(s, alice.session, 'far', { after: '61' })).body)).toEqual([]);
    expect(seqsOf((await historyRest(s, alice.session, 'far', { before: '3' })).body)).toEqual([1, 2]);
    // One range, exactly.
    for (const bad of [{ room: 'far' }, { room: 'far', around: 5, after: 2 }, { room: 'far', before: 5, around: 2 }]) {
      const res = await call(alice, 'history', bad);
      expect(res.ok ? 'ok' : res.error.code).toBe('bad_request');
    }
    expect((await historyRest(s, alice.session, 'far', { around: '1', after: '1' })).status).toBe(400);

    // A private room's stretch is not there for a stranger, on any carrier.
    const plans = ok(await call(alice, 'createRoom', { title: 'Plans' })) as unknown as { room: string };
    ok(await alice.emitWithAck('send', { room: plans.room, text: 'secret', clientId: cid() }));
    const stranger = await s.client('stranger');
    const refused = (await call(stranger, 'history', { room: plans.room, around: 1 })) as Page;
    expect(refused.ok ? 'ok' : refused.error.code).toBe('not_found');
    expect((await historyRest(s, stranger.session, plans.room, { around: '1' })).status).toBe(404);
  });
});

