import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, JoinOk, Message } from '../../../shared/protocol.ts';
import { ChatClient } from './chat-client.ts';
import { saveSession } from './session.ts';
import { memoryStorage } from './storage.ts';
import { FakeTransports, ManualClock, fakeSessionApi, flush, msg, type FakeTransport } from './testing-fakes.ts';
import { buildItems } from './view-items.ts';

const ME = { token: 'tok', name: 'alice', userId: 'u-alice', expiresAt: Number.MAX_SAFE_INTEGER };
const mine = (seq: number, over: Partial<Message> = {}) => msg(seq, { author: 'alice', authorId: 'u-alice', ...over });

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});

/** A signed-in client on a fake WebSocket, in `room` with `messages` joined. */
async function online(messages: Message[] = [], room = 'lobby'): Promise<{ client: ChatClient; t: FakeTransport }> {
  const storage = memoryStorage();
  saveSession(storage, ME);
  const transports = new FakeTransports();
  const clock = new ManualClock();
  let ids = 0;
  const client = new ChatClient({
    storage,
    preference: 'websocket',
    sessionApi: fakeSessionApi(),
    transportFactory: transports.factory,
    timers: clock,
    now: () => clock.now,
    random: () => 0.5,
    newClientId: () => `cid-${String(++ids).padStart(4, '0')}`,
  });
  clients.push(client);
  client.start();
  client.openRoom(room);
  const t = transports.last;
  t.connect('websocket');
  const last = messages.at(-1)?.seq ?? 0;
  const ack: JoinOk = { room, epoch: 'e1', lastSeq: last, messages, members: ['alice'], recovered: false };
  t.joins.shift()?.reply({ ok: true, ...ack });
  await flush();
  return { client, t };
}

/** The oldest unanswered command of this name (other than the room list the client fetches on its own). */
function pending(t: FakeTransport, name: string) {
  const at = t.others.findIndex((o) => o.name === name);
  if (at < 0) throw new Error(`no ${name} request; have ${t.others.map((o) => o.name).join(', ')}`);
  return t.others.splice(at, 1)[0] as FakeTransport['others'][number];
}

const answer = (p: FakeTransport['others'][number], res: Ack<Record<string, unknown>>) => p.reply(res);

