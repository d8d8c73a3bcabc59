import { afterEach, describe, expect, it } from 'vitest';
import type { JoinOk } from '../../../shared/protocol.ts';
import { ChatClient } from './chat-client.ts';
import { saveSession } from './session.ts';
import { STORAGE_KEYS, memoryStorage, type KeyValueStorage } from './storage.ts';
import type { TransportPreference } from './transport.ts';
import { FakeTransports, ManualClock, fakeSessionApi, flush, msg, type FakeTransport } from './testing-fakes.ts';

const ME = { token: 'tok', name: 'alice', userId: 'u-alice', expiresAt: Number.MAX_SAFE_INTEGER };

interface Rig {
  client: ChatClient;
  transports: FakeTransports;
  clock: ManualClock;
  storage: KeyValueStorage;
}

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});

/**
 * A client on fake transports and a manual clock. Forced to WebSocket unless
 * told otherwise, so tests of rooms and the outbox need not walk the
 * automatic ladder (its own tests below do).
 */
function rig(opts: { storage?: KeyValueStorage; tabStorage?: KeyValueStorage; signedIn?: boolean; preference?: TransportPreference } = {}): Rig {
  const storage = opts.storage ?? memoryStorage();
  if (opts.signedIn !== false && !opts.storage) saveSession(storage, ME);
  const transports = new FakeTransports();
  const clock = new ManualClock();
  let ids = 0;
  const client = new ChatClient({
    storage,
    tabStorage: opts.tabStorage ?? memoryStorage(),
    preference: opts.preference ?? 'websocket',
    sessionApi: fakeSessionApi(),
    transportFactory: transports.factory,
    timers: clock,
    now: () => clock.now,
    random: () => 0.5,
    newClientId: () => `cid-${String(++ids).padStart(4, '0')}`,
  });
  clients.push(client);
  return { client, transports, clock, storage };
}

function joinOk(over: Partial<JoinOk> = {}): JoinOk {
  return { room: 'lobby', epoch: 'e1', lastSeq: 0, messages: [], members: ['alice'], recovered: false, ...over };
}

/** Starts, connects, and answers the join of `lobby`. */
async function online(r: Rig, join: Partial<JoinOk> = {}): Promise<FakeTransport> {
  r.client.start();
  r.client.openRoom('lobby');
  const t = r.transports.last;
  t.connect('websocket');
  t.joins.shift()?.reply({ ok: true, ...joinOk(join) });
  await flush();
  return t;
}

const room = (r: Rig) => r.client.getSnapshot().rooms.lobby;

