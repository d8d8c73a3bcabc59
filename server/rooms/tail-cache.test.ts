import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS, type Ack, type JoinOk, type Message, type OkInputOf, type SendOk } from '../../shared/protocol.ts';
import type { Bus } from '../cluster/bus.ts';
import { defaultConfig, roomOptions } from '../config.ts';
import { Fiber } from '../fiber/index.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { newestWithin, pageAfter, pageBefore, readWithin } from './pages.ts';
import { RoomRegistry } from './registry.ts';
import { MAX_ENTRIES, MAX_ROOM_BYTES, TailCache, entryBytes } from './tail-cache.ts';
import type { EntryDraft, Identity, RoomCommand, Subscriber } from './types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sqliteStore(): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-tail-'));
  dirs.push(dir);
  return new SqliteStore({ file: join(dir, 'chat.db') });
}

const USERS: Identity[] = Array.from({ length: 24 }, (_, i) => ({ userId: `u${i}`, name: `user ${i}` }));
const EMOJIS = ['👍', '🎉', '❤️'];

/** A bus that carries nothing: only the store tells one node what another committed. */
function silentBus(node: string): Bus {
  return { node, subscribe() {}, unsubscribe() {}, publish() {}, notify() {}, onNotice() {}, close: async () => {} };
}

/** A registry (one node) over `store`, with a tail cache, and its commands as promises. */
function node(store: Store, cache: TailCache | undefined, bus?: Bus) {
  const root = Fiber.root('test', (e) => {
    throw e;
  });
  const rooms = new RoomRegistry(root, store, { ...roomOptions(defaultConfig()), storeCheckMs: 3_600_000, tailCache: cache, bus });
  const ask = <T>(room: string, build: (reply: (a: Ack<T>) => void) => RoomCommand) =>
    new Promise<Ack<T>>((resolve) => rooms.dispatch(room, build(resolve)));
  let subs = 0;
  const sub = (identity: Identity): Subscriber => ({ id: `s${subs++}`, identity, write() {} });
  return {
    root,
    send: (room: string, who: Identity, entry: EntryDraft) => ask<SendOk>(room, (reply) => ({ kind: 'send', author: who, entry, reply })),
    join: (room: string, who: Identity, since?: number) => ask<JoinOk>(room, (reply) => ({ kind: 'join', sub: sub(who), since, reply })),
    history: (room: string, before: number, limit: number, viewer?: string) =>
      ask<OkInputOf<'history'>>(room, (reply) => ({ kind: 'history', range: { before }, limit, viewer, reply })),
    page: (room: string, q: { after?: number; before?: number; limit: number; viewer?: string | undefined }) =>
      ask<OkInputOf<'page'>>(room, (reply) => ({ kind: 'page', ...q, reply })),
  };
}

function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}

// ----- what the store alone answers (the rules of Room.resume and pages.ts) -----

async function latestFromStore(store: Store, room: string, last: number, limit: number, viewer?: string): Promise<Message[]> {
  return last === 0 ? [] : newestWithin(await store.readBefore(room, last + 1, limit, viewer));
}

async function replayFromStore(store: Store, room: string, last: number, since: number, viewer?: string): Promise<Message[]> {
  if (since === last) return [];
  if (since > last) return latestFromStore(store, room, last, LIMITS.joinPage, viewer);
  const replay = await readWithin(store, room, since, last - since, LIMITS.replayMaxBytes, viewer);
  return replay.complete ? replay.messages : latestFromStore(store, room, last, LIMITS.joinPage, viewer);
}

// ----- random histories -----

type Op =
  | { t: 'send'; who: number; chars: number; reply: number | undefined; mention: number | undefined }
  | { t: 'burst'; count: number; chars: number }
  | { t: 'edit'; who: number; target: number; chars: number }
  | { t: 'delete'; who: number; target: number }
  | { t: 'react'; who: number; target: number; emoji: number; on: boolean }
  | { t: 'crowd'; target: number | undefined; emoji: number }
  | { t: 'read'; viewer: number | undefined; how: 'join' | 'resume' | 'history' | 'after' | 'before' | 'latest'; at: number; limit: number };

