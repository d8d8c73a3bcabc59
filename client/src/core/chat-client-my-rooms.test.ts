import { afterEach, describe, expect, it } from 'vitest';
import type { JoinOk, MyRoom } from '../../../shared/protocol.ts';
import { ChatClient, type Alert } from './chat-client.ts';
import { AJAX_REFRESH_MS, READ_THROTTLE_MS } from './my-rooms.ts';
import { saveSession } from './session.ts';
import { memoryStorage } from './storage.ts';
import type { TransportKind } from './transport.ts';
import { FakeTransports, ManualClock, fakeSessionApi, flush, msg, type FakeTransport } from './testing-fakes.ts';

const ME = { token: 'tok', name: 'alice', userId: 'u-alice', expiresAt: Number.MAX_SAFE_INTEGER };

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});

function rig(kind: TransportKind = 'websocket') {
  const storage = memoryStorage();
  saveSession(storage, ME);
  const transports = new FakeTransports();
  const clock = new ManualClock();
  const alerts: Alert[] = [];
  let ids = 0;
  const client = new ChatClient({
    storage,
    preference: kind,
    sessionApi: fakeSessionApi(),
    transportFactory: transports.factory,
    timers: clock,
    now: () => clock.now,
    random: () => 0.5,
    newClientId: () => `cid-${String(++ids).padStart(4, '0')}`,
    alert: (a) => alerts.push(a),
  });
  clients.push(client);
  return { client, transports, clock, alerts };
}

function joinOk(room: string, over: Partial<JoinOk> = {}): JoinOk {
  return { room, epoch: 'e1', lastSeq: 0, messages: [], members: [], recovered: true, lastRead: 0, ...over };
}

function mine(room: string, over: Partial<MyRoom> = {}): MyRoom {
  return { room, visibility: 'public', lastSeq: 0, lastRead: 0, unread: 0, mentions: 0, ...over };
}

/** Answers the oldest command of this name still waiting. */
function answer(t: FakeTransport, name: string, res: object): unknown {
  const i = t.others.findIndex((o) => o.name === name);
  const cmd = t.others[i];
  if (!cmd) throw new Error(`no ${name} waiting (have: ${t.others.map((o) => o.name).join(', ')})`);
  t.others.splice(i, 1);
  cmd.reply({ ok: true, ...res });
  return cmd.req;
}

const sent = (t: FakeTransport, name: string) => t.others.filter((o) => o.name === name).map((o) => o.req);

/** Online in `lobby`, the list answered with `rooms`. */
async function online(r: ReturnType<typeof rig>, rooms: MyRoom[], kind: TransportKind = 'websocket') {
  r.client.start();
  r.client.openRoom('lobby');
  const t = r.transports.last;
  t.connect(kind);
  t.joins.shift()?.reply({ ok: true, ...joinOk('lobby') });
  await flush();
  answer(t, 'myRooms', { rooms });
  await flush();
  return t;
}

const entry = (r: ReturnType<typeof rig>, room: string) => r.client.getSnapshot().myRooms.rooms.find((e) => e.room === room);

