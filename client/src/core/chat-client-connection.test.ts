/**
 * The chat core driving the connection machine with fake transports: the
 * automatic ladder, background probes and moving up, the remembered choice,
 * wall-clock liveness, and room resets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JoinOk } from '../../../shared/protocol.ts';
import { CLOCK_JUMP_MS, CLOCK_TICK_MS, ChatClient } from './chat-client.ts';
import { DEFAULT_TIMING } from './connection-machine.ts';
import { describeConnection } from './connection-view.ts';
import { saveSession } from './session.ts';
import { STORAGE_KEYS, memoryStorage, type KeyValueStorage } from './storage.ts';
import { explainTransport } from './transport-choice.ts';
import { TRANSPORT_LABELS, type TransportPreference } from './transport.ts';
import { FakeTransports, ManualClock, fakeSessionApi, flush, msg, type FakeTransport } from './testing-fakes.ts';

const ME = { token: 'tok', name: 'alice', userId: 'u-alice', expiresAt: Number.MAX_SAFE_INTEGER };
const T = DEFAULT_TIMING;

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});

function rig(opts: { preference?: TransportPreference; tabStorage?: KeyValueStorage } = {}) {
  const storage = memoryStorage();
  const tabStorage = opts.tabStorage ?? memoryStorage();
  saveSession(storage, ME);
  const transports = new FakeTransports();
  const clock = new ManualClock();
  let ids = 0;
  const client = new ChatClient({
    storage,
    tabStorage,
    preference: opts.preference ?? 'auto',
    sessionApi: fakeSessionApi(),
    transportFactory: transports.factory,
    timers: clock,
    now: () => clock.now,
    random: () => 0.5,
    newClientId: () => `cid-${String(++ids).padStart(4, '0')}`,
  });
  clients.push(client);
  const snap = () => client.getSnapshot();
  const status = () => {
    const c = snap().connection;
    return c.status === 'online' ? `online:${c.transport}` : c.status;
  };
  return { client, transports, clock, storage, tabStorage, snap, status };
}

function joinOk(over: Partial<JoinOk> = {}): JoinOk {
  return { room: 'lobby', epoch: 'e1', lastSeq: 0, messages: [], members: ['alice'], recovered: false, ...over };
}

/** Answers the pending join on `t`. */
async function answerJoin(t: FakeTransport, over: Partial<JoinOk> = {}): Promise<void> {
  t.joins.shift()?.reply({ ok: true, ...joinOk(over) });
  await flush();
}

