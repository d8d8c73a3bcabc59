import { describe, expect, it } from 'vitest';
import type { Ack, JoinOk, MessagesEvent, OkInputOf, SendOk } from '../../shared/protocol.ts';
import type { Bus } from '../cluster/bus.ts';
import { defaultConfig, roomOptions } from '../config.ts';
import { Fiber } from '../fiber/index.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { RoomRegistry } from './registry.ts';
import type { Frame } from './frame.ts';
import type { RegistryEvents } from './registry.ts';
import type { Identity, RoomCommand, Subscriber } from './types.ts';

const alice: Identity = { userId: 'u-alice', name: 'alice' };
const bob: Identity = { userId: 'u-bob', name: 'bob' };

/** Records every broadcast a room made, once each, however many subscribers it went to. */
class BroadcastLog {
  events: Array<{ room: string; event: string; payload: unknown }> = [];
  readonly hooks: RegistryEvents = {
    broadcast: (room, frame) => {
      this.events.push({ room, event: frame.event, payload: frame.payload });
    },
  };
  batches(): MessagesEvent[] {
    return this.events.filter((e) => e.event === 'messages').map((e) => e.payload as MessagesEvent);
  }
  presence(): string[][] {
    return this.events.filter((e) => e.event === 'presence').map((e) => (e.payload as { members: string[] }).members);
  }
}

/** A subscriber that keeps every frame written to it. */
function sub(id: string, identity: Identity): Subscriber & { frames: Frame[] } {
  const frames: Frame[] = [];
  return { id, identity, frames, write: (f) => frames.push(f) };
}

/** A bus that carries nothing: another node's hints never arrive. */
const silentBus: Bus = { node: 'this-node', subscribe() {}, unsubscribe() {}, publish() {}, notify() {}, onNotice() {}, close: async () => {} };

function setup(opts: { idleMs?: number; mailboxCapacity?: number; bus?: Bus } = {}) {
  const errors: unknown[] = [];
  const root = Fiber.root('test', (e) => errors.push(e));
  const store = new MemoryStore();
  const bc = new BroadcastLog();
  // The registry's periodic store check is pushed out of the way: these tests see what rooms do themselves.
  const rooms = new RoomRegistry(root, store, { ...roomOptions(defaultConfig()), storeCheckMs: 3_600_000, ...opts }, bc.hooks);
  const ask = <T>(room: string, build: (reply: (a: Ack<T>) => void) => RoomCommand) =>
    new Promise<Ack<T>>((resolve) => rooms.dispatch(room, build(resolve)));
  const send = (room: string, text: string, clientId: string, who = alice) =>
    ask<SendOk>(room, (reply) => ({ kind: 'send', author: who, entry: { kind: 'message', text, clientId }, reply }));
  const join = (room: string, s: Subscriber, since?: number, epoch?: string) =>
    ask<JoinOk>(room, (reply) => ({ kind: 'join', sub: s, since, epoch, reply }));
  return { root, store, bc, rooms, ask, send, join, errors };
}

function okOf<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}

