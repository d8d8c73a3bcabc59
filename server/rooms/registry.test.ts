import { describe, expect, it } from 'vitest';
import { TIMING, type Ack, type Message } from '../../shared/protocol.ts';
import { defaultConfig, roomOptions } from '../config.ts';
import { Fiber } from '../fiber/index.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { RoomRegistry, type Starter } from './registry.ts';
import type { RoomCommand } from './types.ts';

const reader: Starter = { userId: 'u-reader', address: '198.51.100.7' };
const writer: Starter = { userId: 'u-writer', address: '198.51.100.8' };

function setup(opts: Partial<ReturnType<typeof roomOptions>>) {
  const root = Fiber.root('test', () => {});
  const rooms = new RoomRegistry(root, new MemoryStore(), { ...roomOptions(defaultConfig()), ...opts });
  const ask = (room: string, build: (reply: (a: Ack<unknown>) => void) => RoomCommand, starter?: Starter) =>
    new Promise<Ack<unknown>>((resolve) => rooms.dispatch(room, build(resolve), starter));
  /** The latest page of a room, read without a poller's presence: a read that needs the room's fiber. */
  const read = (room: string, starter: Starter) => ask(room, (reply) => ({ kind: 'page', limit: 10, reply }), starter);
  const send = (room: string, starter: Starter) =>
    ask(room, (reply) => ({ kind: 'send', author: { userId: starter.userId, name: 'w' }, entry: { kind: 'message', text: 'hello', clientId: `c-${room}-xxxx` }, reply }), starter);
  return { root, rooms, read, send };
}

describe('RoomRegistry budgets', () => {
  it('a room that only served reads retires after readIdleMs and gives its starter the slot back; a written room stays', async () => {
    const { root, rooms, read, send } = setup({ readIdleMs: 50, idleMs: 60_000, maxRoomsPerIdentity: 1 });
    expect((await read('looked-at', reader)).ok).toBe(true);
    expect((await send('written', writer)).ok).toBe(true);
    expect(rooms.size).toBe(2);
    // The reader's one slot is taken until its room retires.
    // The hint: a read-only room frees its slot once its poll lease and the read idle time have passed.
    expect(await read('another', reader)).toMatchObject({ ok: false, error: { code: 'rate_limited', retryAfterMs: TIMING.pollLeaseMs + 50 } });
    await expect.poll(() => rooms.size, { timeout: 2_000 }).toBe(1);
    expect(rooms.startedBy(reader).identity).toBe(0);
    expect(rooms.startedBy(writer).identity).toBe(1);
    expect((await read('another', reader)).ok).toBe(true);
    await root.cancel();
  });

  it('counts the rooms of all identities behind one address against that address', async () => {
    const { root, rooms, read } = setup({ maxRoomsPerIdentity: 10, maxRoomsPerAddress: 3 });
    const at = (i: number): Starter => ({ userId: `u-${i}`, address: '198.51.100.9' });
    for (let i = 0; i < 3; i++) expect((await read(`r${i}`, at(i))).ok).toBe(true);
    expect(await read('r3', at(3))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect((await read('r3', { userId: 'u-3', address: '198.51.100.10' })).ok).toBe(true);
    expect(rooms.size).toBe(4);
    await root.cancel();
  });
});

describe('RoomRegistry reads of a room without a live fiber', () => {
  it('answer `mine` for the reader, as a live room does (history and REST scrollback alike)', async () => {
    const store = new MemoryStore();
    const alice = { userId: 'u-alice', name: 'alice' };
    const live = setupOn(store);
    const sent = await live.ask('idle', (reply) => ({ kind: 'send', author: alice, entry: { kind: 'message', text: 'hi', clientId: 'mine-msg-xxxx' }, reply }));
    expect(sent.ok).toBe(true);
    const reacted = await live.ask('idle', (reply) => ({
      kind: 'send',
      author: alice,
      entry: { kind: 'reaction', text: '', clientId: 'mine-react-xx', target: 1, emoji: '👍', on: true },
      reply,
    }));
    expect(reacted.ok).toBe(true);
    await live.root.cancel();
    // A new registry on the same store: the room has no fiber, so its scrollback is read straight from the store.
    const idle = setupOn(store);
    expect(idle.rooms.size).toBe(0);
    const mine = (a: Ack<unknown>) => (a.ok ? (a as unknown as { messages: Message[] }).messages[0]?.reactions?.[0]?.mine : a.error.code);
    const history = await idle.ask('idle', (reply) => ({ kind: 'history', range: { before: 100 }, limit: 10, viewer: alice.userId, reply }));
    const page = await idle.ask('idle', (reply) => ({ kind: 'page', before: 100, limit: 10, viewer: alice.userId, reply }));
    expect(idle.rooms.size).toBe(0);
    expect([mine(history), mine(page)]).toEqual([true, true]);
    const stranger = await idle.ask('idle', (reply) => ({ kind: 'history', range: { before: 100 }, limit: 10, viewer: 'u-other', reply }));
    expect(mine(stranger)).toBe(false);
    await idle.root.cancel();
  });
});

function setupOn(store: MemoryStore) {
  const root = Fiber.root('test', () => {});
  const rooms = new RoomRegistry(root, store, roomOptions(defaultConfig()));
  const ask = (room: string, build: (reply: (a: Ack<unknown>) => void) => RoomCommand) =>
    new Promise<Ack<unknown>>((resolve) => rooms.dispatch(room, build(resolve)));
  return { root, rooms, ask };
}