describe('replies', () => {
  it('the message chosen with Reply goes with the next send, shows on the local echo, and is then cleared', async () => {
    const { client, t } = await online([msg(1, { text: 'question?' })]);
    client.actions.startReply('lobby', 1);
    expect(client.getSnapshot().composing.lobby).toEqual({ replyTo: 1, editing: null });
    expect(client.send('lobby', 'answer!').ok).toBe(true);
    expect(client.getSnapshot().composing.lobby?.replyTo).toBeNull();
    const s = client.getSnapshot();
    const echo = buildItems(s.rooms.lobby!, s.outbox, ME).at(-1);
    expect(echo?.reply).toMatchObject({ seq: 1, author: 'bob', text: 'question?' });
    await flush();
    expect(t.sends[0]?.req).toMatchObject({ room: 'lobby', text: 'answer!', replyTo: 1 });
  });

  it('reads the original of a live reply that came without a preview, once', async () => {
    const { client, t } = await online([msg(10)]);
    t.listener.messages({ room: 'lobby', messages: [msg(11, { replyTo: 3 }), msg(12, { replyTo: 3 })] });
    void client.actions.fetchOriginal('lobby', 3);
    void client.actions.fetchOriginal('lobby', 3);
    expect(t.histories).toHaveLength(1);
    expect(t.histories[0]?.req).toEqual({ room: 'lobby', before: 4, limit: 1 });
    t.histories[0]?.reply({ ok: true, messages: [msg(3, { text: 'the original' })] });
    await flush();
    const replies = client.getSnapshot().rooms.lobby?.messages.filter((m) => m.replyTo === 3);
    expect(replies?.map((m) => m.reply?.text)).toEqual(['the original', 'the original']);
  });

  it('brings an original just below the held copy into view by scrollback', async () => {
    const { client, t } = await online([msg(200, { replyTo: 150 }), msg(201)]);
    const shown = client.actions.reveal('lobby', 150);
    await flush();
    expect(t.histories[0]?.req).toMatchObject({ room: 'lobby', before: 200 });
    t.histories.shift()?.reply({ ok: true, messages: Array.from({ length: 100 }, (_, i) => msg(100 + i)) });
    expect(await shown).toBe(true);
    expect(client.getSnapshot().reveal).toMatchObject({ room: 'lobby', seq: 150 });
    expect(client.getSnapshot().rooms.lobby?.detached).toBeNull();
  });

  it('opens the page around a message far back, scrolls down to the live tail from it, and jumps back to the present', async () => {
    const { client, t } = await online(Array.from({ length: 50 }, (_, i) => msg(951 + i)));
    const shown = client.actions.reveal('lobby', 40);
    await flush();
    expect(t.histories.map((h) => h.req)).toEqual([{ room: 'lobby', around: 40, limit: 100 }]);
    t.histories.shift()?.reply({ ok: true, messages: Array.from({ length: 100 }, (_, i) => msg(i + 1)) });
    expect(await shown).toBe(true);
    const room = () => client.getSnapshot().rooms.lobby;
    expect(client.getSnapshot().reveal).toMatchObject({ room: 'lobby', seq: 40 });
    expect(room()?.messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(room()?.detached).toMatchObject({ ceiling: 100, tailFloor: 951 });

    void client.loadNewer('lobby');
    void client.loadNewer('lobby'); // one page at a time
    await flush();
    expect(t.histories.map((h) => h.req)).toEqual([{ room: 'lobby', after: 100, limit: 100 }]);
    t.histories.shift()?.reply({ ok: true, messages: Array.from({ length: 100 }, (_, i) => msg(101 + i)) });
    await flush();
    expect(room()?.detached?.ceiling).toBe(200);

    // Sending goes back to the end of the conversation, where the new message shows.
    client.send('lobby', 'back to now');
    expect(room()?.detached).toBeNull();
    expect(room()?.messages[0]?.seq).toBe(951);
  });

  it('a message the page around it does not hold (gone from the log) leaves the view as it was', async () => {
    const { client, t } = await online(Array.from({ length: 50 }, (_, i) => msg(951 + i)));
    const shown = client.actions.reveal('lobby', 40);
    await flush();
    t.histories.shift()?.reply({ ok: true, messages: [msg(39), msg(41)] });
    expect(await shown).toBe(false);
    expect(client.getSnapshot().rooms.lobby?.detached).toBeNull();
    expect(client.getSnapshot().rooms.lobby?.messages[0]?.seq).toBe(951);
  });
});

describe('changes to messages', () => {
  it('an acked edit applies at once as the entry it became, and closes the editor', async () => {
    const { client, t } = await online([mine(1, { text: 'tpyo' })]);
    expect(client.actions.startEdit('lobby', 'last')).toBe(true);
    expect(client.getSnapshot().composing.lobby?.editing).toBe(1);
    const done = client.actions.edit('lobby', 1, 'typo');
    const req = pending(t, 'edit');
    expect(req.req).toEqual({ room: 'lobby', target: 1, text: 'typo', clientId: expect.any(String) });
    answer(req, { ok: true, seq: 2, id: 'e2', ts: 99 });
    expect(await done).toEqual({ ok: true });
    const room = client.getSnapshot().rooms.lobby;
    expect(room?.messages[0]).toMatchObject({ text: 'typo', editedAt: 99 });
    expect(room?.lastSeq).toBe(2);
    expect(client.getSnapshot().composing.lobby?.editing).toBeNull();
    // Its broadcast copy changes nothing more.
    t.listener.messages({ room: 'lobby', messages: [mine(2, { kind: 'edit', target: 1, text: 'typo', ts: 99, id: 'e2' })] });
    expect(client.getSnapshot().rooms.lobby).toBe(room);
  });

  it('a refused change says why and changes nothing', async () => {
    const { client, t } = await online([msg(1)]);
    const done = client.actions.remove('lobby', 1);
    answer(pending(t, 'delete'), { ok: false, error: { code: 'forbidden', message: 'no' } });
    expect(await done).toEqual({ ok: false, message: "That isn't allowed here." });
    expect(client.getSnapshot().rooms.lobby?.messages[0]?.deleted).toBeUndefined();
  });

  it('a reaction answered unchanged takes no seq and changes nothing', async () => {
    const { client, t } = await online([msg(1)]);
    const before = client.getSnapshot().rooms.lobby;
    const done = client.actions.react('lobby', 1, '👍', true);
    answer(pending(t, 'react'), { ok: true, seq: 1, id: 'm1', ts: 1, unchanged: true });
    await done;
    expect(client.getSnapshot().rooms.lobby).toBe(before);
  });

  it('my reaction shows as mine with my name', async () => {
    const { client, t } = await online([msg(1)]);
    const done = client.actions.react('lobby', 1, '🎉', true);
    answer(pending(t, 'react'), { ok: true, seq: 2, id: 'r2', ts: 5 });
    await done;
    const s = client.getSnapshot();
    expect(buildItems(s.rooms.lobby!, [], ME)[0]?.reactions).toEqual([
      { emoji: '🎉', count: 1, mine: true, names: ['alice'], label: '🎉 1: alice; you reacted' },
    ]);
  });

  it.each<{ name: string; messages: Message[]; expected: number | false }>([
    { name: 'the last of mine', messages: [mine(1), msg(2), mine(3), msg(4)], expected: 3 },
    { name: 'skips a deleted one', messages: [mine(1), mine(2, { deleted: true, text: '' })], expected: 1 },
    { name: 'none of mine', messages: [msg(1)], expected: false },
  ])('Up edits $name', async ({ messages, expected }) => {
    const { client } = await online(messages);
    expect(client.actions.startEdit('lobby', 'last')).toBe(expected !== false);
    expect(client.getSnapshot().composing.lobby?.editing ?? false).toBe(expected === false ? false : expected);
  });
});

describe('private rooms and direct messages', () => {
  it('learns the owner, the title and a direct message’s other person from `members`', async () => {
    const { client, t } = await online([msg(1)], 'p-0123456789abcdef');
    const loading = client.actions.loadInfo('p-0123456789abcdef');
    answer(pending(t, 'members'), {
      ok: true,
      room: 'p-0123456789abcdef',
      visibility: 'private',
      title: 'Plans',
      members: [
        { userId: 'u-alice', name: 'alice', role: 'owner' },
        { userId: 'u-bob', name: 'bob', role: 'member' },
      ],
    });
    await loading;
    const s = client.getSnapshot();
    expect(s.roomInfo['p-0123456789abcdef']).toMatchObject({ visibility: 'private', title: 'Plans', ownerId: 'u-alice' });
    // As the owner, alice may delete bob's message.
    expect(buildItems(s.rooms['p-0123456789abcdef']!, [], ME, s.roomInfo['p-0123456789abcdef'])[0]).toMatchObject({ canDelete: true, canEdit: false });
  });

  it('an invitation names the room; a removal drops its copy and says so by its title', async () => {
    const { client, t } = await online([msg(1)], 'p-0123456789abcdef');
    t.listener.invited({ room: 'p-0123456789abcdef', title: 'Plans', by: { userId: 'u-olive', name: 'olive' } });
    t.listener.invited({ room: 'dm-abc', by: { userId: 'u-bob', name: 'bob' } });
    expect(client.getSnapshot().roomInfo['dm-abc']).toEqual({ visibility: 'dm', peer: { userId: 'u-bob', name: 'bob' } });
    t.listener.removed?.({ room: 'p-0123456789abcdef' });
    const s = client.getSnapshot();
    expect(s.rooms['p-0123456789abcdef']).toBeUndefined();
    expect(s.roomInfo['p-0123456789abcdef']).toBeUndefined();
    expect(s.removedFrom).toEqual({ room: 'p-0123456789abcdef', title: 'Plans' });
    // Whatever the room still sends is not shown.
    t.listener.messages({ room: 'p-0123456789abcdef', messages: [msg(2)] });
    expect(client.getSnapshot().rooms['p-0123456789abcdef']).toBeUndefined();
    client.actions.dismissRemoved();
    expect(client.getSnapshot().removedFrom).toBeNull();
  });

  it('offline, actions say so instead of waiting', async () => {
    const { client, t } = await online([msg(1)]);
    t.drop();
    expect(await client.actions.createRoom('x')).toEqual({ ok: false, message: "You're offline. Try again once connected." });
  });
});
