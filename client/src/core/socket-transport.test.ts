import { describe, expect, it } from 'vitest';
import type { io } from 'socket.io-client';
import { roundTrip } from './transport.ts';
import { REFUSED_RETRY_MS, SocketTransport } from './socket-transport.ts';
import { msg } from './testing-fakes.ts';
import type { CloseInfo, TransportKind, TransportListener } from './transport.ts';

type Handler = (...args: unknown[]) => void;

/** Just enough of a socket.io client socket to drive the transport by hand. */
class FakeSocket {
  connected = false;
  disconnected = false;
  readonly emitted: Array<[string, unknown]> = [];
  readonly acks: Array<{ event: string; payload: unknown; cb: (err: Error | null, res?: unknown) => void }> = [];
  private readonly handlers = new Map<string, Handler[]>();
  private readonly engineHandlers = new Map<string, Handler[]>();
  readonly io = {
    engine: {
      transport: { name: 'websocket' },
      on: (ev: string, fn: Handler) => this.engineHandlers.set(ev, [...(this.engineHandlers.get(ev) ?? []), fn]),
    },
  };

  constructor(readonly opts: Record<string, unknown>) {}

  on(ev: string, fn: Handler): this {
    this.handlers.set(ev, [...(this.handlers.get(ev) ?? []), fn]);
    return this;
  }
  emit(ev: string, payload: unknown): this {
    this.emitted.push([ev, payload]);
    return this;
  }
  timeout() {
    return {
      emit: (event: string, payload: unknown, cb: (err: Error | null, res?: unknown) => void) =>
        this.acks.push({ event, payload, cb }),
    };
  }
  removeAllListeners(): this {
    this.handlers.clear();
    return this;
  }
  disconnect(): this {
    this.disconnected = true;
    this.connected = false;
    return this;
  }

  fire(ev: string, ...args: unknown[]): void {
    if (ev === 'connect') this.connected = true;
    for (const fn of this.handlers.get(ev) ?? []) fn(...args);
  }
  fireEngine(ev: string, ...args: unknown[]): void {
    for (const fn of this.engineHandlers.get(ev) ?? []) fn(...args);
  }
  upgrade(name: string): void {
    this.io.engine.transport.name = name;
    this.fireEngine('upgrade');
  }
}

interface Recorded {
  events: string[];
  closed: CloseInfo[];
  listener: TransportListener;
}

function recorder(): Recorded {
  const events: string[] = [];
  const closed: CloseInfo[] = [];
  return {
    events,
    closed,
    listener: {
      opened: (k: TransportKind) => events.push(`opened:${k}`),
      kindChanged: (k: TransportKind) => events.push(`kind:${k}`),
      closed: (info) => {
        events.push('closed');
        closed.push(info);
      },
      messages: (ev) => events.push(`messages:${ev.messages.length}`),
      presence: (ev) => events.push(`presence:${ev.members.join(',')}`),
      typing: (ev) => events.push(`typing:${ev.typing.join(',')}`),
      bye: (ev) => events.push(`bye:${ev.reason}`),
      heard: () => events.push('heard'),
      roomReset: (room) => events.push(`reset:${room}`),
      read: (ev) => events.push(`read:${ev.room}:${ev.seq}`),
      invited: (ev) => events.push(`invited:${ev.room}`),
    },
  };
}

function setup(kind: 'websocket' | 'long-polling', upgrade = false) {
  const sockets: FakeSocket[] = [];
  const connect = ((_url: string, opts: Record<string, unknown>) => {
    const s = new FakeSocket(opts);
    if (kind === 'long-polling') s.io.engine.transport.name = 'polling';
    sockets.push(s);
    return s;
  }) as unknown as typeof io;
  const rec = recorder();
  const transport = new SocketTransport({ url: '', token: 'tok', kind, upgrade, listener: rec.listener, connect });
  transport.open();
  const last = () => sockets[sockets.length - 1] as FakeSocket;
  return { transport, sockets, rec, last };
}

