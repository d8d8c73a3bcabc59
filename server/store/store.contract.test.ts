import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../shared/protocol.ts';
import type { PostgresService } from '../../scripts/services/index.ts';
import { SCHEMA_VERSION } from './pg-schema.ts';
import { PgStore } from './pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { ensurePostgres, pgUrl, postgresService, resetPg, sqliteFile, testStores } from './test-stores.ts';
import { MY_ROOMS_CAP, type Committed, type Draft, type Store } from './store.ts';

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `id-${n}`, clientId: `client-${n.toString().padStart(4, '0')}`, author: 'alice', authorId: 'u1', text, ts: 1000 + n, kind: 'message', ...extra };
}

/** A result that stored (or found) an entry; fails the test on a refusal. */
function ok(c: Committed | undefined): { message: Message; duplicate: boolean; unchanged?: boolean } {
  if (!c || !('message' in c)) throw new Error(`expected a stored entry, got ${JSON.stringify(c)}`);
  return c;
}

const impls = testStores();

describe.each(impls)('%s contract', (_name, impl) => {
  beforeAll(async () => {
    await impl.setup?.();
  }, 120_000);
  beforeEach(async () => {
    await impl.reset?.();
  });

  it('knows nothing of a room before its first message, and writes nothing to say so', async () => {
    const s = impl.make();
    expect(await s.roomLog('lobby')).toBeUndefined();
    expect(await s.readAfter('lobby', 0, 10)).toEqual([]);
    expect(await s.readBefore('lobby', 100, 10)).toEqual([]);
    const none = await s.commit('lobby', [], 'epoch-a');
    expect(none.results).toEqual([]);
    expect(await s.roomLog('lobby')).toBeUndefined();
    await s.close();
  });

  it('creates the room with its first message, under the proposed epoch, and keeps that epoch', async () => {
    const s = impl.make();
    const first = await s.commit('lobby', [draft('hi')], 'epoch-a');
    expect(first.log).toEqual({ epoch: 'epoch-a', lastSeq: 1 });
    expect(await s.roomLog('lobby')).toEqual({ epoch: 'epoch-a', lastSeq: 1 });
    const second = await s.commit('lobby', [draft('again')], 'epoch-b');
    expect(second.log).toEqual({ epoch: 'epoch-a', lastSeq: 2 });
    expect((await s.commit('other', [draft('x')], 'epoch-c')).log.epoch).toBe('epoch-c');
    await s.close();
  });

  it('assigns gap-free seqs and reads ranges in seq order', async () => {
    const s = impl.make();
    const a = await s.commit('r', [draft('one'), draft('two', { clientId: 'client-two' })], 'e');
    expect(a.results.map((r) => [ok(r).message.seq, ok(r).duplicate])).toEqual([
      [1, false],
      [2, false],
    ]);
    await s.commit('r', [draft('three')], 'e');
    expect((await s.roomLog('r'))?.lastSeq).toBe(3);
    expect((await s.readAfter('r', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await s.readAfter('r', 1, 1)).map((m) => m.seq)).toEqual([2]);
    expect((await s.readBefore('r', 3, 10)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await s.readBefore('r', 4, 2)).map((m) => m.seq)).toEqual([2, 3]);
    expect(await s.readBefore('r', 1, 10)).toEqual([]);
    expect(await s.readAfter('r', 3, 10)).toEqual([]);
    const [two] = await s.readAfter('r', 1, 1);
    expect(two).toEqual({ ...ok(a.results[1]).message });
    expect(two).toMatchObject({ room: 'r', seq: 2, text: 'two', clientId: 'client-two', author: 'alice', authorId: 'u1' });
    await s.close();
  });

  it('stores a retried clientId once, in a later batch or the same one, and answers with the original', async () => {
    const s = impl.make();
    const original = draft('hello', { clientId: 'retry-0001' });
    const first = await s.commit('r', [original], 'e');
    const again = await s.commit('r', [draft('hello', { clientId: 'retry-0001' }), draft('new'), draft('new', { clientId: 'retry-0001' })], 'e');
    expect(again.results.map((r) => [ok(r).message.seq, ok(r).duplicate])).toEqual([
      [1, true],
      [2, false],
      [1, true],
    ]);
    expect(ok(again.results[0]).message).toEqual(ok(first.results[0]).message);
    // Within one batch, the second copy of a new clientId is the duplicate.
    const twice = await s.commit('r', [draft('a', { clientId: 'twice-0001' }), draft('a', { clientId: 'twice-0001' })], 'e');
    expect(twice.results.map((r) => [ok(r).message.seq, ok(r).duplicate])).toEqual([
      [3, false],
      [3, true],
    ]);
    // Another author may use the same clientId independently.
    const bob = await s.commit('r', [draft('hi', { clientId: 'retry-0001', authorId: 'u2', author: 'bob' })], 'e');
    expect(bob.results[0]).toMatchObject({ duplicate: false, message: { seq: 4 } });
    expect((await s.readAfter('r', 0, 10)).length).toBe(4);
    await s.close();
  });

  it('gives back text exactly as sent: emoji, combining marks, newlines, quotes, 4000 code points', async () => {
    const s = impl.make();
    const texts = [
      'line one\nline two\r\n\ttabbed',
      'emoji 👩‍👩‍👧‍👦 🇫🇷 ❤️ and e\u0301 (combining), 中文, עברית',
      `quotes ' " \\ backslash, {braces}, [brackets], NULL, $1, %s`,
      '😀'.repeat(4000),
    ];
    const res = await s.commit('text', texts.map((t) => draft(t, { author: 'Zoë 🦊', authorId: 'u-ü' })), 'e');
    expect(res.results.map((r) => ok(r).message.text)).toEqual(texts);
    const read = await s.readAfter('text', 0, 10);
    expect(read.map((m) => m.text)).toEqual(texts);
    expect([...(read[3]?.text ?? '')].length).toBe(4000);
    expect(read[0]).toMatchObject({ author: 'Zoë 🦊', authorId: 'u-ü' });
    expect(read.map((m) => typeof m.seq + typeof m.ts)).toEqual(texts.map(() => 'numbernumber'));
    await s.close();
  });

  it('records edits, deletes and reactions as entries of the log, and shows messages in their current state', async () => {
    const s = impl.make();
    const bob = { author: 'bob', authorId: 'u2' };
    await s.commit('log', [draft('first', { mentions: ['u2'] }), draft('second', bob)], 'e');
    const res = await s.commit(
      'log',
      [
        draft('first, edited', { kind: 'edit', target: 1 }),
        draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true, ...bob }),
        draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true }),
        draft('', { kind: 'delete', target: 2, ...bob }),
        draft('reply', { replyTo: 1 }),
      ],
      'e',
    );
    expect(res.results.map((r) => ok(r).message.seq)).toEqual([3, 4, 5, 6, 7]);
    expect(res.log.lastSeq).toBe(7);
    // The live form: each change as it happened.
    const [edit, react] = res.results.map((r) => ok(r).message);
    expect(edit).toMatchObject({ seq: 3, kind: 'edit', target: 1, text: 'first, edited' });
    expect(react).toMatchObject({ seq: 4, kind: 'reaction', target: 1, emoji: '👍', on: true, authorId: 'u2' });
    // The page form: messages now, as a reader sees them.
    const page = await s.readAfter('log', 0, 10, 'u2');
    expect(page.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(page[0]).toMatchObject({ text: 'first, edited', editedAt: expect.any(Number) });
    expect(page[0]?.reactions).toEqual([
      { emoji: '👍', count: 2, mine: true, users: [{ userId: 'u2', name: 'bob' }, { userId: 'u1', name: 'alice' }] },
    ]);
    expect(page[1]).toMatchObject({ seq: 2, text: '', deleted: true });
    expect(page[1]?.reactions).toBeUndefined();
    expect(page[6]).toMatchObject({ text: 'reply', replyTo: 1, reply: { seq: 1, author: 'alice', text: 'first, edited' } });
    expect((await s.readBefore('log', 8, 10, 'u3'))[0]?.reactions?.[0]?.mine).toBe(false);
    await s.close();
  });

  it('refuses what the log rules forbid, storing nothing and burning no seq', async () => {
    const s = impl.make();
    const bob = { author: 'bob', authorId: 'u2' };
    await s.commit('rules', [draft('alice says')], 'e');
    const res = await s.commit(
      'rules',
      [
        draft('not mine', { kind: 'edit', target: 1, ...bob }),
        draft('', { kind: 'delete', target: 1, ...bob }),
        draft('nothing there', { kind: 'edit', target: 99 }),
        draft('', { kind: 'reaction', target: 99, emoji: '🎉', on: true }),
        draft('reply to nothing', { replyTo: 50 }),
      ],
      'e',
    );
    expect(res.results.map((r) => ('refused' in r ? r.refused : 'stored'))).toEqual(['forbidden', 'forbidden', 'not_found', 'not_found', 'not_found']);
    expect(res.log.lastSeq).toBe(1);
    // Whoever moderates the room (the edge read their role: `staff`) may delete others' messages, and the
    // tombstone says a moderator removed it; without the role, nobody may. Nobody may change a tombstone.
    await s.commit('rules', [draft('bob says', bob)], 'e');
    const plain = await s.commit('rules', [draft('', { kind: 'delete', target: 2 })], 'e');
    expect(plain.results[0]).toMatchObject({ refused: 'forbidden' });
    const del = await s.commit('rules', [draft('', { kind: 'delete', target: 2, staff: true })], 'e');
    expect(ok(del.results[0]).message).toMatchObject({ seq: 3, kind: 'delete', target: 2, mod: { action: 'delete' } });
    expect((await s.readAfter('rules', 1, 1))[0]).toMatchObject({ seq: 2, deleted: true, text: '', mod: { action: 'delete' } });
    const after = await s.commit('rules', [draft('too late', { kind: 'edit', target: 2, ...bob })], 'e');
    expect(after.results[0]).toMatchObject({ refused: 'not_found' });
    await s.close();
  });

  it('stores moderation entries with their note, and refuses a pin of a message that is not there', async () => {
    const s = impl.make();
    await s.commit('mods', [draft('pin me')], 'e');
    const pin = await s.commit('mods', [draft('', { kind: 'moderation', target: 1, mod: { action: 'pin' } })], 'e');
    expect(ok(pin.results[0]).message).toMatchObject({ seq: 2, kind: 'moderation', target: 1, mod: { action: 'pin' } });
    const mute = await s.commit('mods', [draft('', { kind: 'moderation', mod: { action: 'mute', user: { userId: 'u-c', name: 'carol' }, seconds: 600 } })], 'e');
    expect(ok(mute.results[0]).message.seq).toBe(3);
    const missing = await s.commit('mods', [draft('', { kind: 'moderation', target: 9, mod: { action: 'pin' } })], 'e');
    expect(missing.results[0]).toMatchObject({ refused: 'not_found' });
    const read = await s.readAfter('mods', 0, 10);
    expect(read.map((m) => m.kind ?? 'message')).toEqual(['message', 'moderation', 'moderation']);
    expect(read[2]?.mod).toEqual({ action: 'mute', user: { userId: 'u-c', name: 'carol' }, seconds: 600 });
    await s.close();
  });

  it('takes a reaction that changes nothing as unchanged, without a seq, and a retry as a duplicate', async () => {
    const s = impl.make();
    await s.commit('re', [draft('m')], 'e');
    const on = draft('', { kind: 'reaction', target: 1, emoji: '🦊', on: true });
    expect(ok((await s.commit('re', [on], 'e')).results[0]).message.seq).toBe(2);
    const again = await s.commit('re', [draft('', { kind: 'reaction', target: 1, emoji: '🦊', on: true })], 'e');
    expect(ok(again.results[0])).toMatchObject({ unchanged: true, message: { seq: 1 } });
    expect(again.log.lastSeq).toBe(2);
    expect(ok((await s.commit('re', [on], 'e')).results[0])).toMatchObject({ duplicate: true, message: { seq: 2 } });
    const off = await s.commit('re', [draft('', { kind: 'reaction', target: 1, emoji: '🦊', on: false })], 'e');
    expect(ok(off.results[0]).message).toMatchObject({ seq: 3, on: false });
    expect((await s.readAfter('re', 0, 1))[0]?.reactions).toBeUndefined();
    await s.close();
  });

  it('wipes a deleted message and the text of its edits', async () => {
    const s = impl.make();
    await s.commit('wipe', [draft('secret'), draft('still secret', { kind: 'edit', target: 1 })], 'e');
    await s.commit('wipe', [draft('', { kind: 'delete', target: 1 })], 'e');
    const all = await s.readAfter('wipe', 0, 10);
    expect(all.map((m) => m.text)).toEqual(['', '', '']);
    expect(JSON.stringify(all)).not.toContain('secret');
    await s.close();
  });

  it('keeps members, read positions (forward only, never past the end) and unread and mention counts', async () => {
    const s = impl.make();
    const alice = { userId: 'u1', name: 'alice' };
    const bob = { userId: 'u2', name: 'bob' };
    expect(await s.addMember('pub', alice, 'member')).toBe(true);
    await s.addMember('pub', bob, 'member');
    await s.commit('pub', [draft('hi', { author: 'bob', authorId: 'u2' }), draft('@alice look', { author: 'bob', authorId: 'u2', mentions: ['u1'] }), draft('mine')], 'e');
    await s.commit('pub', [draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true, author: 'bob', authorId: 'u2' })], 'e');
    let mine = await s.memberships('u1');
    expect(mine).toEqual([expect.objectContaining({ room: 'pub', visibility: 'public', lastSeq: 4, lastRead: 0, unread: 2, mentions: 1 })]);
    expect(await s.setRead('pub', 'u1', 2)).toBe(2);
    expect(await s.setRead('pub', 'u1', 1)).toBe(2); // never back
    expect(await s.setRead('pub', 'u1', 1000)).toBe(4); // never past the end
    mine = await s.memberships('u1');
    expect(mine[0]).toMatchObject({ lastRead: 4, unread: 0, mentions: 0 });
    expect(await s.lastRead('pub', 'u2')).toBe(0);
    expect(await s.setRead('pub', 'nobody', 3)).toBe(0);
    expect(await s.removeMember('pub', 'u1')).toBe(true);
    expect(await s.memberships('u1')).toEqual([]);
    expect(await s.isMember('pub', 'u2')).toBe(true);
    await s.close();
  });

  it('creates private rooms and direct messages with owners, members, invites; lists public rooms only', async () => {
    const s = impl.make();
    expect(await s.createRoom('p-secret', { visibility: 'private', title: 'Plans', owner: 'u1' }, 'e1')).toBe(true);
    expect(await s.createRoom('p-secret', { visibility: 'private', title: 'Again', owner: 'u2' }, 'e2')).toBe(false);
    expect(await s.roomInfo('p-secret')).toEqual({ visibility: 'private', title: 'Plans', owner: 'u1' });
    expect(await s.roomInfo('nowhere')).toBeUndefined();
    await s.addMember('p-secret', { userId: 'u1', name: 'alice' }, 'owner');
    await s.addMember('p-secret', { userId: 'u2', name: 'bob' }, 'member');
    // Adding the owner again as a member keeps the owner.
    await s.addMember('p-secret', { userId: 'u1', name: 'alice' }, 'member');
    expect(await s.members('p-secret')).toEqual([
      { userId: 'u1', name: 'alice', role: 'owner' },
      { userId: 'u2', name: 'bob', role: 'member' },
    ]);
    // A member added again as they are listed stays as they are; a new name or a promotion is written.
    expect(await s.addMember('p-secret', { userId: 'u2', name: 'bob' }, 'member')).toBe(true);
    expect(await s.addMember('p-secret', { userId: 'u2', name: 'robert' }, 'member')).toBe(true);
    expect(await s.addMember('p-secret', { userId: 'u1', name: 'alicia' }, 'member')).toBe(true);
    expect(await s.members('p-secret')).toEqual([
      { userId: 'u1', name: 'alicia', role: 'owner' },
      { userId: 'u2', name: 'robert', role: 'member' },
    ]);
    await s.addMember('p-secret', { userId: 'u2', name: 'robert' }, 'owner');
    expect((await s.members('p-secret')).find((m) => m.userId === 'u2')?.role).toBe('owner');
    expect((await s.roomLog('p-secret'))?.epoch).toBe('e1');
    const c = await s.commit('p-secret', [draft('in private')], 'ignored');
    expect(c.log).toEqual({ epoch: 'e1', lastSeq: 1 });
    await s.createInvite('p-secret', 'tok-123', 'u1');
    expect(await s.inviteRoom('tok-123')).toBe('p-secret');
    expect(await s.revokeInvite('other', 'tok-123')).toBe(false);
    expect(await s.revokeInvite('p-secret', 'tok-123')).toBe(true);
    expect(await s.inviteRoom('tok-123')).toBeUndefined();
    await s.createRoom('dm-ab', { visibility: 'dm' }, 'e3');
    await s.addMember('dm-ab', { userId: 'u1', name: 'alice' }, 'member');
    await s.addMember('dm-ab', { userId: 'u2', name: 'bob' }, 'member');
    const mine = await s.memberships('u1');
    expect(mine.find((m) => m.room === 'dm-ab')).toMatchObject({ visibility: 'dm', peer: { userId: 'u2', name: 'bob' } });
    expect(mine.find((m) => m.room === 'p-secret')).toMatchObject({ visibility: 'private', title: 'Plans' });
    await s.commit('lobby', [draft('public hello')], 'e');
    await s.commit('design', [draft('public too')], 'e');
    const dir = await s.directory(undefined, 10);
    expect(dir.map((d) => d.room).sort()).toEqual(['design', 'lobby']);
    expect((await s.directory('sig', 10)).map((d) => d.room)).toEqual(['design']);
    await s.close();
  });

  it('makes room in a full list by forgetting the oldest room never read, and refuses only when every room was read', async () => {
    const s = impl.make();
    const u = { userId: 'full', name: 'full' };
    for (let i = 0; i < MY_ROOMS_CAP; i++) expect(await s.addMember(`r${String(i).padStart(3, '0')}`, u, 'member')).toBe(true);
    await s.commit('r000', [draft('read me')], 'e');
    expect(await s.setRead('r000', 'full', 1)).toBe(1);
    // The list is full: the oldest room never read (r001) gives way; r000 was read and stays.
    expect(await s.addMember('newcomer', u, 'member')).toBe(true);
    const rooms = (await s.memberships('full')).map((m) => m.room);
    expect(rooms).toHaveLength(MY_ROOMS_CAP);
    expect(rooms).toContain('r000');
    expect(rooms).not.toContain('r001');
    expect(rooms).toContain('newcomer');
    await s.close();
  });

  it('remembers users by name for invites and direct messages', async () => {
    const s = impl.make();
    await s.saveUser({ userId: 'u1', name: 'Alice' });
    await s.saveUser({ userId: 'u2', name: 'alina' });
    await s.saveUser({ userId: 'u3', name: 'bob' });
    await s.saveUser({ userId: 'u1', name: 'Alice B' });
    expect((await s.findUsers('al', 10)).map((u) => u.userId).sort()).toEqual(['u1', 'u2']);
    expect(await s.user('u1')).toEqual({ userId: 'u1', name: 'Alice B' });
    expect(await s.findUsers('zz', 10)).toEqual([]);
    await s.close();
  });

  it.runIf(impl.pair !== undefined)('has one instance id, seen alike by every store on the database, and stable across reopen', async () => {
    const [a, b] = (impl.pair as () => [Store, Store])();
    const id = await a.instanceId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(await b.instanceId()).toBe(id);
    expect(await a.instanceId()).toBe(id);
    await a.close();
    await b.close();
  });

  it.runIf(impl.pair !== undefined)('orders commits from two writers on one room: no gap, no duplicate, each sees the other', async () => {
    const [a, b] = (impl.pair as () => [Store, Store])();
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const writer = i % 3 === 0 ? b : a;
      const res = await writer.commit('shared', [draft(`m${i}`), draft(`n${i}`)], `epoch-${i % 2 === 0 ? 'a' : 'b'}`);
      seqs.push(...res.results.map((r) => ok(r).message.seq));
      expect(res.log.lastSeq).toBe(seqs.length);
    }
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // A retry through the other writer finds what the first committed.
    const c = draft('once', { clientId: 'cross-0001' });
    const viaA = await a.commit('shared', [c], 'x');
    const viaB = await b.commit('shared', [{ ...c, id: 'other-id' }], 'x');
    expect(viaB.results[0]).toEqual({ message: ok(viaA.results[0]).message, duplicate: true });
    // The first writer's epoch is the room's, whoever proposes another.
    expect((await a.roomLog('shared'))?.epoch).toBe('epoch-a');
    expect(await b.roomLog('shared')).toEqual(await a.roomLog('shared'));
    await a.close();
    await b.close();
  });
});