const who = fc.nat({ max: USERS.length - 1 });
const frac = fc.double({ min: 0, max: 1, noNaN: true });
/** Mostly short texts, sometimes the longest allowed, so that pages and tails meet their byte bounds. */
const chars = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 80 }) }, { weight: 1, arbitrary: fc.constant(4000) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('send' as const), who, chars, reply: fc.option(frac, { nil: undefined }), mention: fc.option(who, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('burst' as const), count: fc.integer({ min: 2, max: 120 }), chars }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('edit' as const), who, target: frac, chars }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), who, target: frac }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('react' as const), who, target: frac, emoji: fc.nat({ max: EMOJIS.length - 1 }), on: fc.boolean() }) },
  // The newest message, or any.
  { weight: 1, arbitrary: fc.record({ t: fc.constant('crowd' as const), target: fc.option(frac, { nil: undefined }), emoji: fc.nat({ max: EMOJIS.length - 1 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('read' as const),
      // Often one of those a crowd of reactors has but a page does not list.
      viewer: fc.option(fc.oneof(who, fc.integer({ min: USERS.length - 4, max: USERS.length - 1 })), { nil: undefined }),
      how: fc.constantFrom('join' as const, 'resume' as const, 'history' as const, 'after' as const, 'before' as const, 'latest' as const),
      at: frac,
      limit: fc.integer({ min: 1, max: LIMITS.historyMaxPage }),
    }),
  },
);

const text = (n: number, tag: string) => `${tag} `.padEnd(n, 'x');

/**
 * Plays `ops` on one room through a node with a tail cache, and checks every
 * read against what the store alone answers for the same question.
 */
async function play(store: Store, cache: TailCache, ops: Op[]): Promise<void> {
  const n = node(store, cache);
  const room = 'r';
  let last = 0;
  let k = 0;
  const seqAt = (f: number) => 1 + Math.min(last - 1, Math.floor(f * last));
  const sent = async (who: Identity, entry: Omit<EntryDraft, 'clientId'>) => {
    const a = await n.send(room, who, { ...entry, clientId: `c${k++}` });
    if (a.ok && a.seq > last) last = a.seq;
  };
  for (const o of ops) {
    switch (o.t) {
      case 'send': {
        const replyTo = o.reply !== undefined && last > 0 ? seqAt(o.reply) : undefined;
        const mentions = o.mention !== undefined ? [(USERS[o.mention] as Identity).userId] : undefined;
        await sent(USERS[o.who] as Identity, { kind: 'message', text: text(o.chars, `m${k}`), replyTo, mentions });
        break;
      }
      case 'burst':
        await Promise.all(Array.from({ length: o.count }, (_, i) => sent(USERS[i % USERS.length] as Identity, { kind: 'message', text: text(o.chars, `b${k}`) })));
        break;
      case 'edit':
        if (last > 0) await sent(USERS[o.who] as Identity, { kind: 'edit', target: seqAt(o.target), text: text(o.chars, `e${k}`) });
        break;
      case 'delete':
        if (last > 0) await sent(USERS[o.who] as Identity, { kind: 'delete', target: seqAt(o.target), text: '' });
        break;
      case 'react':
        if (last > 0) await sent(USERS[o.who] as Identity, { kind: 'reaction', target: seqAt(o.target), emoji: EMOJIS[o.emoji], on: o.on, text: '' });
        break;
      case 'crowd':
        // More reactors than a page lists (all but the last user): `mine` is then unknown for a viewer not listed.
        if (last > 0) {
          const target = o.target === undefined ? last : seqAt(o.target);
          await Promise.all(USERS.slice(0, -1).map((u) => sent(u, { kind: 'reaction', target, emoji: EMOJIS[o.emoji], on: true, text: '' })));
        }
        break;
      case 'read':
        await read(o);
        break;
    }
  }

  async function read(o: Extract<Op, { t: 'read' }>): Promise<void> {
    const viewer = o.viewer === undefined ? undefined : (USERS[o.viewer] as Identity);
    const at = Math.floor(o.at * (last + 1)); // 0..last, and last + 1 (beyond the end) now and then
    switch (o.how) {
      case 'join': {
        const a = ok(await n.join(room, viewer ?? (USERS[0] as Identity)));
        expect(a.lastSeq).toBe(last);
        expect(a.messages).toStrictEqual(await latestFromStore(store, room, last, LIMITS.joinPage, (viewer ?? (USERS[0] as Identity)).userId));
        return;
      }
      case 'resume': {
        const v = viewer ?? (USERS[0] as Identity);
        const a = ok(await n.join(room, v, at));
        expect(a.messages).toStrictEqual(await replayFromStore(store, room, last, at, v.userId));
        return;
      }
      case 'history': {
        const a = ok(await n.history(room, at + 1, o.limit, viewer?.userId));
        expect(a.messages).toStrictEqual(await pageBefore(store, room, at + 1, o.limit, viewer?.userId));
        return;
      }
      case 'before': {
        const a = ok(await n.page(room, { before: at + 1, limit: o.limit, viewer: viewer?.userId }));
        expect(a.messages).toStrictEqual(await pageBefore(store, room, at + 1, o.limit, viewer?.userId));
        return;
      }
      case 'after': {
        const a = ok(await n.page(room, { after: at, limit: o.limit, viewer: viewer?.userId }));
        const expected =
          at === last
            ? []
            : at > last
              ? await latestFromStore(store, room, last, o.limit, viewer?.userId)
              : await pageAfter(store, room, at, Math.min(last - at, o.limit), viewer?.userId);
        expect(a.messages).toStrictEqual(expected);
        return;
      }
      case 'latest': {
        const a = ok(await n.page(room, { limit: o.limit, viewer: viewer?.userId }));
        expect(a.messages).toStrictEqual(await latestFromStore(store, room, last, o.limit, viewer?.userId));
        return;
      }
    }
  }
}

describe('tail cache', () => {
  for (const [name, make] of [
    ['MemoryStore', () => new MemoryStore()],
    ['SqliteStore', sqliteStore],
  ] as const) {
    it(`answers every read as the store does, through sends, replies, edits, deletes and reactions (${name})`, async () => {
      let hits = 0;
      let misses = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
          const store = make();
          const cache = new TailCache(64 * 1024 * 1024, { read: (r) => (r === 'hit' ? hits++ : misses++) });
          try {
            await play(store, cache, ops);
          } finally {
            await store.close();
          }
        }),
        { numRuns: 60 },
      );
      // The comparison is only worth something if the tail answered part of it. How much depends on the
      // random share of changes (each drops the tail), so the share is not asserted: the join test below
      // shows a held tail answering with no store read at all.
      expect(hits).toBeGreaterThan(0);
      expect(misses).toBeGreaterThan(0);
    }, 120_000);
  }

  it('answers a join in a room it holds without reading the store', async () => {
    const store = new MemoryStore();
    const n = node(store, new TailCache(1024 * 1024));
    for (let i = 0; i < 60; i++) ok(await n.send('r', USERS[0] as Identity, { kind: 'message', text: `m${i}`, clientId: `c${i}` }));
    ok(await n.join('r', USERS[1] as Identity));
    let reads = 0;
    const readBefore = store.readBefore.bind(store);
    const readAfter = store.readAfter.bind(store);
    store.readBefore = (...args) => (reads++, readBefore(...args));
    store.readAfter = (...args) => (reads++, readAfter(...args));
    const a = ok(await n.join('r', USERS[2] as Identity));
    expect(a.messages.map((m) => m.seq)).toEqual(Array.from({ length: LIMITS.joinPage }, (_, i) => 11 + i));
    ok(await n.send('r', USERS[0] as Identity, { kind: 'message', text: 'one more', clientId: 'c-more' }));
    expect(ok(await n.join('r', USERS[3] as Identity, 55)).messages.map((m) => m.text)).toEqual(['m55', 'm56', 'm57', 'm58', 'm59', 'one more']);
    expect(ok(await n.history('r', 20, 10)).messages.map((m) => m.seq)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(reads).toBe(0);
    // A change to an earlier message drops the tail: the next read sees it from the store.
    ok(await n.send('r', USERS[0] as Identity, { kind: 'edit', target: 60, text: 'edited', clientId: 'c-edit' }));
    expect(ok(await n.join('r', USERS[2] as Identity)).messages.find((m) => m.seq === 60)?.text).toBe('edited');
    expect(reads).toBeGreaterThan(0);
  });

  it('keeps every tail within its caps and all of them within the budget, dropping the least recently read', async () => {
    const budget = 600_000;
    let evictions = 0;
    const cache = new TailCache(budget, { evicted: (k) => (evictions += k) });
    const store = new MemoryStore();
    const n = node(store, cache);
    const held = () => {
      let bytes = 0;
      for (let r = 0; r < 12; r++) {
        const entries = cache.held(`room-${r}`) ?? [];
        expect(entries.length).toBeLessThanOrEqual(MAX_ENTRIES);
        const own = entries.reduce((s, m) => s + entryBytes(m), 0);
        expect(own).toBeLessThanOrEqual(MAX_ROOM_BYTES);
        bytes += own;
      }
      expect(cache.bytes).toBe(bytes);
      expect(cache.bytes).toBeLessThanOrEqual(budget);
    };
    for (let round = 0; round < 3; round++) {
      for (let r = 0; r < 12; r++) {
        const room = `room-${r}`;
        // Long messages in some rooms (the byte cap), many short ones in others (the entry cap).
        const long = r % 2 === 0;
        await Promise.all(
          Array.from({ length: long ? 40 : 150 }, (_, i) =>
            n.send(room, USERS[i % USERS.length] as Identity, { kind: 'message', text: text(long ? 4000 : 20, `${round}-${i}`), clientId: `c${round}-${i}` }),
          ),
        );
        held();
        const page = ok(await n.page(room, { limit: LIMITS.historyMaxPage }));
        expect(page.messages.at(-1)?.seq).toBe(page.lastSeq);
        held();
      }
    }
    expect(evictions).toBeGreaterThan(0);
    expect(cache.rooms).toBeLessThan(12);
    // The most recently read room is held; the least recently read ones went first.
    expect(cache.held('room-11')).toBeDefined();
    expect(cache.held('room-0')).toBeUndefined();
  });

  it('in a cluster, never answers from a tail that another node has changed behind it', async () => {
    const store = new MemoryStore();
    // Each node keeps its own tail; the bus loses every hint, so only the store tells A what B did.
    const a = node(store, new TailCache(1024 * 1024), silentBus('a'));
    const b = node(store, new TailCache(1024 * 1024), silentBus('b'));
    const alice = USERS[0] as Identity;
    for (let i = 1; i <= 5; i++) ok(await a.send('r', alice, { kind: 'message', text: `m${i}`, clientId: `c${i}` }));
    ok(await a.join('r', alice));
    ok(await a.history('r', 6, 50));
    ok(await b.send('r', alice, { kind: 'edit', target: 2, text: 'edited on b', clientId: 'c-edit' }));
    expect(ok(await a.history('r', 6, 50)).messages.find((m) => m.seq === 2)?.text).toBe('edited on b');
    ok(await a.join('r', alice));
    ok(await b.send('r', alice, { kind: 'message', text: 'sent on b', clientId: 'c-b' }));
    ok(await b.send('r', USERS[1] as Identity, { kind: 'reaction', target: 3, emoji: '👍', on: true, text: '', clientId: 'c-react' }));
    const page = ok(await a.page('r', { limit: 50, viewer: (USERS[1] as Identity).userId }));
    expect(page.lastSeq).toBe(8);
    expect(page.messages.find((m) => m.seq === 3)?.reactions).toEqual([{ emoji: '👍', count: 1, mine: true, users: [USERS[1]] }]);
    expect(ok(await a.join('r', alice, 5)).messages.map((m) => m.seq)).toEqual([6, 7, 8]);
    expect(ok(await a.history('r', 9, 50)).messages).toStrictEqual(await pageBefore(store, 'r', 9, 50));
  });
});