describe('SocketTransport connecting', () => {
  it.each<{ kind: 'websocket' | 'long-polling'; upgrade: boolean; transports: string[]; upgrades: boolean }>([
    { kind: 'websocket', upgrade: false, transports: ['websocket'], upgrades: false },
    { kind: 'long-polling', upgrade: false, transports: ['polling'], upgrades: false },
    { kind: 'long-polling', upgrade: true, transports: ['polling', 'websocket'], upgrades: true },
  ])('$kind (upgrade $upgrade) uses socket.io transports $transports', ({ kind, upgrade, transports, upgrades }) => {
    const { last, sockets } = setup(kind, upgrade);
    expect(sockets).toHaveLength(1);
    expect(last().opts).toMatchObject({ transports, upgrade: upgrades, auth: { token: 'tok' }, reconnection: false, forceNew: true });
  });

  it('reports the live carrier, and a socket.io upgrade as a change of carrier', () => {
    const { last, rec } = setup('long-polling', true);
    last().fire('connect');
    last().upgrade('websocket');
    expect(rec.events).toEqual(['opened:long-polling', 'kind:websocket']);
  });

  it.each([
    ['timeout', 'timeout'],
    ['websocket error', 'refused'],
    ['xhr poll error', 'refused'],
  ])('a connect error "%s" closes as %s, once, without trying anything else', (message, cause) => {
    const { sockets, rec } = setup('websocket');
    sockets[0]?.fire('connect_error', new Error(message));
    sockets[0]?.fire('connect_error', new Error(message));
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.disconnected).toBe(true);
    expect(rec.closed).toEqual([{ cause }]);
  });

  it('an unauthorized handshake is reported as such', () => {
    const { sockets, rec } = setup('websocket');
    sockets[0]?.fire('connect_error', new Error('unauthorized'));
    expect(rec.closed).toEqual([{ unauthorized: true }]);
  });

  it('a connection cap refusal is the server closing on purpose, with a long pause and its reason', () => {
    const { sockets, rec } = setup('websocket');
    sockets[0]?.fire('connect_error', new Error('too_many_connections'));
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.disconnected).toBe(true);
    expect(rec.closed).toEqual([{ cause: 'server-closed', refusal: 'too_many_connections', retryAfterMs: REFUSED_RETRY_MS }]);
    expect(REFUSED_RETRY_MS).toBeGreaterThanOrEqual(10_000);
  });

  it.each<[unknown, number]>([
    [{ retryAfterMs: 30_000 }, 30_000],
    [{ retryAfterMs: 10 * 60 * 60_000 }, 5 * 60_000],
    [{ retryAfterMs: -1 }, REFUSED_RETRY_MS],
    [{ retryAfterMs: 'soon' }, REFUSED_RETRY_MS],
    [null, REFUSED_RETRY_MS],
  ])('a refusal carrying data %j pauses %i ms', (data, pause) => {
    const { sockets, rec } = setup('long-polling');
    sockets[0]?.fire('connect_error', Object.assign(new Error('too_many_connections'), { data }));
    expect(rec.closed).toEqual([{ cause: 'server-closed', refusal: 'too_many_connections', retryAfterMs: pause }]);
  });

  it('a drop of a live connection is "lost"', () => {
    const { last, rec } = setup('long-polling');
    last().fire('connect');
    last().fire('disconnect', 'transport error');
    expect(rec.closed).toEqual([{ cause: 'lost' }]);
  });

  it('a drop after bye is the server closing on purpose, with the requested pause', () => {
    const { last, rec } = setup('websocket');
    last().fire('connect');
    last().fire('bye', { reason: 'server_shutdown', retryAfterMs: 500 });
    last().fire('disconnect', 'transport close');
    expect(rec.events).toEqual(['opened:websocket', 'bye:server_shutdown', 'closed']);
    expect(rec.closed).toEqual([{ cause: 'server-closed', retryAfterMs: 500 }]);
  });

  it('close() is silent and final', () => {
    const { transport, last, rec } = setup('websocket');
    last().fire('connect');
    transport.close();
    expect(last().disconnected).toBe(true);
    last().fire('disconnect', 'io client disconnect');
    expect(rec.events).toEqual(['opened:websocket']);
  });
});

