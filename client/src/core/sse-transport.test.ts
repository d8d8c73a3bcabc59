import { describe, expect, it } from 'vitest';
import { STREAM_EVENTS, parseStreamId, type JoinOk, type Message } from '../../../shared/protocol.ts';
import { SseTransport, type EventSourceLike } from './sse-transport.ts';
import { flush, msg } from './testing-fakes.ts';
import type { CloseInfo, TransportListener } from './transport.ts';

/** A stream the test drives: it records its URL and delivers the events the test emits. */
class FakeStream implements EventSourceLike {
  readonly listeners = new Map<string, ((ev: MessageEvent<string>) => void)[]>();
  onerror: ((ev: Event) => void) | null = null;
  closed = false;
  constructor(readonly url: URL) {}
  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
  }
  emit(type: string, data: unknown): void {
    const raw = typeof data === 'string' ? data : JSON.stringify(data);
    for (const l of this.listeners.get(type) ?? []) l({ data: raw } as MessageEvent<string>);
  }
  error(): void {
    this.onerror?.(new Event('error'));
  }
  get rooms(): string[] {
    const r = this.url.searchParams.get('rooms');
    return r ? r.split(',') : [];
  }
  get lastEventId(): string | null {
    return this.url.searchParams.get('lastEventId');
  }
}

function joinOk(room: string, over: Partial<JoinOk> = {}): JoinOk {
  return { room, epoch: 'e1', lastSeq: 0, messages: [], members: ['alice'], recovered: true, ...over };
}

function setup(opts: { ticketStatus?: number; down?: boolean } = {}) {
  const streams: FakeStream[] = [];
  const calls: string[] = [];
  const events: string[] = [];
  const closed: CloseInfo[] = [];
  const pushed: { room: string; messages: Message[] }[] = [];
  let tickets = 0;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchImpl = (async (input: string, init?: RequestInit) => {
    const url = new URL(input, 'http://test');
    const auth = new Headers(init?.headers).get('authorization');
    calls.push(`${init?.method ?? 'GET'} ${url.pathname} ${auth}`);
    if (opts.down) throw new TypeError('fetch failed');
    if (url.pathname === '/api/stream-ticket') {
      if (opts.ticketStatus) return json(opts.ticketStatus, { error: { code: 'unauthorized', message: 'no' } });
      tickets++;
      return json(201, { ticket: `t${tickets}`, expiresAt: 1 });
    }
    if (url.pathname === '/api/rooms/lobby/messages' && init?.method === 'POST') return json(200, { seq: 4, id: 'm4', ts: 5 });
    return json(404, { error: { code: 'not_found', message: 'no' } });
  }) as unknown as typeof fetch;
  const listener: TransportListener = {
    opened: (k) => events.push(`opened:${k}`),
    kindChanged: () => events.push('kind'),
    closed: (info) => {
      events.push('closed');
      closed.push(info);
    },
    messages: (ev) => pushed.push(ev),
    presence: (ev) => events.push(`presence:${ev.room}:${ev.members.join('+')}`),
    typing: () => events.push('typing'),
    bye: (ev) => events.push(`bye:${ev.reason}`),
    heard: () => {},
    roomReset: (room) => events.push(`reset:${room}`),
    read: (ev) => events.push(`read:${ev.room}:${ev.seq}`),
    invited: (ev) => events.push(`invited:${ev.room}`),
    removed: (ev) => events.push(`removed:${ev.room}`),
  };
  const transport = new SseTransport({
    url: '',
    token: 'tok',
    listener,
    fetch: fetchImpl,
    eventSource: (u) => {
      const s = new FakeStream(new URL(u, 'http://test'));
      streams.push(s);
      return s;
    },
  });
  const latest = () => {
    const s = streams.at(-1);
    if (!s) throw new Error('no stream opened');
    return s;
  };
  return { streams, latest, calls, events, closed, pushed, transport };
}

/** Opens the transport: a ticket, then a stream that says it is ready. */
async function opened(t: ReturnType<typeof setup>): Promise<void> {
  t.transport.open();
  await flush();
  t.latest().emit(STREAM_EVENTS.ready, { protocol: '2.2', heartbeatMs: 10_000, rooms: [] });
}