describe('automatic transport choice', () => {
  it('walks WebSocket → long-polling → Server-Sent Events → Ajax and says why', async () => {
    const r = rig();
    r.client.start();
    r.client.openRoom('lobby');
    expect(r.transports.last.kind).toBe('websocket');
    r.transports.last.drop({ cause: 'refused' });
    expect(r.transports.last.kind).toBe('long-polling');
    r.transports.last.connect();
    expect(r.status()).toBe('online:long-polling');
    // The proxy cuts the first held poll.
    r.clock.advance(1000);
    r.transports.last.drop({ cause: 'lost' });
    expect(r.transports.last.kind).toBe('sse');
    r.transports.last.connect();
    expect(r.status()).toBe('online:sse');
    // ... and the first held stream.
    r.clock.advance(1000);
    r.transports.last.drop({ cause: 'lost' });
    expect(r.transports.last.kind).toBe('ajax');
    r.transports.last.connect();
    expect(r.status()).toBe('online:ajax');
    expect(r.snap().transport.skipped).toEqual([
      { kind: 'websocket', cause: 'refused' },
      { kind: 'long-polling', cause: 'lost' },
      { kind: 'sse', cause: 'lost' },
    ]);
    expect(explainTransport(r.snap().transport, r.snap().connection)).toBe(
      'Using Ajax polling: WebSocket could not connect; Long-polling was cut off right after connecting; ' +
        'Server-Sent Events was cut off right after connecting. Faster transports are retried in the background.',
    );
    expect(r.transports.all.map((t) => t.closed)).toEqual([true, true, true, false]);
  });

  it('a WebSocket that never answers falls back at its deadline', () => {
    const r = rig();
    r.client.start();
    r.clock.advance(T.connectMs.websocket - 1);
    expect(r.transports.all).toHaveLength(1);
    r.clock.advance(1);
    expect(r.transports.last.kind).toBe('long-polling');
    expect(r.transports.all[0]?.closed).toBe(true);
  });

  it('a long-polling path that holds replies fails its check and drops to the next rung', async () => {
    const r = rig();
    r.client.start();
    r.transports.last.drop({ cause: 'refused' });
    const lp = r.transports.last;
    lp.pingMode = 'manual';
    lp.connect();
    r.clock.advance(T.verifyIdleMs);
    expect(lp.pings).toHaveLength(1);
    r.clock.advance(T.pingMs);
    expect(lp.closed).toBe(true);
    expect(r.transports.last.kind).toBe('sse');
  });

  it('remembers the choice for the browser session: the next page starts there', async () => {
    const tab = memoryStorage();
    const first = rig({ tabStorage: tab });
    first.client.start();
    first.transports.last.drop({ cause: 'refused' });
    first.transports.last.connect();
    first.clock.advance(T.verifyIdleMs);
    await flush();
    expect(first.status()).toBe('online:long-polling');
    expect(tab.getItem(STORAGE_KEYS.transport)).not.toBeNull();
    first.client.stop();

    const next = rig({ tabStorage: tab });
    next.client.start();
    expect(next.transports.all.map((t) => t.kind)).toEqual(['long-polling']);
    next.transports.last.connect();
    expect(next.snap().transport).toMatchObject({ remembered: true, skipped: [{ kind: 'websocket', cause: 'refused' }] });
  });

  it('?transport= forces one transport: no fallback, no probes, nothing remembered', () => {
    const r = rig({ preference: 'long-polling' });
    r.client.start();
    expect(r.transports.last.kind).toBe('long-polling');
    r.transports.last.drop({ cause: 'refused' });
    expect(r.status()).toBe('reconnecting');
    r.clock.advance(10_000);
    expect(r.transports.all.map((t) => t.kind)).toEqual(['long-polling', 'long-polling']);
    r.transports.last.connect();
    r.clock.advance(10 * 60_000);
    expect(r.transports.all).toHaveLength(2);
    expect(r.tabStorage.getItem(STORAGE_KEYS.transport)).toBeNull();
    expect(explainTransport(r.snap().transport, r.snap().connection)).toBe(
      'Long-polling was chosen with ?transport= in the address.',
    );
  });
});