describe('my rooms', () => {
  it('fetches the list at connect and stays subscribed to each room from its lastSeq, one join at a time', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 7, lastRead: 4, unread: 3, mentions: 1 }), mine('random', { lastSeq: 2, lastRead: 2 })]);
    expect(entry(r, 'design')?.view).toEqual({ unread: 3, mentions: 1 });
    // The open room is joined already; the others from where the list says they end, so nothing is replayed.
    expect(t.joins.map((j) => j.req)).toEqual([{ room: 'design', since: 7 }]);
    t.joins.shift()?.reply({ ok: true, ...joinOk('design', { lastSeq: 7, lastRead: 4 }) });
    await flush();
    expect(t.joins.map((j) => j.req)).toEqual([{ room: 'random', since: 2 }]);
  });

  it('counts live messages by others in a background room, and alerts once, for the mention only', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 2, lastRead: 2 })]);
    t.joins.shift()?.reply({ ok: true, ...joinOk('design', { lastSeq: 2, lastRead: 2 }) });
    await flush();
    const m = (seq: number, text: string, mentions?: string[]) => msg(seq, { room: 'design', text, ...(mentions ? { mentions } : {}) });
    t.listener.messages({ room: 'design', messages: [m(3, 'one'), m(4, 'two')] });
    t.listener.messages({ room: 'design', messages: [m(5, '@alice look', [ME.userId])] });
    t.listener.messages({ room: 'design', messages: [m(5, '@alice look', [ME.userId])] }); // delivered again
    t.listener.messages({ room: 'design', messages: [msg(6, { room: 'design', author: 'alice', authorId: ME.userId })] });
    expect(entry(r, 'design')?.view).toEqual({ unread: 3, mentions: 1 });
    expect(r.alerts).toEqual([{ room: 'design', kind: 'mention', from: { userId: 'u-bob', name: 'bob' }, text: '@alice look', seq: 5, open: false }]);
  });

  it('a read in another tab clears the count', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 3, unread: 3, mentions: 1 })]);
    t.listener.read({ room: 'design', seq: 3 });
    expect(entry(r, 'design')?.view).toEqual({ unread: 0, mentions: 0 });
  });

  it('sends what was seen as read at most once a second, with the highest seq, never backwards', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby', { lastSeq: 10, unread: 10 })]);
    r.client.markRead('lobby', 4);
    expect(entry(r, 'lobby')?.view.unread).toBe(10); // read part of the server's count: kept until the list is fetched again
    r.client.markRead('lobby', 6);
    r.client.markRead('lobby', 5);
    r.client.markRead('lobby', 10);
    expect(sent(t, 'read')).toEqual([{ room: 'lobby', seq: 4 }]);
    expect(entry(r, 'lobby')?.view.unread).toBe(0);
    r.clock.advance(READ_THROTTLE_MS);
    expect(sent(t, 'read')).toEqual([{ room: 'lobby', seq: 4 }, { room: 'lobby', seq: 10 }]);
    r.client.markRead('lobby', 9);
    r.clock.advance(READ_THROTTLE_MS * 3);
    expect(sent(t, 'read')).toHaveLength(2);
  });

  it('on Ajax it polls only the open room and fetches the list again every few seconds', async () => {
    const r = rig('ajax');
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 2 })], 'ajax');
    expect(t.joins).toEqual([]);
    r.clock.advance(AJAX_REFRESH_MS);
    answer(t, 'myRooms', { rooms: [mine('lobby'), mine('design', { lastSeq: 4, unread: 2, mentions: 1 })] });
    await flush();
    expect(entry(r, 'design')?.view).toEqual({ unread: 2, mentions: 1 });
    // The mention was not heard live: the rise of the count is the news.
    expect(r.alerts).toMatchObject([{ room: 'design', kind: 'mention', from: null, open: false }]);
  });

  it('opening a room remembers the read position its join answered, for the "New" divider', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 9, lastRead: 6, unread: 3 })]);
    t.joins.shift()?.reply({ ok: true, ...joinOk('design', { lastSeq: 9, lastRead: 6 }) });
    await flush();
    r.client.openRoom('design');
    expect(r.client.getSnapshot().arrival).toEqual({ room: 'design', lastRead: null, settled: false, member: true });
    t.joins.shift()?.reply({ ok: true, ...joinOk('design', { lastSeq: 9, lastRead: 6, recovered: false, messages: [msg(8, { room: 'design' }), msg(9, { room: 'design' })] }) });
    await flush();
    expect(r.client.getSnapshot().arrival).toEqual({ room: 'design', lastRead: 6, settled: true, member: true });
    // Still subscribed to the lobby: it counts on.
    expect(t.leaves).toEqual([]);
  });

  it('an Ajax join carries no read position: the list\'s is used', async () => {
    const r = rig('ajax');
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 9, lastRead: 6, unread: 3 })], 'ajax');
    r.client.openRoom('design');
    t.joins.shift()?.reply({ ok: true, ...joinOk('design', { lastSeq: 9, lastRead: undefined }) });
    await flush();
    expect(r.client.getSnapshot().arrival).toMatchObject({ room: 'design', lastRead: 6, settled: true });
  });

  it('a first visit has no news to point at: no divider, the view opens at the bottom', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby')]);
    r.client.openRoom('busy');
    t.joins.shift()?.reply({ ok: true, ...joinOk('busy', { lastSeq: 80, lastRead: 0, recovered: false, messages: [msg(79, { room: 'busy' }), msg(80, { room: 'busy' })] }) });
    await flush();
    expect(r.client.getSnapshot().arrival).toEqual({ room: 'busy', lastRead: null, settled: true, member: false });
  });

  it('a background join that is rate limited waits as told, then goes on', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby'), mine('a', { lastSeq: 1 }), mine('b', { lastSeq: 1 })]);
    t.joins.shift()?.reply({ ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterMs: 3000 } });
    await flush();
    expect(t.joins).toEqual([]);
    r.clock.advance(3000);
    expect(t.joins.map((j) => j.req)).toEqual([{ room: 'a', since: 1 }]);
  });

  it('leaving a room removes it from the list and ends the subscription', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby'), mine('design', { lastSeq: 1 })]);
    t.joins.shift()?.reply({ ok: true, ...joinOk('design', { lastSeq: 1 }) });
    await flush();
    const left = r.client.partRoom('design');
    answer(t, 'part', {});
    expect(await left).toBeNull();
    expect(entry(r, 'design')).toBeUndefined();
    expect(t.leaves).toEqual([{ room: 'design' }]);
  });

  it('an invitation fetches the list again', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby')]);
    t.listener.invited({ room: 'dm-1', by: { userId: 'u-bob', name: 'bob' } });
    answer(t, 'myRooms', { rooms: [mine('lobby'), mine('dm-1', { visibility: 'dm', lastSeq: 1, unread: 1, peer: { userId: 'u-bob', name: 'bob' } })] });
    await flush();
    expect(entry(r, 'dm-1')?.view.unread).toBe(1);
    expect(r.alerts).toMatchObject([{ room: 'dm-1', kind: 'direct' }]);
  });
});

describe('typing stop', () => {
  it('emptying the composer ends a running typing signal at once, and only then', async () => {
    const r = rig();
    const t = await online(r, [mine('lobby')]);
    r.client.stopTyping('lobby');
    expect(t.typings).toEqual([]);
    r.client.notifyTyping('lobby');
    r.client.stopTyping('lobby');
    expect(t.typings).toEqual(['lobby', 'lobby:stop']);
    // The next keystroke signals again at once.
    r.client.notifyTyping('lobby');
    expect(t.typings).toEqual(['lobby', 'lobby:stop', 'lobby']);
  });
});