describe('room fiber', () => {
  it('assigns gap-free increasing seqs to concurrent sends, in arrival order', async () => {
    const { send, store, root } = setup();
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => send('r', `m${i}`, `client-${i.toString().padStart(4, '0')}`)));
    expect(acks.map((a) => okOf(a).seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const stored = await store.readAfter('r', 0, 1000);
    expect(stored.map((m) => m.text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    await root.cancel();
  });

  it('commits a turn of sends in one transaction and broadcasts it as one batch', async () => {
    const { send, store, bc, root, join } = setup();
    await join('r', sub('s1', bob));
    const before = store.commitCalls;
    await Promise.all(Array.from({ length: 50 }, (_, i) => send('r', `m${i}`, `batch-${i}-xxxx`)));
    expect(store.commitCalls - before).toBe(1);
    const batches = bc.batches();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await root.cancel();
  });

  it('stores a retried clientId once and answers with the original seq', async () => {
    const { send, store, root } = setup();
    const first = okOf(await send('r', 'hello', 'retry-me-1'));
    // Same turn, and a later turn.
    const [again, again2] = await Promise.all([send('r', 'hello', 'retry-me-1'), send('r', 'hello', 'retry-me-1')]);
    expect(okOf(again).seq).toBe(first.seq);
    expect(okOf(again2).seq).toBe(first.seq);
    expect(okOf(again).duplicate).toBe(true);
    // A different author may use the same clientId independently.
    expect(okOf(await send('r', 'hi', 'retry-me-1', bob)).seq).toBe(first.seq + 1);
    expect((await store.readAfter('r', 0, 10)).length).toBe(2);
    await root.cancel();
  });

  it('acks only after the commit: a failing store yields unavailable, no broadcast, no seq consumed', async () => {
    const { send, store, bc, root, join } = setup();
    await join('r', sub('s1', bob));
    store.failCommits = new Error('disk full');
    const ack = await send('r', 'lost?', 'will-fail-1');
    expect(ack.ok).toBe(false);
    if (!ack.ok) {
      expect(ack.error.code).toBe('unavailable');
      expect(ack.error.retryAfterMs).toBeGreaterThan(0);
    }
    expect(bc.batches()).toHaveLength(0);
    store.failCommits = undefined;
    // The client's retry with the same clientId succeeds, at seq 1: nothing lost, no gap.
    expect(okOf(await send('r', 'lost?', 'will-fail-1')).seq).toBe(1);
    await root.cancel();
  });

  it('join returns the latest page, lastSeq, members, and subscribes atomically', async () => {
    const { send, join, bc, root } = setup();
    for (let i = 0; i < 60; i++) await send('r', `m${i}`, `seed-${i}-xxxx`);
    const s = sub('s1', alice);
    const j = okOf(await join('r', s));
    expect(j.lastSeq).toBe(60);
    expect(j.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    expect(j.members).toEqual(['alice']);
    expect(j.recovered).toBe(true);
    // Subscribed in the same step: the presence its join caused is the first thing written to it.
    expect(s.frames.map((f) => f.event)).toEqual(['presence']);
    expect(bc.presence()).toEqual([['alice']]);
    await root.cancel();
  });

  it("the room's own list is who hears it: one frame per broadcast for every subscriber, none after a leave or a kick", async () => {
    const { send, join, ask, rooms, root } = setup();
    const [a, b, c] = [sub('a', alice), sub('b', bob), sub('c', { userId: 'u-carol', name: 'carol' })];
    for (const x of [a, b, c]) await join('r', x);
    const mark = [a, b, c].map((x) => x.frames.length);
    await send('r', 'one', 'seam-one-xxxx');
    const written = [a, b, c].map((x, i) => x.frames.slice(mark[i]));
    // The same object to each: a carrier encodes it once, however many subscribers it has.
    expect(written.map((w) => w.map((f) => f.event))).toEqual([['messages'], ['messages'], ['messages']]);
    expect(written[1]?.[0]).toBe(written[0]?.[0]);
    expect(written[2]?.[0]).toBe(written[0]?.[0]);
    okOf(await ask<object>('r', (reply) => ({ kind: 'leave', sub: b, reply })));
    rooms.dispatch('r', { kind: 'kick', userId: 'u-carol' });
    const after = [a, b, c].map((x) => x.frames.length);
    await send('r', 'two', 'seam-two-xxxx');
    const texts = (x: { frames: Frame[] }, from: number) =>
      x.frames.slice(from).flatMap((f) => (f.event === 'messages' ? (f.payload as MessagesEvent).messages.map((m) => m.text) : []));
    expect(texts(a, after[0] ?? 0)).toEqual(['two']);
    expect(texts(b, after[1] ?? 0)).toEqual([]);
    expect(texts(c, after[2] ?? 0)).toEqual([]);
    await root.cancel();
  });

  it('a join racing with sends sees every message exactly once (history or live)', async () => {
    const { send, join, bc, root } = setup();
    const sends = Array.from({ length: 30 }, (_, i) => send('r', `m${i}`, `race-${i}-xxxx`));
    const s = sub('late', bob);
    const joined = join('r', s);
    sends.push(...Array.from({ length: 30 }, (_, i) => send('r', `n${i}`, `race2-${i}-xxxx`)));
    await Promise.all(sends);
    const j = okOf(await joined);
    const live = bc.batches().flatMap((b) => b.messages.map((m) => m.seq)).filter((seq) => seq > j.lastSeq);
    const seen = [...j.messages.map((m) => m.seq), ...live];
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1).slice(-seen.length));
    expect(Math.max(...seen)).toBe(60);
    expect(new Set(seen).size).toBe(seen.length);
    await root.cancel();
  });

  it('resume: since replays exactly the missed messages; a foreign epoch or a seq from the future is "not recovered"', async () => {
    const { send, join, root } = setup();
    for (let i = 0; i < 10; i++) await send('r', `m${i}`, `resume-${i}-xxx`);
    const first = okOf(await join('r', sub('a', alice)));
    const replay = okOf(await join('r', sub('b', alice), 7, first.epoch));
    expect(replay.recovered).toBe(true);
    expect(replay.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    const upToDate = okOf(await join('r', sub('c', alice), 10, first.epoch));
    expect(upToDate.messages).toEqual([]);
    const otherEpoch = okOf(await join('r', sub('d', alice), 7, 'some-other-epoch'));
    expect(otherEpoch.recovered).toBe(false);
    expect(otherEpoch.messages.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const future = okOf(await join('r', sub('e', alice), 99, first.epoch));
    expect(future.recovered).toBe(false);
    await root.cancel();
  });

  it('presence counts a user with two connections once', async () => {
    const { join, ask, bc, root } = setup();
    const tab1 = sub('t1', alice);
    const tab2 = sub('t2', alice);
    await join('r', tab1);
    const j = okOf(await join('r', tab2));
    expect(j.members).toEqual(['alice']);
    await join('r', sub('b1', bob));
    await ask<object>('r', (reply) => ({ kind: 'leave', sub: tab1, reply }));
    expect(bc.presence()).toEqual([['alice'], ['alice', 'bob']]); // tab1 leaving changes nothing
    const again = await ask<object>('r', (reply) => ({ kind: 'leave', sub: tab1, reply }));
    expect(again.ok).toBe(false);
    await root.cancel();
  });

  it('a full mailbox answers unavailable with a retry hint instead of growing', async () => {
    const { send, root } = setup({ mailboxCapacity: 8 });
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => send('r', `m${i}`, `full-${i}-xxxx`)));
    const refused = acks.filter((a) => !a.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) if (!a.ok) expect(a.error).toMatchObject({ code: 'unavailable', retryAfterMs: 250 });
    const seqs = acks.flatMap((a) => (a.ok ? [a.seq] : []));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    await root.cancel();
  });

  it('an idle room with no subscribers retires and comes back with its log', async () => {
    const { send, rooms, root, store } = setup({ idleMs: 20 });
    await send('r', 'before', 'idle-1-xxxx');
    expect(rooms.size).toBe(1);
    await expect.poll(() => rooms.size, { timeout: 2000 }).toBe(0);
    expect(okOf(await send('r', 'after', 'idle-2-xxxx')).seq).toBe(2);
    expect((await store.readAfter('r', 0, 10)).map((m) => m.text)).toEqual(['before', 'after']);
    await root.cancel();
  });

  it('when another writer committed meanwhile, reads the missing range back and delivers every seq once, in order', async () => {
    const { send, join, store, bc, root } = setup();
    okOf(await send('r', 'ours 1', 'ours-1-xxxx'));
    await join('r', sub('s1', bob));
    // Another node commits two messages to the same room through the shared store.
    const other = await store.commit(
      'r',
      ['theirs 1', 'theirs 2'].map((text, i) => ({ id: `t${i}`, clientId: `theirs-${i}-xxxx`, author: 'carol', authorId: 'u-carol', text, ts: 1, kind: 'message' as const })),
      'ignored',
    );
    expect(other.results.map((r) => ('message' in r ? r.message.seq : 0))).toEqual([2, 3]);
    // The room's cached lastSeq (1) is stale; its next commit gets seq 4 from the store.
    expect(okOf(await send('r', 'ours 2', 'ours-2-xxxx')).seq).toBe(4);
    // The ack is durable at once; the broadcast follows the read of the missing range.
    const delivered = () => bc.batches().flatMap((b) => b.messages.map((m) => [m.seq, m.text]));
    await expect.poll(delivered).toEqual([
      [1, 'ours 1'],
      [2, 'theirs 1'],
      [3, 'theirs 2'],
      [4, 'ours 2'],
    ]);
    // A join afterwards sees the room's true end.
    expect(okOf(await join('r', sub('s2', alice))).lastSeq).toBe(4);
    await root.cancel();
  });

  it('in a cluster, a join or a read first catches up with what other nodes committed, whatever the bus said', async () => {
    const { send, join, ask, store, bc, root } = setup({ bus: silentBus });
    okOf(await send('r', 'ours 1', 'ours-1-xxxx'));
    await join('r', sub('s1', bob));
    await store.commit(
      'r',
      ['theirs 1', 'theirs 2'].map((text, i) => ({ id: `t${i}`, clientId: `theirs-${i}-xxxx`, author: 'carol', authorId: 'u-carol', text, ts: 1, kind: 'message' as const })),
      'ignored',
    );
    // No hint came: the poll still answers with both, and the subscriber is delivered them first.
    const page = okOf(await ask<OkInputOf<'page'>>('r', (reply) => ({ kind: 'page', after: 1, limit: 50, reply })));
    expect(page.messages.map((m) => m.seq)).toEqual([2, 3]);
    expect(page.lastSeq).toBe(3);
    expect(bc.batches().flatMap((b) => b.messages.map((m) => m.seq))).toEqual([1, 2, 3]);
    // A client that saw seq 4 on another node resumes here: seq 4 is not "from the future".
    await store.commit('r', [{ id: 't9', clientId: 'theirs-9-xxxx', author: 'carol', authorId: 'u-carol', text: 'theirs 3', ts: 1, kind: 'message' }], 'ignored');
    const resumed = okOf(await join('r', sub('s2', alice), 4, page.epoch));
    expect(resumed.recovered).toBe(true);
    expect(resumed.messages).toEqual([]);
    await root.cancel();
  });

  it('when reading back another writer\'s messages fails, broadcasts nothing out of order: the range comes later, whole', async () => {
    const { send, join, ask, store, bc, root } = setup({ bus: silentBus });
    okOf(await send('r', 'ours 1', 'ours-1-xxxx'));
    await join('r', sub('s1', bob));
    await store.commit('r', [{ id: 't1', clientId: 'theirs-1-xxxx', author: 'carol', authorId: 'u-carol', text: 'theirs 1', ts: 1, kind: 'message' }], 'ignored');
    const readAfter = store.readAfter.bind(store);
    store.readAfter = async () => {
      throw new Error('connection lost');
    };
    // Committed as seq 3 (the store orders), but seq 2 cannot be read: seq 3 is not broadcast alone.
    expect(okOf(await send('r', 'ours 2', 'ours-2-xxxx')).seq).toBe(3);
    expect(bc.batches().flatMap((b) => b.messages.map((m) => m.seq))).toEqual([1]);
    store.readAfter = readAfter;
    // The next read of the room (here a poll; also a hint, a store check or a commit) delivers 2 and 3, in order.
    okOf(await ask<OkInputOf<'page'>>('r', (reply) => ({ kind: 'page', after: 3, limit: 50, reply })));
    expect(bc.batches().flatMap((b) => b.messages.map((m) => m.seq))).toEqual([1, 2, 3]);
    await root.cancel();
  });

  it('reports every store failure by kind and answers unavailable', async () => {
    const failures: Array<[string, string]> = [];
    const root = Fiber.root('test', () => {});
    const store = new MemoryStore();
    const rooms = new RoomRegistry(root, store, roomOptions(defaultConfig()), {
      failed: (room, kind) => failures.push([room, kind]),
    });
    const ask = <T>(build: (reply: (a: Ack<T>) => void) => RoomCommand) => new Promise<Ack<T>>((resolve) => rooms.dispatch('r', build(resolve)));
    await ask<SendOk>((reply) => ({ kind: 'send', author: alice, entry: { kind: 'message', text: 'a', clientId: 'fail-1-xxxx' }, reply }));
    store.failCommits = new Error('disk full');
    const sent = await ask<SendOk>((reply) => ({ kind: 'send', author: alice, entry: { kind: 'message', text: 'b', clientId: 'fail-2-xxxx' }, reply }));
    store.failCommits = undefined;
    store.failReads = new Error('io error');
    const read = await ask<unknown>((reply) => ({ kind: 'history', range: { before: 10 }, limit: 5, reply }));
    store.failReads = undefined;
    // A join whose read succeeds but whose membership write fails is counted as that, not as a read.
    const addMember = store.addMember.bind(store);
    store.addMember = () => Promise.reject(new Error('database is locked'));
    const joined = await ask<JoinOk>((reply) => ({ kind: 'join', sub: sub('j', alice), reply }));
    store.addMember = addMember;
    expect([sent, read, joined].map((a) => (a.ok ? 'ok' : a.error.code))).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(failures).toEqual([
      ['r', 'commit'],
      ['r', 'read'],
      ['r', 'membership'],
    ]);
    await root.cancel();
  });

  it('shutdown drains every queued send into the store before it resolves', async () => {
    const { rooms, store, send, root } = setup();
    const pending = Array.from({ length: 100 }, (_, i) => send(`room-${i % 5}`, `m${i}`, `drain-${i}-xxxx`));
    await rooms.shutdown();
    const acks = await Promise.all(pending);
    expect(acks.every((a) => a.ok)).toBe(true);
    let stored = 0;
    for (let r = 0; r < 5; r++) stored += (await store.readAfter(`room-${r}`, 0, 1000)).length;
    expect(stored).toBe(100);
    // After shutdown nothing is accepted silently.
    const late = await send('room-0', 'late', 'late-1-xxxx');
    expect(late.ok).toBe(false);
    await root.cancel();
  });

  it('a room whose log fails to load answers unavailable and recovers on next use', async () => {
    const { store, send, errors, root } = setup();
    const open = store.roomLog.bind(store);
    let failures = 2; // the fiber's load, and the retry its drain makes
    store.roomLog = async (room) => {
      if (failures > 0) {
        failures--;
        throw new Error('cannot open');
      }
      return open(room);
    };
    const first = await send('r', 'x', 'load-1-xxxx');
    expect(first.ok).toBe(false);
    expect(okOf(await send('r', 'x', 'load-1-xxxx')).seq).toBe(1);
    expect(errors).toHaveLength(0); // contained by the rooms supervisor, not the root
    await root.cancel();
  });
});
