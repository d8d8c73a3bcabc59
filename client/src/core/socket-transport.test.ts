import { describe, expect, it } from 'vitest';
import type { io } from 'socket.io-client';
import { SocketTransport } from './socket-transport.ts';
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
  upgrade(name: string): void {
    this.io.engine.transport.name = name;
    for (const fn of this.engineHandlers.get('upgrade') ?? []) fn();
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
    },
  };
}

function setup(mode: 'auto' | 'websocket' | 'polling', extra: { pollingFirst?: boolean; onFallback?: () => void } = {}) {
  const sockets: FakeSocket[] = [];
  const connect = ((_url: string, opts: Record<string, unknown>) => {
    const s = new FakeSocket(opts);
    sockets.push(s);
    return s;
  }) as unknown as typeof io;
  const rec = recorder();
  const transport = new SocketTransport({ url: '', token: 'tok', mode, listener: rec.listener, connect, ...extra });
  transport.open();
  const last = () => sockets[sockets.length - 1] as FakeSocket;
  return { transport, sockets, rec, last };
}

describe('SocketTransport connecting', () => {
  it.each<{ mode: 'auto' | 'websocket' | 'polling'; transports: string[]; upgrade: boolean; timeout: number }>([
    { mode: 'auto', transports: ['websocket'], upgrade: true, timeout: 3000 },
    { mode: 'websocket', transports: ['websocket'], upgrade: false, timeout: 10_000 },
    { mode: 'polling', transports: ['polling'], upgrade: false, timeout: 10_000 },
  ])('$mode starts with $transports', ({ mode, transports, upgrade, timeout }) => {
    const { last } = setup(mode);
    expect(last().opts).toMatchObject({ transports, upgrade, timeout, auth: { token: 'tok' }, reconnection: false });
  });

  it('auto falls back to long-polling (upgradable) when WebSocket cannot connect in time', () => {
    const { sockets, last, rec } = setup('auto');
    sockets[0]?.fire('connect_error', new Error('timeout'));
    expect(sockets).toHaveLength(2);
    expect(sockets[0]?.disconnected).toBe(true);
    expect(last().opts).toMatchObject({ transports: ['polling', 'websocket'], upgrade: true });
    last().io.engine.transport.name = 'polling';
    last().fire('connect');
    expect(rec.events).toEqual(['opened:long-polling']);
    last().upgrade('websocket');
    expect(rec.events).toEqual(['opened:long-polling', 'kind:websocket']);
  });

  it('reports the fallback, and can start on long-polling next time', () => {
    let fellBack = 0;
    const first = setup('auto', { onFallback: () => fellBack++ });
    first.sockets[0]?.fire('connect_error', new Error('timeout'));
    expect(fellBack).toBe(1);
    const next = setup('auto', { pollingFirst: true });
    expect(next.last().opts).toMatchObject({ transports: ['polling', 'websocket'], upgrade: true });
  });

  it('reports a failure once no fallback is left', () => {
    const { sockets, rec } = setup('auto');
    sockets[0]?.fire('connect_error', new Error('timeout'));
    sockets[1]?.fire('connect_error', new Error('xhr poll error'));
    expect(rec.events).toEqual(['closed']);
    expect(rec.closed).toEqual([{}]);
  });

  it('an unauthorized handshake ends at once, without fallback', () => {
    const { sockets, rec } = setup('auto');
    sockets[0]?.fire('connect_error', new Error('unauthorized'));
    expect(sockets).toHaveLength(1);
    expect(rec.closed).toEqual([{ unauthorized: true }]);
  });

  it('a drop after bye carries the requested pause', () => {
    const { last, rec } = setup('websocket');
    last().fire('connect');
    last().fire('bye', { reason: 'server_shutdown', retryAfterMs: 500 });
    last().fire('disconnect', 'io server disconnect');
    expect(rec.events).toEqual(['opened:websocket', 'bye:server_shutdown', 'closed']);
    expect(rec.closed).toEqual([{ retryAfterMs: 500 }]);
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
    expect(await transport.send({ room: 'lobby', text: 'x', clientId: 'abcdefgh' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    });
  });

  it('parses acks, and turns a timeout or a malformed ack into unavailable', async () => {
    const { transport, last } = setup('websocket');
    last().fire('connect');
    const ok = transport.send({ room: 'lobby', text: 'x', clientId: 'abcdefgh' });
    const timedOut = transport.history({ room: 'lobby', before: 10 });
    const garbled = transport.join({ room: 'lobby' });
    const [a, b, c] = last().acks;
    a?.cb(null, { ok: true, seq: 3, id: 'm3', ts: 1 });
    b?.cb(new Error('operation has timed out'));
    c?.cb(null, { ok: true, epoch: 7 });
    expect(await ok).toEqual({ ok: true, seq: 3, id: 'm3', ts: 1 });
    expect(await timedOut).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await garbled).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(a?.event).toBe('send');
  });

  it('passes a server refusal through unchanged', async () => {
    const { transport, last } = setup('websocket');
    last().fire('connect');
    const res = transport.send({ room: 'lobby', text: 'x', clientId: 'abcdefgh' });
    last().acks[0]?.cb(null, { ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterMs: 250 } });
    expect(await res).toEqual({ ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterMs: 250 } });
  });
});