describe('SocketTransport liveness', () => {
  it('any engine packet counts as hearing from the server', () => {
    const { last, rec } = setup('websocket');
    last().fire('connect');
    last().fireEngine('heartbeat');
    expect(rec.events).toEqual(['opened:websocket', 'heard']);
  });

  it("the silence limit follows the server's heartbeat from the handshake", () => {
    const { transport, last } = setup('websocket');
    const before = transport.silenceLimitMs();
    last().fireEngine('handshake', { pingInterval: 1000, pingTimeout: 2000 });
    expect(transport.silenceLimitMs()).toBeLessThan(before);
    expect(transport.silenceLimitMs()).toBeGreaterThanOrEqual(3000);
  });

  it('ping is a room-free round trip; any answer proves it', async () => {
    const { transport, last } = setup('websocket');
    last().fire('connect');
    const answered = roundTrip(transport);
    const refused = roundTrip(transport);
    const silent = roundTrip(transport);
    last().acks[0]?.cb(null, { ok: true, ts: 1 });
    last().acks[1]?.cb(null, { ok: false, error: { code: 'rate_limited', message: 'x' } });
    last().acks[2]?.cb(new Error('operation has timed out'));
    expect(last().acks[0]).toMatchObject({ event: 'ping', payload: {} });
    expect(await answered).toBe(true);
    expect(await refused).toBe(true);
    expect(await silent).toBe(false);
  });

  it('an unanswered request closes the transport as unresponsive before the caller hears', async () => {
    const { transport, last, rec } = setup('long-polling');
    last().fire('connect');
    const res = transport.request('send', { room: 'lobby', text: 'x', clientId: 'abcdefgh' });
    last().acks[0]?.cb(new Error('operation has timed out'));
    expect(rec.closed).toEqual([{ cause: 'unresponsive' }]);
    expect(await res).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('closing settles every request still waiting', async () => {
    const { transport, last } = setup('websocket');
    last().fire('connect');
    const res = transport.request('join', { room: 'lobby' });
    const ping = roundTrip(transport);
    transport.close();
    expect(await res).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await ping).toBe(false);
  });
});

describe('SocketTransport events and requests', () => {
  it('forwards valid pushes and drops malformed ones', () => {
    const { last, rec } = setup('websocket');
    last().fire('connect');
    last().fire('messages', { room: 'lobby', messages: [msg(1), msg(2)] });
    last().fire('messages', { room: 'lobby', messages: [{ seq: 'one' }] });
    last().fire('presence', { room: 'lobby', members: ['a', 'b'] });
    last().fire('typing', { room: 'lobby', typing: 'bob' });
    expect(rec.events).toEqual(['opened:websocket', 'messages:2', 'presence:a,b']);
  });

  it('answers unavailable when not connected', async () => {
    const { transport } = setup('websocket');
    expect(await transport.request('send', { room: 'lobby', text: 'x', clientId: 'abcdefgh' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    });
  });

  it('parses acks, and turns a malformed ack into unavailable', async () => {
    const { transport, last } = setup('websocket');
    last().fire('connect');
    const ok = transport.request('send', { room: 'lobby', text: 'x', clientId: 'abcdefgh' });
    const garbled = transport.request('join', { room: 'lobby' });
    const [a, b] = last().acks;
    a?.cb(null, { ok: true, seq: 3, id: 'm3', ts: 1 });
    b?.cb(null, { ok: true, epoch: 7 });
    expect(await ok).toEqual({ ok: true, seq: 3, id: 'm3', ts: 1 });
    expect(await garbled).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(a?.event).toBe('send');
  });

  it('passes a server refusal through unchanged', async () => {
    const { transport, last } = setup('websocket');
    last().fire('connect');
    const res = transport.request('send', { room: 'lobby', text: 'x', clientId: 'abcdefgh' });
    last().acks[0]?.cb(null, { ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterMs: 250 } });
    expect(await res).toEqual({ ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterMs: 250 } });
  });
});