/** Opens the transport and joins lobby: a new stream, answered by its `joined` event. */
async function joinedLobby(t: ReturnType<typeof setup>): Promise<void> {
  await opened(t);
  const answer = t.transport.request('join', { room: 'lobby' });
  await flush();
  t.latest().emit(STREAM_EVENTS.joined, joinOk('lobby'));
  await answer;
}

describe('SseTransport', () => {
  it('opens with a ticket from the session token (never the token in the URL) once the stream is ready', async () => {
    const t = setup();
    t.transport.open();
    await flush();
    expect(t.calls).toEqual(['POST /api/stream-ticket Bearer tok']);
    expect(t.latest().url.pathname).toBe('/api/stream');
    expect(t.latest().url.searchParams.get('ticket')).toBe('t1');
    expect(t.latest().url.search).not.toContain('tok');
    expect(t.events).toEqual([]); // not open before `ready`
    t.latest().emit(STREAM_EVENTS.ready, { protocol: '2.2', heartbeatMs: 10_000, rooms: [] });
    expect(t.events).toEqual(['opened:sse']);
  });

  it('a refused token closes as unauthorized; an unreachable server as refused', async () => {
    const a = setup({ ticketStatus: 401 });
    a.transport.open();
    await flush();
    expect(a.closed).toEqual([{ unauthorized: true }]);
    expect(a.streams).toHaveLength(0);
    const b = setup({ down: true });
    b.transport.open();
    await flush();
    expect(b.closed).toEqual([{ cause: 'refused' }]);
  });

  it('a stream that errors before ready is refused, after ready is lost; the core reconnects, EventSource does not retry', async () => {
    const a = setup();
    a.transport.open();
    await flush();
    a.latest().error();
    expect(a.closed).toEqual([{ cause: 'refused' }]);
    expect(a.latest().closed).toBe(true);
    const b = setup();
    await opened(b);
    b.latest().error();
    expect(b.closed).toEqual([{ cause: 'lost' }]);
    expect(b.latest().closed).toBe(true);
  });

  it('a join opens a new stream with the room and answers with its joined event', async () => {
    const t = setup();
    await opened(t);
    const answer = t.transport.request('join', { room: 'lobby' });
    await flush();
    expect(t.streams).toHaveLength(2);
    expect(t.streams[0]?.closed).toBe(true);
    expect(t.latest().rooms).toEqual(['lobby']);
    expect(t.latest().lastEventId).toBeNull();
    t.latest().emit(STREAM_EVENTS.joined, joinOk('lobby', { lastSeq: 3, messages: [msg(1), msg(2), msg(3)] }));
    const ack = await answer;
    expect(ack.ok && ack.lastSeq).toBe(3);
    expect(t.events).toEqual(['opened:sse']); // opened once, not per stream
  });

  it('the joins of one moment share one stream', async () => {
    const t = setup();
    await opened(t);
    const a = t.transport.request('join', { room: 'lobby' });
    const b = t.transport.request('join', { room: 'dev' });
    await flush();
    expect(t.streams).toHaveLength(2);
    expect(t.latest().rooms.sort()).toEqual(['dev', 'lobby']);
    t.latest().emit(STREAM_EVENTS.joined, joinOk('lobby'));
    t.latest().emit(STREAM_EVENTS.joined, joinOk('dev'));
    expect((await a).ok && (await b).ok).toBe(true);
    // The rooms command counts who is there, from the joins and then from presence.
    t.latest().emit('presence', { room: 'dev', members: ['alice', 'bob', 'cy'] });
    const rooms = await t.transport.request('rooms', {});
    expect(rooms.ok && rooms.rooms).toEqual([
      { room: 'dev', lastSeq: 0, members: 3 },
      { room: 'lobby', lastSeq: 0, members: 1 },
    ]);
  });

  it('a new stream resumes every room from where the last one reached, as one event id', async () => {
    const t = setup();
    await opened(t);
    const a = t.transport.request('join', { room: 'lobby', since: 2, epoch: 'e1' });
    await flush();
    expect(parseStreamId(t.latest().lastEventId)).toEqual(new Map([['lobby', { epoch: 'e1', seq: 2 }]]));
    t.latest().emit(STREAM_EVENTS.joined, joinOk('lobby', { lastSeq: 3, messages: [msg(3)] }));
    await a;
    t.latest().emit('messages', { room: 'lobby', messages: [msg(4), msg(5)] });
    expect(t.pushed.map((p) => p.messages.map((m) => m.seq))).toEqual([[4, 5]]);
    // Joining a second room replaces the stream; lobby resumes after 5, nothing lost or repeated.
    void t.transport.request('join', { room: 'dev' });
    await flush();
    expect(t.latest().rooms.sort()).toEqual(['dev', 'lobby']);
    expect(parseStreamId(t.latest().lastEventId)).toEqual(new Map([['lobby', { epoch: 'e1', seq: 5 }]]));
    // The replaced stream's late events are ignored.
    t.streams[1]?.emit('messages', { room: 'lobby', messages: [msg(6)] });
    expect(t.pushed).toHaveLength(1);
    // The new stream's replay for lobby arrives as messages, not as a join answer.
    t.latest().emit(STREAM_EVENTS.joined, joinOk('lobby', { lastSeq: 6, messages: [msg(6)] }));
    expect(t.pushed.map((p) => p.messages.map((m) => m.seq))).toEqual([[4, 5], [6]]);
    expect(t.events).toContain('presence:lobby:alice');
  });

  it('a replay that could not be recovered resets the room', async () => {
    const t = setup();
    await joinedLobby(t);
    void t.transport.request('join', { room: 'dev' });
    await flush();
    t.latest().emit(STREAM_EVENTS.joined, joinOk('lobby', { epoch: 'e2', recovered: false }));
    expect(t.events).toContain('reset:lobby');
  });

  it('a refused room answers its join with the server error and leaves the stream', async () => {
    const t = setup();
    await opened(t);
    const a = t.transport.request('join', { room: 'secret' });
    await flush();
    t.latest().emit(STREAM_EVENTS.refused, { room: 'secret', error: { code: 'forbidden', message: 'Private room.' } });
    expect(await a).toEqual({ ok: false, error: { code: 'forbidden', message: 'Private room.' } });
    const rooms = await t.transport.request('rooms', {});
    expect(rooms.ok && rooms.rooms).toEqual([]);
  });

  it('a leave drops the room from the next stream and its late events', async () => {
    const t = setup();
    await joinedLobby(t);
    const before = t.latest();
    expect((await t.transport.request('leave', { room: 'lobby' })).ok).toBe(true);
    await flush();
    expect(before.closed).toBe(true);
    expect(t.latest().rooms).toEqual([]);
    before.emit('messages', { room: 'lobby', messages: [msg(1)] });
    t.latest().emit('messages', { room: 'lobby', messages: [msg(1)] });
    expect(t.pushed).toEqual([]);
  });

  it('sends commands over REST with the session token', async () => {
    const t = setup();
    await opened(t);
    const ack = await t.transport.request('send', { room: 'lobby', text: 'hi', clientId: 'c1' });
    expect(ack.ok && ack.seq).toBe(4);
    expect(t.calls.at(-1)).toBe('POST /api/rooms/lobby/messages Bearer tok');
  });

  it('drops malformed events without closing, and ends on bye with its pause', async () => {
    const t = setup();
    await opened(t);
    t.latest().emit('messages', '{not json');
    t.latest().emit('messages', { room: 'lobby' });
    expect(t.pushed).toEqual([]);
    expect(t.closed).toEqual([]);
    t.latest().emit('bye', { reason: 'server_shutdown', retryAfterMs: 500 });
    expect(t.events.at(-2)).toBe('bye:server_shutdown');
    expect(t.closed).toEqual([{ cause: 'server-closed', retryAfterMs: 500 }]);
    expect(t.latest().closed).toBe(true);
  });

  it('close answers pending joins as unavailable and reports nothing', async () => {
    const t = setup();
    await opened(t);
    const a = t.transport.request('join', { room: 'lobby' });
    t.transport.close();
    expect(await a).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(t.closed).toEqual([]);
    expect((await t.transport.request('join', { room: 'dev' })).ok).toBe(false);
  });
});