describe('SqliteStore durability', () => {
  it('checkpoints on its worker thread and leaves a complete database on close', async () => {
    const file = sqliteFile();
    const a = new SqliteStore({ file, checkpointEveryMs: 5 });
    for (let i = 1; i <= 200; i++) await a.commit('r', [draft('x'.repeat(500))], 'e');
    await a.close();
    // The final TRUNCATE checkpoint emptied the WAL into the database file.
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
    const b = new SqliteStore({ file });
    expect((await b.roomLog('r'))?.lastSeq).toBe(200);
    await b.close();
  });

  it('keeps messages and epoch across reopen of the same file', async () => {
    const file = sqliteFile();
    const a = new SqliteStore({ file });
    await a.commit('r', [draft('hello 1'), draft('hello 2')], 'the-epoch');
    await a.close();
    const b = new SqliteStore({ file, synchronous: 'FULL' });
    expect(await b.roomLog('r')).toEqual({ epoch: 'the-epoch', lastSeq: 2 });
    expect((await b.readAfter('r', 0, 10)).map((m) => m.text)).toEqual(['hello 1', 'hello 2']);
    await b.close();
  });

  it('creates its folder 0700 and the database 0600, and the WAL with the same mode', async () => {
    const file = sqliteFile();
    const s = new SqliteStore({ file });
    await s.commit('r', [draft('private')], 'e');
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    await s.close();
  });
});

