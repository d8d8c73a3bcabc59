import { describe, expect, it } from 'vitest';
import type { Message } from '../../../shared/protocol.ts';
import { AjaxTransport } from './ajax-transport.ts';
import { ManualClock, flush, msg } from './testing-fakes.ts';
import type { CloseInfo, TransportListener } from './transport.ts';

interface Call {
  method: string;
  url: string;
  auth: string | null;
  body: unknown;
}

/** A fake server for the REST endpoints: one room with a log and an epoch. */
function fakeServer() {
  const state = {
    epoch: 'e1',
    messages: [] as Message[],
    down: false,
    unauthorized: false,
    members: [] as string[],
    typing: [] as string[],
    /** Answers a request instead of the fake server: a Response, or 'hang' to never answer (until aborted). */
    override: null as ((method: string, path: string) => Response | 'hang' | null) | null,
    /** Delays the answer to a poll (GET …/messages), e.g. on a fake clock. */
    answerPoll: null as ((r: Response) => Promise<Response>) | null,
  };
  const calls: Call[] = [];
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchImpl = (async (input: string, init?: RequestInit) => {
    const url = new URL(input, 'http://test');
    const headers = new Headers(init?.headers);
    calls.push({
      method: init?.method ?? 'GET',
      url: url.pathname + url.search,
      auth: headers.get('authorization'),
      body: init?.body ? JSON.parse(String(init.body)) : null,
    });
    if (state.down) throw new TypeError('fetch failed');
    const special = state.override?.(init?.method ?? 'GET', url.pathname);
    if (special === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    if (special) return special;
    if (state.unauthorized) return json(401, { error: { code: 'unauthorized', message: 'no' } });
    if (url.pathname === '/api/ping') return json(200, { ts: 1 });
    const lastSeq = state.messages.length;
    if (init?.method === 'POST' && url.pathname.endsWith('/join')) {
      // The server's resume rule, reduced to what these tests exercise: another epoch is not recovered.
      const { since, epoch } = JSON.parse(String(init.body)) as { since?: number; epoch?: string };
      const recovered = since === undefined || epoch === undefined || epoch === state.epoch;
      const messages = since !== undefined && recovered ? state.messages.filter((m) => m.seq > since) : state.messages.slice(-50);
      return json(200, { room: 'lobby', epoch: state.epoch, lastSeq, messages, members: state.members, recovered, lastRead: 3, protocol: '2.4' });
    }
    if (init?.method === 'POST') {
      const body = JSON.parse(String(init.body)) as { text: string; clientId: string };
      const seq = lastSeq + 1;
      state.messages.push(msg(seq, { text: body.text, clientId: body.clientId }));
      return json(200, { seq, id: `m${seq}`, ts: 5 });
    }
    const after = url.searchParams.get('after');
    const before = url.searchParams.get('before');
    const epoch = url.searchParams.get('epoch');
    const limit = Number(url.searchParams.get('limit') ?? 50);
    let page: Message[];
    // The server's resume rule, reduced to what these tests exercise: another epoch is not recovered.
    const recovered = after === null || epoch === null || epoch === state.epoch;
    if (after !== null && recovered) page = state.messages.filter((m) => m.seq > Number(after)).slice(0, limit);
    else if (before !== null) page = state.messages.filter((m) => m.seq < Number(before)).slice(-limit);
    else page = state.messages.slice(-limit);
    const r = json(200, { room: 'lobby', epoch: state.epoch, lastSeq, messages: page, members: state.members, typing: state.typing, recovered });
    return after !== null && state.answerPoll ? state.answerPoll(r) : r;
  }) as unknown as typeof fetch;
  return { state, calls, fetchImpl, json };
}

function setup() {
  const server = fakeServer();
  const clock = new ManualClock();
  const events: string[] = [];
  const closed: CloseInfo[] = [];
  const pushed: Message[][] = [];
  const heard = { count: 0 };
  const listener: TransportListener = {
    opened: (k) => events.push(`opened:${k}`),
    kindChanged: () => events.push('kind'),
    closed: (info) => {
      events.push('closed');
      closed.push(info);
    },
    messages: (ev) => pushed.push(ev.messages),
    presence: () => events.push('presence'),
    typing: () => events.push('typing'),
    bye: () => events.push('bye'),
    heard: () => heard.count++,
    roomReset: (room) => events.push(`reset:${room}`),
    read: (ev) => events.push(`read:${ev.room}:${ev.seq}`),
    invited: (ev) => events.push(`invited:${ev.room}`),
  };
  const transport = new AjaxTransport({
    url: '',
    token: 'tok',
    listener,
    fetch: server.fetchImpl,
    timing: { activeMs: 1000, growth: 2, idleMaxMs: 8000, requestTimeoutMs: 5000, floorHoldMs: 60_000 },
    now: () => clock.now,
    setTimer: clock.setTimeout,
    clearTimer: clock.clearTimeout,
  });
  return { server, clock, events, closed, pushed, heard, transport };
}

/** Opens the transport and joins lobby. */
async function joined(t: ReturnType<typeof setup>): Promise<void> {
  t.transport.open();
  await flush();
  await t.transport.request('join', { room: 'lobby' });
}

describe('AjaxTransport', () => {
  it('opens after a ping that proves the path and the token', async () => {
    const t = setup();
    t.transport.open();
    await flush();
    expect(t.events).toEqual(['opened:ajax']);
  });

  it('fails to open when the server is unreachable', async () => {
    const t = setup();
    t.server.state.down = true;
    t.transport.open();
    await flush();
    expect(t.events).toEqual(['closed']);
    expect(t.closed).toEqual([{ cause: 'refused' }]);
  });

  it('passes on presence and typing from polls, only when they change', async () => {
    const t = setup();
    t.server.state.members = ['alice', 'pat'];
    t.transport.open();
    await flush();
    const res = await t.transport.request('join', { room: 'lobby' });
    expect(res.ok && res.members).toEqual(['alice', 'pat']);
    t.events.length = 0;
    t.clock.advance(1000);
    await flush();
    expect(t.events).toEqual([]); // nothing changed
    t.server.state.typing = ['alice'];
    t.server.state.members = ['alice', 'bob', 'pat'];
    t.clock.advance(8000);
    await flush();
    expect(t.events).toEqual(['presence', 'typing']);
  });

  it("a first join is the room's REST join, answered as the server gives it (lastRead included)", async () => {
    const t = setup();
    t.server.state.messages = Array.from({ length: 60 }, (_, i) => msg(i + 1));
    const res = await t.transport.request('join', { room: 'lobby' });
    expect(res).toMatchObject({ ok: true, epoch: 'e1', lastSeq: 60, recovered: true, members: [], lastRead: 3 });
    expect(res.ok && res.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    expect(t.server.calls).toEqual([{ method: 'POST', url: '/api/rooms/lobby/join', auth: 'Bearer tok', body: {} }]);
  });

  it('a re-join sends its resume point once and hands back the whole replay the server answered', async () => {
    const t = setup();
    t.server.state.messages = Array.from({ length: 450 }, (_, i) => msg(i + 1));
    const res = await t.transport.request('join', { room: 'lobby', since: 10, epoch: 'e1' });
    expect(res).toMatchObject({ ok: true, recovered: true, lastSeq: 450 });
    expect(res.ok && res.messages.length).toBe(440);
    expect(t.server.calls.map((c) => [c.method, c.url, c.body])).toEqual([['POST', '/api/rooms/lobby/join', { since: 10, epoch: 'e1' }]]);
  });

  it('a re-join the server cannot replay is passed on as not recovered, and polls go on in the new epoch', async () => {
    const t = setup();
    t.server.state.messages = [msg(1)];
    t.transport.open();
    await flush();
    const res = await t.transport.request('join', { room: 'lobby', since: 10, epoch: 'old' });
    expect(res).toMatchObject({ ok: true, recovered: false, epoch: 'e1', lastSeq: 1 });
    t.clock.advance(1000);
    await flush();
    expect(t.server.calls.at(-1)?.url).toBe('/api/rooms/lobby/messages?after=1&epoch=e1&limit=200');
    t.transport.close();
  });

  it('a refused join is answered as refused and polls nothing for the room', async () => {
    const t = setup();
    t.transport.open();
    await flush();
    t.server.state.override = (method, path) => (method === 'POST' && path.endsWith('/join') ? t.server.json(404, { error: { code: 'not_found', message: 'no such room' } }) : null);
    const res = await t.transport.request('join', { room: 'lobby' });
    expect(res).toMatchObject({ ok: false, error: { code: 'not_found' } });
    t.clock.advance(1000);
    await flush();
    expect(t.server.calls.filter((c) => c.url.includes('/messages'))).toEqual([]);
    expect(await t.transport.request('rooms', {})).toEqual({ ok: true, rooms: [] });
    t.transport.close();
  });

  it('polls joined rooms for what follows the last seq seen', async () => {
    const t = setup();
    t.transport.open();
    await flush();
    await t.transport.request('join', { room: 'lobby' });
    t.server.state.messages.push(msg(1), msg(2));
    t.clock.advance(1000);
    await flush();
    expect(t.pushed.map((batch) => batch.map((m) => m.seq))).toEqual([[1, 2]]);
    t.clock.advance(1000);
    await flush();
    expect(t.pushed).toHaveLength(1);
    expect(t.server.calls.at(-1)?.url).toBe('/api/rooms/lobby/messages?after=2&epoch=e1&limit=200');
    t.transport.close();
  });

  it('sends with the bearer token and clientId', async () => {
    const t = setup();
    const res = await t.transport.request('send', { room: 'lobby', text: 'hi', clientId: 'abcdefgh' });
    expect(res).toEqual({ ok: true, seq: 1, id: 'm1', ts: 5 });
    const post = t.server.calls.find((c) => c.method === 'POST');
    expect(post).toMatchObject({ url: '/api/rooms/lobby/messages', auth: 'Bearer tok', body: { text: 'hi', clientId: 'abcdefgh' } });
  });

  it('a refused token closes as unauthorized', async () => {
    const t = setup();
    t.server.state.unauthorized = true;
    const res = await t.transport.request('send', { room: 'lobby', text: 'hi', clientId: 'abcdefgh' });
    expect(res).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(t.closed).toEqual([{ unauthorized: true }]);
  });

  it('a failed poll closes so the core reconnects', async () => {
    const t = setup();
    await joined(t);
    t.server.state.down = true;
    t.clock.advance(1000);
    await flush();
    expect(t.events).toEqual(['opened:ajax', 'closed']);
    expect(t.closed).toEqual([{ cause: 'lost' }]);
  });

  it('a send that cannot reach the server closes the transport before the caller hears, so it is not counted against the message', async () => {
    const t = setup();
    await joined(t);
    t.server.state.down = true;
    const res = await t.transport.request('send', { room: 'lobby', text: 'hi', clientId: 'abcdefgh' });
    expect(t.closed).toEqual([{ cause: 'lost' }]);
    expect(res).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it.each([
    [502, null, { cause: 'lost' }],
    [504, null, { cause: 'lost' }],
    [503, { error: { code: 'unavailable', message: 'server is restarting', retryAfterMs: 1000 } }, { cause: 'server-closed', retryAfterMs: 1000 }],
  ])('HTTP %i on a poll closes the transport as %j', async (status, body, info) => {
    const t = setup();
    await joined(t);
    t.server.state.override = () => t.server.json(status, body);
    t.clock.advance(1000);
    await flush();
    expect(t.closed).toEqual([info]);
  });

  it('a request left unanswered closes as unresponsive', async () => {
    const t = setup();
    await joined(t);
    t.server.state.override = () => 'hang';
    t.clock.advance(1000);
    await flush();
    expect(t.closed).toEqual([]);
    t.clock.advance(5000);
    await flush();
    expect(t.closed).toEqual([{ cause: 'unresponsive' }]);
  });

  it('every answer counts as hearing from the server', async () => {
    const t = setup();
    await joined(t);
    expect(t.heard.count).toBe(2);
  });
});

describe('AjaxTransport adaptive interval', () => {
  it('polls fast while messages flow and slows down, up to a cap, while the room is quiet', async () => {
    const t = setup();
    await joined(t);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      waits.push(t.transport.pollIntervalMs);
      t.clock.advance(t.transport.pollIntervalMs);
      await flush();
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    t.server.state.messages.push(msg(1));
    t.clock.advance(t.transport.pollIntervalMs);
    await flush();
    expect(t.pushed).toHaveLength(1);
    expect(t.transport.pollIntervalMs).toBe(1000);
    t.transport.close();
  });

  it('starts polls one interval apart, however long each took', async () => {
    const t = setup();
    await joined(t);
    const starts: number[] = [];
    t.server.state.answerPoll = (r) => {
      starts.push(t.clock.now);
      return new Promise((resolve) => t.clock.setTimeout(() => resolve(r), 300)); // 300 ms to answer
    };
    t.server.state.messages.push(msg(1)); // the conversation is active: 1 s interval
    t.clock.advance(1000); // the first poll starts…
    await flush();
    t.clock.advance(300); // …and is answered 300 ms later
    await flush();
    t.clock.advance(700);
    await flush();
    expect(starts).toHaveLength(2);
    expect((starts[1] as number) - (starts[0] as number)).toBe(1000);
    t.transport.close();
  });

  it('sending makes the conversation active and fetches at once', async () => {
    const t = setup();
    await joined(t);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(t.transport.pollIntervalMs);
      await flush();
    }
    expect(t.transport.pollIntervalMs).toBe(8000);
    await t.transport.request('send', { room: 'lobby', text: 'hi', clientId: 'abcdefgh' });
    await flush();
    expect(t.pushed.map((b) => b.map((m) => m.text))).toEqual([['hi']]);
    expect(t.transport.pollIntervalMs).toBe(1000);
    t.transport.close();
  });

  it("never polls faster than the server's retry-after, for a while", async () => {
    const t = setup();
    await joined(t);
    let limited = true;
    t.server.state.override = (method) => {
      if (method !== 'GET' || !limited) return null;
      limited = false;
      return new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '3' },
      });
    };
    t.clock.advance(1000);
    await flush();
    expect(t.closed).toEqual([]);
    expect(t.transport.pollIntervalMs).toBe(3000);
    t.server.state.messages.push(msg(1));
    t.clock.advance(2999);
    await flush();
    expect(t.pushed).toHaveLength(0);
    t.clock.advance(1);
    await flush();
    expect(t.pushed).toHaveLength(1);
    // Still held at the floor although messages flow.
    expect(t.transport.pollIntervalMs).toBe(3000);
    t.clock.advance(60_000);
    expect(t.transport.pollIntervalMs).toBeLessThanOrEqual(8000);
    t.transport.close();
  });

  it('a reset room log (new epoch) is handed back to the core to reload', async () => {
    const t = setup();
    await joined(t);
    t.server.state.epoch = 'e2';
    t.server.state.messages.push(msg(1));
    t.clock.advance(1000);
    await flush();
    expect(t.events).toEqual(['opened:ajax', 'reset:lobby']);
    expect(t.pushed).toEqual([]);
    expect(t.closed).toEqual([]);
    t.transport.close();
  });
});