describe('ChatClient connection', () => {
  it('connects with the stored token and shows the live transport', async () => {
    const r = rig();
    r.client.start();
    expect(r.client.getSnapshot().connection).toEqual({ status: 'connecting' });
    expect(r.transports.last.token).toBe('tok');
    r.transports.last.connect('long-polling');
    expect(r.client.getSnapshot().connection).toEqual({ status: 'online', transport: 'long-polling' });
  });

  it('without a session it waits for a name, then signs in and connects', async () => {
    const r = rig({ signedIn: false });
    r.client.start();
    expect(r.transports.all).toHaveLength(0);
    await r.client.signIn('bob');
    expect(r.client.getSnapshot().session?.name).toBe('bob');
    expect(r.transports.last.token).toBe('tok-bob');
    expect(r.storage.getItem(STORAGE_KEYS.session)).toContain('tok-bob');
  });

  it('?name= signs in at once when signed out, and never replaces a stored session by itself', async () => {
    const r = rig({ signedIn: false });
    r.client.start({ autoName: 'carol' });
    await flush();
    expect(r.transports.last.token).toBe('tok-carol');
    const r2 = rig();
    r2.client.start({ autoName: 'carol' });
    await flush();
    expect(r2.transports.last.token).toBe('tok');
    expect(r2.client.getSnapshot().pendingSwitch).toEqual({ name: 'carol' });
  });

  it('reconnects after a drop and re-joins from the last seq and epoch', async () => {
    const r = rig();
    const first = await online(r, { lastSeq: 3, messages: [msg(1), msg(2), msg(3)] });
    first.drop();
    expect(r.client.getSnapshot().connection.status).toBe('reconnecting');
    expect(r.transports.all).toHaveLength(1);
    r.clock.advance(10_000);
    const second = r.transports.last;
    expect(second).not.toBe(first);
    second.connect('websocket');
    expect(second.joins[0]?.req).toEqual({ room: 'lobby', since: 3, epoch: 'e1' });
    second.joins[0]?.reply({ ok: true, ...joinOk({ lastSeq: 5, messages: [msg(4), msg(5)], recovered: true }) });
    await flush();
    expect(room(r)?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('an unrecovered re-join replaces the list with the latest page', async () => {
    const r = rig();
    const first = await online(r, { lastSeq: 2, messages: [msg(1), msg(2)] });
    first.drop();
    r.clock.advance(10_000);
    r.transports.last.connect();
    r.transports.last.joins[0]?.reply({ ok: true, ...joinOk({ epoch: 'e2', lastSeq: 900, messages: [msg(899), msg(900)] }) });
    await flush();
    expect(room(r)?.messages.map((m) => m.seq)).toEqual([899, 900]);
    expect(room(r)?.epoch).toBe('e2');
  });

  it('unauthorized drops the session and shows the nickname form', async () => {
    const r = rig();
    r.client.start();
    r.transports.last.drop({ unauthorized: true });
    const snap = r.client.getSnapshot();
    expect(snap.session).toBeNull();
    expect(snap.connection.status).toBe('idle');
    expect(snap.suggestedName).toBe('alice');
    expect(r.storage.getItem(STORAGE_KEYS.session)).toBeNull();
  });

  it('ignores callbacks from a transport it has replaced', async () => {
    const r = rig();
    const first = await online(r);
    first.drop();
    r.clock.advance(10_000);
    first.connect('websocket');
    expect(r.client.getSnapshot().connection.status).toBe('reconnecting');
  });

  it('the snapshot is stable between changes', async () => {
    const r = rig();
    await online(r);
    expect(r.client.getSnapshot()).toBe(r.client.getSnapshot());
  });
});

describe('ChatClient outbox', () => {
  it('shows a message at once, then as sent when the ack arrives, once', async () => {
    const r = rig();
    const t = await online(r);
    const res = r.client.send('lobby', '  hello\nworld  ');
    expect(res).toEqual({ ok: true, clientId: 'cid-0001' });
    expect(r.client.getSnapshot().outbox).toMatchObject([{ clientId: 'cid-0001', state: 'sending', text: 'hello\nworld' }]);
    expect(t.sends[0]?.req).toEqual({ room: 'lobby', text: 'hello\nworld', clientId: 'cid-0001' });
    t.sends[0]?.reply({ ok: true, seq: 1, id: 'm1', ts: 5 });
    await flush();
    expect(r.client.getSnapshot().outbox).toEqual([]);
    expect(room(r)?.messages).toMatchObject([{ seq: 1, clientId: 'cid-0001', author: 'alice', authorId: 'u-alice' }]);
    // The broadcast copy of the same message merges away.
    t.listener.messages({ room: 'lobby', messages: [msg(1, { clientId: 'cid-0001', author: 'alice', authorId: 'u-alice' })] });
    expect(room(r)?.messages).toHaveLength(1);
  });

  it('a broadcast copy arriving before the ack settles the entry', async () => {
    const r = rig();
    const t = await online(r);
    r.client.send('lobby', 'hi');
    t.listener.messages({ room: 'lobby', messages: [msg(1, { clientId: 'cid-0001', author: 'alice', authorId: 'u-alice' })] });
    expect(r.client.getSnapshot().outbox).toEqual([]);
    t.sends[0]?.reply({ ok: true, seq: 1, id: 'm1', ts: 5 });
    await flush();
    expect(room(r)?.messages).toHaveLength(1);
  });

  it('sends one at a time in typed order', async () => {
    const r = rig();
    const t = await online(r);
    r.client.send('lobby', 'one');
    r.client.send('lobby', 'two');
    expect(t.sends.map((s) => s.req.text)).toEqual(['one']);
    t.sends[0]?.reply({ ok: true, seq: 1, id: 'm1', ts: 5 });
    await flush();
    expect(t.sends.map((s) => s.req.text)).toEqual(['one', 'two']);
  });

  it('queues while offline and sends after connecting, with the same clientId', async () => {
    const r = rig();
    const t = await online(r);
    t.drop();
    r.client.send('lobby', 'while away');
    expect(r.client.getSnapshot().outbox[0]?.state).toBe('sending');
    r.clock.advance(10_000);
    const next = r.transports.last;
    next.connect();
    await flush();
    expect(next.sends[0]?.req.clientId).toBe('cid-0001');
  });

  it('a message in flight when the connection drops is resent after reconnecting', async () => {
    const r = rig();
    const t = await online(r);
    r.client.send('lobby', 'in flight');
    t.drop();
    t.sends[0]?.reply({ ok: false, error: { code: 'unavailable', message: 'Not connected.' } });
    await flush();
    expect(r.client.getSnapshot().outbox[0]).toMatchObject({ state: 'sending', attempts: 0 });
    r.clock.advance(10_000);
    r.transports.last.connect();
    await flush();
    expect(r.transports.last.sends[0]?.req.clientId).toBe('cid-0001');
  });

  it('fails after repeated errors and offers retry with the same clientId', async () => {
    const r = rig();
    const t = await online(r);
    r.client.send('lobby', 'doomed');
    for (let i = 0; i < 4; i++) {
      t.sends[i]?.reply({ ok: false, error: { code: 'unavailable', message: 'busy' } });
      await flush();
      r.clock.advance(60_000);
    }
    expect(r.client.getSnapshot().outbox[0]).toMatchObject({ state: 'failed', error: 'The server is busy or restarting. Try again in a moment.' });
    expect(t.sends).toHaveLength(4);
    r.client.retry('cid-0001');
    expect(t.sends[4]?.req.clientId).toBe('cid-0001');
  });

  it('a permanent refusal fails at once', async () => {
    const r = rig();
    const t = await online(r);
    r.client.send('lobby', 'x');
    t.sends[0]?.reply({ ok: false, error: { code: 'bad_request', message: 'nope' } });
    await flush();
    expect(r.client.getSnapshot().outbox[0]?.state).toBe('failed');
  });

  it('survives a reload: a new client on the same storage resends the queue', async () => {
    const r = rig();
    await online(r);
    r.transports.last.drop();
    r.client.send('lobby', 'unsent');
    r.client.stop();
    const again = rig({ storage: r.storage });
    const t = await online(again);
    expect(again.client.getSnapshot().outbox).toHaveLength(1);
    expect(t.sends[0]?.req).toEqual({ room: 'lobby', text: 'unsent', clientId: 'cid-0001' });
  });

  it('sends files with no text, by their ids, shows them at once, and keeps them through a reload', async () => {
    const file = { id: 'f'.repeat(22), name: 'shot.png', size: 1234, type: 'image/png', url: `/files/${'f'.repeat(22)}/shot.png` };
    const r = rig();
    await online(r);
    r.transports.last.drop();
    expect(r.client.send('lobby', '  ', [], [file]).ok).toBe(true);
    expect(r.client.getSnapshot().outbox[0]).toMatchObject({ text: '', attachments: [file] });
    r.client.stop();
    const again = rig({ storage: r.storage });
    const t = await online(again);
    expect(t.sends[0]?.req).toEqual({ room: 'lobby', text: '', clientId: 'cid-0001', attachments: [file.id] });
  });

  it.each([
    ['', 'Type a message first.'],
    ['   \n ', 'Type a message first.'],
    ['x'.repeat(4001), 'Messages can be at most 4000 characters'],
    ['x\ud800y', "Your message has characters that can't be sent"],
  ])('refuses %j before queueing', async (text, message) => {
    const r = rig();
    await online(r);
    expect(r.client.send('lobby', text)).toEqual({ ok: false, message });
    expect(r.client.getSnapshot().outbox).toEqual([]);
  });
});

describe('ChatClient rooms', () => {
  it('a seq gap in pushed messages triggers a re-join from the last contiguous seq', async () => {
    const r = rig();
    const t = await online(r, { lastSeq: 2, messages: [msg(1), msg(2)] });
    t.listener.messages({ room: 'lobby', messages: [msg(5)] });
    expect(t.joins[0]?.req).toEqual({ room: 'lobby', since: 2, epoch: 'e1' });
  });

  it('switching rooms joins the new one and, on sockets, stays in the old one (it is one of my rooms now)', async () => {
    const r = rig();
    const t = await online(r);
    r.client.openRoom('dev');
    expect(t.leaves).toEqual([]);
    expect(t.joins[0]?.req).toEqual({ room: 'dev' });
  });

  it('switching rooms on Ajax stops polling the old one', async () => {
    const r = rig({ preference: 'ajax' });
    r.client.start();
    r.client.openRoom('lobby');
    const t = r.transports.last;
    t.connect('ajax');
    t.joins.shift()?.reply({ ok: true, ...joinOk() });
    await flush();
    r.client.openRoom('dev');
    expect(t.leaves).toEqual([{ room: 'lobby' }]);
    expect(t.joins[0]?.req).toEqual({ room: 'dev' });
  });

  it('loads older pages for scrollback', async () => {
    const r = rig();
    const t = await online(r, { lastSeq: 150, messages: Array.from({ length: 50 }, (_, i) => msg(101 + i)) });
    void r.client.loadOlder('lobby');
    void r.client.loadOlder('lobby');
    expect(t.histories).toHaveLength(1);
    expect(t.histories[0]?.req).toEqual({ room: 'lobby', before: 101, limit: 100 });
    t.histories[0]?.reply({ ok: true, messages: Array.from({ length: 100 }, (_, i) => msg(1 + i)) });
    await flush();
    expect(room(r)?.messages).toHaveLength(150);
    expect(room(r)?.olderState).toBe('done');
  });

  it('presence and typing update the room; typing excludes me and expires', async () => {
    const r = rig();
    const t = await online(r);
    const alice = { userId: ME.userId, name: 'alice' };
    const bob = { userId: 'u-bob', name: 'bob' };
    // Another user named alice is not me: only my userId is left out of typing.
    const otherAlice = { userId: 'u-alice-2', name: 'alice' };
    t.listener.presence({ room: 'lobby', members: ['alice', 'bob'], users: [alice, bob] });
    t.listener.typing({ room: 'lobby', typing: ['alice', 'alice', 'bob'], users: [alice, otherAlice, bob] });
    expect(room(r)).toMatchObject({ members: [alice, bob], typing: [otherAlice, bob] });
    r.clock.advance(10_000);
    expect(room(r)?.typing).toEqual([]);
  });

  it('typing signals are throttled', async () => {
    const r = rig();
    const t = await online(r);
    r.client.notifyTyping('lobby');
    r.client.notifyTyping('lobby');
    r.clock.advance(2500);
    r.client.notifyTyping('lobby');
    expect(t.typings).toEqual(['lobby', 'lobby']);
  });
});