/** Rejects if `p` has not settled within `ms`: a call that hangs is a failure, whatever it would have answered. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([p, hung]).finally(() => clearTimeout(timer));
}

describe('PgStore on PostgreSQL', () => {
  beforeAll(ensurePostgres, 120_000);
  beforeEach(resetPg);

  it('orders truly concurrent commits from two nodes: no gap, no duplicate, last_seq equals the row count', async () => {
    const [a, b] = [new PgStore({ url: pgUrl() }), new PgStore({ url: pgUrl() })];
    // Both nodes race to create the room, each proposing its own epoch; retried
    // clientIds are sent through both nodes at once.
    const commits = Array.from({ length: 150 }, (_, i) => {
      const drafts = [draft(`m${i}`), ...(i % 3 === 0 ? [draft(`x${i}`)] : [])];
      if (i % 5 === 0) drafts.push(draft(`retry ${i % 7}`, { clientId: `retried-${i % 7}`, authorId: 'u9' }));
      return (i % 2 === 0 ? a : b).commit('busy', drafts, i % 2 === 0 ? 'epoch-a' : 'epoch-b');
    });
    const results = await Promise.all(commits);
    const stored = await a.readAfter('busy', 0, 10_000);
    const n = stored.length;
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => `${m.authorId}/${m.clientId}`)).size).toBe(n);
    expect(stored.filter((m) => m.authorId === 'u9').length).toBe(7);
    const fresh = results.flatMap((r) => r.results.map(ok).filter((c) => !c.duplicate).map((c) => c.message));
    expect(fresh.length).toBe(n);
    // Every answer, first or retry, is the stored message.
    for (const c of results.flatMap((r) => r.results.map(ok))) expect(stored[c.message.seq - 1]).toEqual(c.message);
    const epochs = new Set(results.map((r) => r.log.epoch));
    expect(epochs.size).toBe(1);
    expect(await b.roomLog('busy')).toEqual({ epoch: [...epochs][0], lastSeq: n });
    const c = new pg.Client({ connectionString: pgUrl() });
    await c.connect();
    const { rows } = await c.query<{ last_seq: string; count: string }>(
      "SELECT last_seq, (SELECT count(*) FROM messages WHERE room = 'busy') AS count FROM rooms WHERE name = 'busy'",
    );
    await c.end();
    expect(rows).toEqual([{ last_seq: String(n), count: String(n) }]);
    await a.close();
    await b.close();
  }, 60_000);

  it('performs a batch of changes to one message as if each ran in turn', async () => {
    // The store collapses a batch's edits and reactions into one statement per kind; the outcome must not show it.
    const s = new PgStore({ url: pgUrl() });
    const bob = { author: 'bob', authorId: 'u2' };
    const carol = { author: 'carol', authorId: 'u3' };
    await s.commit('batch', [draft('first'), draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true })], 'e');
    const res = await s.commit(
      'batch',
      [
        draft('second', { kind: 'edit', target: 1, mentions: ['u2'] }),
        draft('', { kind: 'reaction', target: 1, emoji: '👍', on: false }),
        draft('third', { kind: 'edit', target: 1 }),
        draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true, ...bob }),
        draft('', { kind: 'reaction', target: 1, emoji: '🎉', on: true, ...carol }),
        draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true }),
        draft('', { kind: 'reaction', target: 1, emoji: '🎉', on: false, ...carol }),
        draft('', { kind: 'reaction', target: 1, emoji: '🎉', on: true, ...carol }),
      ],
      'e',
    );
    expect(res.results.map((r) => ok(r).message.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const [first] = await s.readAfter('batch', 0, 1, 'u3');
    expect(first).toMatchObject({ text: 'third', mentions: ['u2'], editedAt: expect.any(Number) });
    // alice took 👍 back and gave it again: now listed after bob.
    expect(first?.reactions).toEqual([
      { emoji: '👍', count: 2, mine: false, users: [{ userId: 'u2', name: 'bob' }, { userId: 'u1', name: 'alice' }] },
      { emoji: '🎉', count: 1, mine: true, users: [{ userId: 'u3', name: 'carol' }] },
    ]);
    await s.close();
  });

  it('orders concurrent edits, deletes and reactions from two nodes: no gap, and the state a serial replay of the log gives', async () => {
    const [a, b] = [new PgStore({ url: pgUrl() }), new PgStore({ url: pgUrl() })];
    const users = [
      { author: 'alice', authorId: 'u1' },
      { author: 'bob', authorId: 'u2' },
      { author: 'carol', authorId: 'u3' },
    ] as const;
    const base = 30;
    // Message i (from 1) is by users[i % 3]; alice, the first author, owns the room.
    await a.commit('mix', Array.from({ length: base }, (_, i) => draft(`m${i + 1}`, users[(i + 1) % 3])), 'e');
    // A fixed pseudo-random sequence (mulberry32), so a failure can be replayed.
    let seed = 42;
    const rand = (k: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % k;
    };
    const change = (i: number): Draft => {
      const target = 1 + rand(base);
      const who = users[rand(3)] as (typeof users)[number];
      switch (rand(5)) {
        case 0:
          return draft(`edit ${i}`, { kind: 'edit', target, ...(users[target % 3] as (typeof users)[number]), ...(rand(2) ? { mentions: [who.authorId] } : {}) });
        case 1:
          return draft('', { kind: 'delete', target, ...(rand(3) === 0 ? users[0] : rand(2) ? (users[target % 3] as (typeof users)[number]) : who) });
        case 2:
          return draft(`reply ${i}`, { replyTo: target, ...who });
        default:
          return draft('', { kind: 'reaction', target, emoji: ['👍', '🎉', '🦊'][rand(3)], on: rand(3) > 0, ...who });
      }
    };
    // Every fourth batch also retries one earlier draft, through either node.
    const sent: Draft[] = [];
    const commits = Array.from({ length: 120 }, (_, i) => {
      const drafts = Array.from({ length: 1 + rand(3) }, () => change(i));
      sent.push(...drafts);
      if (i % 4 === 3) drafts.push({ ...(sent[rand(sent.length)] as Draft) });
      return (i % 2 === 0 ? a : b).commit('mix', drafts, 'e');
    });
    const results = (await Promise.all(commits)).flatMap((r) => r.results);
    const log = await a.readAfter('mix', 0, 10_000, 'u2');
    const n = log.length;
    expect(log.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const stored = results.filter((r): r is { message: Message; duplicate: boolean } => 'message' in r && !r.duplicate && !r.unchanged);
    // Each new entry was acknowledged once, with its place in the log.
    expect(stored.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: n - base }, (_, i) => base + i + 1));
    for (const r of stored) expect(log[r.message.seq - 1]?.id).toBe(r.message.id);
    // The mix exercised every rule: some of each kind stored, some refused, some unchanged.
    expect(new Set(log.map((m) => m.kind ?? 'message'))).toEqual(new Set(['message', 'edit', 'delete', 'reaction']));
    expect(results.some((r) => 'refused' in r)).toBe(true);
    expect(results.some((r) => 'message' in r && r.unchanged)).toBe(true);
    expect(results.some((r) => 'message' in r && r.duplicate)).toBe(true);
    // The log, committed again one entry at a time into a fresh SQLite store,
    // stores every entry at the same seq and reads back the same page.
    const replay = new SqliteStore({ file: sqliteFile() });
    for (const m of log) {
      const d: Draft = { id: m.id, clientId: m.clientId ?? '', author: m.author, authorId: m.authorId, ts: m.ts, kind: m.kind ?? 'message', text: m.text };
      if (m.target !== undefined) d.target = m.target;
      if (m.emoji !== undefined) d.emoji = m.emoji;
      if (m.on !== undefined) d.on = m.on;
      if (m.replyTo !== undefined) d.replyTo = m.replyTo;
      if (m.mentions !== undefined) d.mentions = m.mentions;
      const r = await replay.commit('mix', [d], 'e');
      expect(r.results[0]).toMatchObject({ duplicate: false, message: { seq: m.seq } });
      expect(r.results[0]).not.toHaveProperty('unchanged');
    }
    expect(await replay.readAfter('mix', 0, 10_000, 'u2')).toEqual(log);
    expect(await b.readBefore('mix', n + 1, 10_000, 'u2')).toEqual(log);
    const c = new pg.Client({ connectionString: pgUrl() });
    await c.connect();
    const { rows } = await c.query<{ last_seq: string; count: string }>(
      "SELECT last_seq, (SELECT count(*) FROM messages WHERE room = 'mix') AS count FROM rooms WHERE name = 'mix'",
    );
    await c.end();
    expect(rows).toEqual([{ last_seq: String(n), count: String(n) }]);
    await replay.close();
    await a.close();
    await b.close();
  }, 60_000);

  it('migrates once when several nodes start together', async () => {
    const nodes = Array.from({ length: 4 }, () => new PgStore({ url: pgUrl() }));
    await Promise.all(nodes.map((s) => s.ready()));
    const c = new pg.Client({ connectionString: pgUrl() });
    await c.connect();
    const { rows } = await c.query<{ version: number }>('SELECT version FROM fiberchat_migrations ORDER BY version');
    await c.end();
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await Promise.all(nodes.map((s) => s.close()));
  });

  it('rejects calls promptly while PostgreSQL is down, works again after restart, and keeps every acknowledged commit', async () => {
    const server = postgresService() as PostgresService;
    const store = new PgStore({ url: pgUrl(), timeoutMs: 2000 });
    const acked: Message[] = [];
    let stopped = false;
    let failures = 0;
    // Four writers commit until each has seen a few calls after the stop.
    const writer = async (w: number) => {
      for (let i = 0, afterStop = 0; afterStop < 5; i++) {
        if (stopped) afterStop++;
        try {
          const r = await store.commit('burst', [draft(`w${w} #${i}`)], 'e');
          acked.push(...r.results.map((c) => ok(c).message));
        } catch {
          failures++;
        }
      }
    };
    const burst = Promise.all([0, 1, 2, 3].map(writer));
    try {
      await expect.poll(() => acked.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(40);
      await server.stop('immediate');
      stopped = true;
      // Every commit in flight or sent while it is down settles; none hangs.
      await within(burst, 15_000, 'the burst');
      expect(failures).toBeGreaterThanOrEqual(4);
      await expect(within(store.commit('burst', [draft('while down')], 'e'), 10_000, 'a commit')).rejects.toThrow();
      await expect(within(store.readAfter('burst', 0, 1), 10_000, 'a read')).rejects.toThrow();
    } finally {
      await server.start();
    }
    const back = await store.commit('burst', [draft('back')], 'e');
    const all = await store.readAfter('burst', 0, 10_000);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    // Durable: every commit that was acknowledged is there, as acknowledged.
    for (const m of acked) expect(all[m.seq - 1]).toEqual(m);
    expect(ok(back.results[0]).message.seq).toBe(all.length);
    await store.close();
  }, 90_000);
});