describe('moving back up', () => {
  /** Online on Ajax in lobby with messages 1..3, after WebSocket, long-polling and SSE failed. */
  async function onAjax() {
    const r = rig();
    r.client.start();
    r.client.openRoom('lobby');
    r.transports.last.drop({ cause: 'refused' });
    r.transports.last.drop({ cause: 'refused' });
    r.transports.last.drop({ cause: 'refused' });
    const ajax = r.transports.last;
    ajax.connect();
    await answerJoin(ajax, { lastSeq: 3, messages: [msg(1), msg(2), msg(3)] });
    return { ...r, ajax };
  }

  it('probes WebSocket in the background and switches without a gap or a duplicate', async () => {
    const r = await onAjax();
    r.clock.advance(T.probeFirstMs);
    const probe = r.transports.last;
    expect(probe.kind).toBe('websocket');
    expect(r.snap().transport.probing).toBe('websocket');
    // The probe joins nothing and its pushes are ignored; the main connection keeps working.
    probe.connect();
    r.ajax.listener.messages({ room: 'lobby', messages: [msg(4)] });
    r.clock.advance(T.verifyIdleMs);
    await flush();
    expect(r.status()).toBe('online:websocket');
    expect(r.ajax.closed).toBe(true);
    // Resume on the new connection from the last seq held.
    expect(probe.joins[0]?.req).toEqual({ room: 'lobby', since: 4, epoch: 'e1' });
    await answerJoin(probe, { lastSeq: 6, messages: [msg(4), msg(5), msg(6)], recovered: true });
    expect(r.snap().rooms.lobby?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.snap().transport.skipped).toEqual([]);
    expect(JSON.parse(r.tabStorage.getItem(STORAGE_KEYS.transport) ?? '{}')).toEqual({ home: 'websocket', skipped: [] });
  });

  it('a message in flight on the old transport is resent on the new one under the same clientId', async () => {
    const r = await onAjax();
    r.client.send('lobby', 'mid-switch');
    expect(r.ajax.sends[0]?.req.clientId).toBe('cid-0001');
    r.clock.advance(T.probeFirstMs);
    const probe = r.transports.last;
    probe.connect();
    r.clock.advance(T.verifyIdleMs);
    await flush();
    // The old transport was closed: its request ends unanswered.
    r.ajax.sends[0]?.reply({ ok: false, error: { code: 'unavailable', message: 'aborted' } });
    await flush();
    expect(probe.sends[0]?.req).toEqual({ room: 'lobby', text: 'mid-switch', clientId: 'cid-0001' });
    expect(r.snap().outbox[0]).toMatchObject({ state: 'sending', attempts: 0 });
    probe.sends[0]?.reply({ ok: true, seq: 4, id: 'm4', ts: 1, duplicate: true });
    await answerJoin(probe, { lastSeq: 4, messages: [msg(4, { clientId: 'cid-0001', authorId: 'u-alice' })], recovered: true });
    expect(r.snap().outbox).toEqual([]);
    expect(r.snap().rooms.lobby?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('a probe that fails leaves the main connection alone and is retried later, less often', async () => {
    const r = await onAjax();
    r.clock.advance(T.probeFirstMs);
    r.transports.last.drop({ cause: 'refused' }); // WebSocket probe
    expect(r.transports.last.kind).toBe('long-polling');
    r.transports.last.drop({ cause: 'refused' }); // long-polling probe
    expect(r.transports.last.kind).toBe('sse');
    r.transports.last.drop({ cause: 'refused' }); // SSE probe
    expect(r.status()).toBe('online:ajax');
    expect(r.ajax.closed).toBe(false);
    const made = r.transports.all.length;
    r.clock.advance(T.probeFirstMs * 2 - 1);
    expect(r.transports.all).toHaveLength(made);
    r.clock.advance(1);
    expect(r.transports.all).toHaveLength(made + 1);
  });

  it('a probe refused by a connection cap waits instead of trying long-polling', async () => {
    const r = await onAjax();
    r.clock.advance(T.probeFirstMs);
    const made = r.transports.all.length;
    r.transports.last.drop({ cause: 'server-closed', refusal: 'too_many_connections', retryAfterMs: 10_000 });
    expect(r.transports.all).toHaveLength(made);
    expect(r.snap().transport.probing).toBeNull();
    expect(r.status()).toBe('online:ajax');
    expect(r.snap().lastRefusal).toBeNull();
  });
});

describe('connection caps', () => {
  const capped = { cause: 'server-closed', refusal: 'too_many_connections', retryAfterMs: 10_000 } as const;
  const statusLine = (snap: ReturnType<ReturnType<typeof rig>['snap']>) =>
    describeConnection(snap.connection, TRANSPORT_LABELS, snap.lastBye, snap.lastRefusal);

  it('a refused handshake backs off for the pause asked, on the same transport, and says why until connected', () => {
    const r = rig();
    r.client.start();
    r.transports.last.drop(capped);
    // Not blamed on WebSocket: no long-polling or Ajax attempt, nothing skipped.
    expect(r.transports.all.map((t) => t.kind)).toEqual(['websocket']);
    expect(r.snap().transport.skipped).toEqual([]);
    expect(r.snap().lastRefusal).toBe('too_many_connections');
    expect(statusLine(r.snap())).toBe('Too many connections from this address or account; retrying…');
    r.clock.advance(10_000 - 1);
    expect(r.transports.all).toHaveLength(1);
    r.clock.advance(1);
    expect(r.transports.all.map((t) => t.kind)).toEqual(['websocket', 'websocket']);
    r.transports.last.connect();
    expect(r.snap().lastRefusal).toBeNull();
    expect(statusLine(r.snap())).toBe('Connected · WebSocket');
  });

  it('a later failure of another kind replaces the explanation', () => {
    const r = rig();
    r.client.start();
    r.transports.last.drop(capped);
    r.clock.advance(10_000);
    r.transports.last.drop({ cause: 'refused' });
    expect(r.snap().lastRefusal).toBeNull();
    expect(r.transports.last.kind).toBe('long-polling');
  });
});

describe('wall-clock liveness', () => {
  async function onlineWs(silenceMs: number) {
    const r = rig({ preference: 'websocket' });
    r.client.start();
    r.client.openRoom('lobby');
    const t = r.transports.last;
    t.silenceMs = silenceMs;
    t.connect();
    await answerJoin(t);
    return { ...r, t };
  }

  it('a connection silent past its limit is noticed before a send goes into it', async () => {
    const r = await onlineWs(30_000);
    // The laptop slept: the clock moved, no timer ran.
    r.clock.now += 40_000;
    r.client.send('lobby', 'after sleep');
    expect(r.t.sends).toHaveLength(0);
    expect(r.t.closed).toBe(true);
    expect(r.status()).toBe('reconnecting');
    r.clock.advance(1000);
    const next = r.transports.last;
    next.connect();
    await answerJoin(next);
    expect(next.sends[0]?.req.clientId).toBe('cid-0001');
  });

  it('traffic from the server keeps it alive', async () => {
    const r = await onlineWs(30_000);
    for (let i = 0; i < 5; i++) {
      r.clock.advance(20_000);
      r.t.listener.heard();
    }
    r.client.send('lobby', 'still fine');
    expect(r.t.sends).toHaveLength(1);
    expect(r.t.closed).toBe(false);
  });

  it('a clock jump makes it re-check the connection, and reconnect if the check fails', async () => {
    const r = await onlineWs(Number.POSITIVE_INFINITY);
    r.t.pingMode = 'manual';
    r.clock.advance(CLOCK_TICK_MS * 3);
    expect(r.t.pings).toHaveLength(0);
    r.clock.sleep(CLOCK_TICK_MS + CLOCK_JUMP_MS + 1);
    expect(r.t.pings).toHaveLength(1);
    r.t.answerPings(false);
    await flush();
    expect(r.t.closed).toBe(true);
    expect(r.status()).toBe('reconnecting');
  });

  it('a clock jump with a healthy connection changes nothing', async () => {
    const r = await onlineWs(Number.POSITIVE_INFINITY);
    r.t.pingMode = 'manual';
    r.clock.sleep(60_000);
    r.t.answerPings(true);
    await flush();
    expect(r.status()).toBe('online:websocket');
    expect(r.t.closed).toBe(false);
  });

  it('a long sleep is caught by the silence rule on wake-up, without waiting for a send', async () => {
    const r = await onlineWs(45_000);
    r.clock.sleep(5 * 60_000);
    expect(r.t.closed).toBe(true);
  });
});

describe('room resets', () => {
  it('a reset log reported by the transport reloads the room: recovered false, latest page only', async () => {
    const r = rig({ preference: 'ajax' });
    r.client.start();
    r.client.openRoom('lobby');
    const t = r.transports.last;
    t.connect();
    await answerJoin(t, { lastSeq: 3, messages: [msg(1), msg(2), msg(3)] });
    t.listener.roomReset('lobby');
    expect(t.joins[0]?.req).toEqual({ room: 'lobby', since: 3, epoch: 'e1' });
    await answerJoin(t, { epoch: 'e2', lastSeq: 2, messages: [msg(1, { id: 'n1' }), msg(2, { id: 'n2' })], recovered: false });
    const room = r.snap().rooms.lobby;
    expect(room?.epoch).toBe('e2');
    expect(room?.messages.map((m) => m.id)).toEqual(['n1', 'n2']);
    expect(room?.lastSeq).toBe(2);
  });

  it('a gap too old to replay (recovered false, same epoch) replaces the list with the latest page', async () => {
    const r = rig({ preference: 'websocket' });
    r.client.start();
    r.client.openRoom('lobby');
    const t = r.transports.last;
    t.connect();
    await answerJoin(t, { lastSeq: 2, messages: [msg(1), msg(2)] });
    t.drop();
    r.clock.advance(10_000);
    const next = r.transports.last;
    next.connect();
    await answerJoin(next, { lastSeq: 5000, messages: [msg(4999), msg(5000)], recovered: false });
    expect(r.snap().rooms.lobby?.messages.map((m) => m.seq)).toEqual([4999, 5000]);
    expect(r.snap().rooms.lobby?.lastSeq).toBe(5000);
  });
});
