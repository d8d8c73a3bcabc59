import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, Message } from '../../shared/protocol.ts';
import { cid, collect, startServer, type ChatSocket, type TestServer } from './harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(): Promise<TestServer> {
  const s = await startServer({ env: { MANAGE_RATE: '100' } });
  servers.push(s);
  return s;
}
function ok<T>(a: Ack<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.error.code}: ${a.error.message}`);
  return a;
}
function code(a: Ack<unknown>): string {
  return a.ok ? 'ok' : a.error.code;
}
/** Emits any command and resolves with its ack, as a bot would. */
function call(socket: ChatSocket, event: string, payload: unknown): Promise<Ack<Record<string, unknown>>> {
  return (socket as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<Record<string, unknown>>> }).emitWithAck(event, payload);
}

describe('changes are entries of the log', () => {
  it('edits, deletes and reactions get their own seqs, are broadcast, replayed by join since, and shown in pages as they are now', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    ok(await alice.emitWithAck('join', { room: 'r' }));
    const first = ok(await alice.emitWithAck('send', { room: 'r', text: 'hello', clientId: cid() }));
    const second = ok(await alice.emitWithAck('send', { room: 'r', text: 'second', clientId: cid() }));
    const j = ok(await bob.emitWithAck('join', { room: 'r' }));
    bob.disconnect(); // bob goes offline at seq 2

    const editId = cid();
    const edit = ok(await call(alice, 'edit', { room: 'r', target: first.seq, text: 'hello, edited', clientId: editId }));
    expect(edit.seq).toBe(3);
    // Idempotent like sends.
    expect(ok(await call(alice, 'edit', { room: 'r', target: first.seq, text: 'hello, edited', clientId: editId }))).toMatchObject({ seq: 3, duplicate: true });
    expect(ok(await call(alice, 'delete', { room: 'r', target: second.seq, clientId: cid() })).seq).toBe(4);
    expect(ok(await call(alice, 'react', { room: 'r', target: first.seq, emoji: '🎉', on: true, clientId: cid() })).seq).toBe(5);
    expect(ok(await call(alice, 'react', { room: 'r', target: first.seq, emoji: '🎉', on: true, clientId: cid() }))).toMatchObject({ unchanged: true });

    // Bob comes back and resumes: every change, in order, nothing twice.
    const bob2 = await s.client('bob-again');
    const resumed = ok(await bob2.emitWithAck('join', { room: 'r', since: j.lastSeq, epoch: j.epoch }));
    expect(resumed.recovered).toBe(true);
    expect(resumed.messages.map((m: Message) => [m.seq, m.kind ?? 'message', m.target])).toEqual([
      [3, 'edit', 1],
      [4, 'delete', 2],
      [5, 'reaction', 1],
    ]);
    // A fresh reader sees the messages as they are now.
    const page = ok(await bob2.emitWithAck('history', { room: 'r', before: 100 }));
    expect(page.messages[0]).toMatchObject({ seq: 1, text: 'hello, edited', editedAt: expect.any(Number), reactions: [{ emoji: '🎉', count: 1, mine: false }] });
    expect(page.messages[1]).toMatchObject({ seq: 2, text: '', deleted: true });
    const own = ok(await alice.emitWithAck('history', { room: 'r', before: 100 }));
    expect(own.messages[0]?.reactions?.[0]?.mine).toBe(true);
  });

  it('lets only the author edit, the author or the owner delete, and nobody change a tombstone', async () => {
    const s = await server();
    const owner = await s.client('owner');
    const bob = await s.client('bob');
    const carol = await s.client('carol');
    ok(await owner.emitWithAck('send', { room: 'rules', text: 'first: I own the room', clientId: cid() }));
    const bobs = ok(await bob.emitWithAck('send', { room: 'rules', text: 'bob', clientId: cid() }));
    expect(code(await call(carol, 'edit', { room: 'rules', target: bobs.seq, text: 'hijack', clientId: cid() }))).toBe('forbidden');
    expect(code(await call(carol, 'delete', { room: 'rules', target: bobs.seq, clientId: cid() }))).toBe('forbidden');
    expect(code(await call(owner, 'delete', { room: 'rules', target: bobs.seq, clientId: cid() }))).toBe('ok');
    expect(code(await call(bob, 'edit', { room: 'rules', target: bobs.seq, text: 'too late', clientId: cid() }))).toBe('not_found');
    expect(code(await call(bob, 'react', { room: 'rules', target: 999, emoji: '👍', on: true, clientId: cid() }))).toBe('not_found');
    expect(code(await call(bob, 'react', { room: 'rules', target: 1, emoji: 'not an emoji', on: true, clientId: cid() }))).toBe('bad_request');
  });

  it('replies carry the original as it is now', async () => {
    const s = await server();
    const a = await s.client('alice');
    ok(await a.emitWithAck('join', { room: 'rp' }));
    const live = collect(a, 'messages');
    const orig = ok(await a.emitWithAck('send', { room: 'rp', text: 'original text', clientId: cid() }));
    ok(await call(a, 'send', { room: 'rp', text: 'an answer', clientId: cid(), replyTo: orig.seq }));
    // The live form carries the original too.
    await expect.poll(() => live.flatMap((e) => e.messages).find((m: Message) => m.replyTo === orig.seq)?.reply).toMatchObject({ seq: 1, text: 'original text' });
    expect(code(await call(a, 'send', { room: 'rp', text: 'answer to nothing', clientId: cid(), replyTo: 77 }))).toBe('not_found');
    ok(await call(a, 'delete', { room: 'rp', target: orig.seq, clientId: cid() }));
    const page = ok(await a.emitWithAck('history', { room: 'rp', before: 100 }));
    expect(page.messages[1]).toMatchObject({ text: 'an answer', replyTo: 1, reply: { seq: 1, deleted: true, text: '' } });
    // A public room's first poster is its owner, and the member list says so.
    const members = ok(await call(a, 'members', { room: 'rp' })) as unknown as { members: Array<{ name: string; role: string }> };
    expect(members.members).toEqual([expect.objectContaining({ name: 'alice', role: 'owner' })]);
  });
});

describe('read positions and my rooms', () => {
  it('keeps a monotonic read position per user, tells the other tabs, and counts unread messages and mentions', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const aliceTab2 = await s.connectAs(alice.session);
    const bob = await s.client('bob');
    ok(await alice.emitWithAck('join', { room: 'design' }));
    ok(await alice.emitWithAck('join', { room: 'lobby' }));
    ok(await bob.emitWithAck('send', { room: 'design', text: 'one', clientId: cid() }));
    ok(await bob.emitWithAck('send', { room: 'design', text: 'two', clientId: cid() }));
    ok(await call(bob, 'send', { room: 'design', text: '@alice look', clientId: cid(), mentions: [alice.session.userId] }));
    const mine = ok(await call(alice, 'myRooms', {})) as unknown as { rooms: Array<{ room: string; unread: number; mentions: number; lastRead: number }> };
    expect(mine.rooms.find((r) => r.room === 'design')).toMatchObject({ unread: 3, mentions: 1, lastRead: 0 });
    expect(mine.rooms.find((r) => r.room === 'lobby')).toMatchObject({ unread: 0 });
    const seen = collect(aliceTab2, 'read');
    expect(ok(await call(alice, 'read', { room: 'design', seq: 3 }))).toMatchObject({ room: 'design', lastRead: 3 });
    await expect.poll(() => seen.at(-1)).toEqual({ room: 'design', seq: 3 });
    expect(ok(await call(alice, 'read', { room: 'design', seq: 1 }))).toMatchObject({ lastRead: 3 }); // never back
    const after = ok(await call(alice, 'myRooms', {})) as unknown as { rooms: Array<{ room: string; unread: number; mentions: number }> };
    expect(after.rooms.find((r) => r.room === 'design')).toMatchObject({ unread: 0, mentions: 0 });
    // The join answer carries the position too; parting removes the room from the list.
    expect(ok(await alice.emitWithAck('join', { room: 'design' })).lastRead).toBe(3);
    ok(await call(alice, 'part', { room: 'lobby' }));
    const parted = ok(await call(alice, 'myRooms', {})) as unknown as { rooms: Array<{ room: string }> };
    expect(parted.rooms.map((r) => r.room)).toEqual(['design']);
  });

  it('lists public rooms in the directory, searchable, with people present; REST serves the same', async () => {
    const s = await server();
    const a = await s.client('alice');
    ok(await a.emitWithAck('join', { room: 'design' }));
    ok(await a.emitWithAck('send', { room: 'design', text: 'x', clientId: cid() }));
    ok(await a.emitWithAck('send', { room: 'random', text: 'y', clientId: cid() }));
    const dir = ok(await call(a, 'directory', { q: 'des' })) as unknown as { rooms: Array<{ room: string; members: number; lastSeq: number }> };
    expect(dir.rooms).toEqual([expect.objectContaining({ room: 'design', members: 1, lastSeq: 1 })]);
    const rest = await fetch(`${s.url}/api/rooms?q=ran`, { headers: { authorization: `Bearer ${a.session.token}` } });
    expect(((await rest.json()) as { rooms: Array<{ room: string }> }).rooms.map((r) => r.room)).toEqual(['random']);
    const mineRest = await fetch(`${s.url}/api/rooms/mine`, { headers: { authorization: `Bearer ${a.session.token}` } });
    expect(((await mineRest.json()) as { rooms: Array<{ room: string }> }).rooms.map((r) => r.room).sort()).toEqual(['design']);
  });
});

describe('private rooms and direct messages', () => {
  it('a non-member learns nothing on any path: every command that names the room answers not_found', async () => {
    const s = await server();
    const alice = await s.client('alice');
    const bob = await s.client('bob');
    const carol = await s.client('carol');
    const dm = ok(await call(alice, 'dm', { userId: bob.session.userId })) as unknown as { room: string };
    expect(ok(await call(bob, 'dm', { userId: alice.session.userId }))).toMatchObject({ room: dm.room }); // the same from either side
    ok(await alice.emitWithAck('join', { room: dm.room }));
    ok(await alice.emitWithAck('send', { room: dm.room, text: 'just us', clientId: cid() }));
    const leaks = [
      await carol.emitWithAck('join', { room: dm.room }),
      await carol.emitWithAck('send', { room: dm.room, text: 'let me in', clientId: cid() }),
      await carol.emitWithAck('history', { room: dm.room, before: 10 }),
      await carol.emitWithAck('typing', { room: dm.room }),
      await call(carol, 'read', { room: dm.room, seq: 1 }),
      await call(carol, 'members', { room: dm.room }),
      await call(carol, 'react', { room: dm.room, target: 1, emoji: '👀', on: true, clientId: cid() }),
    ];
    expect(leaks.map(code)).toEqual(Array(leaks.length).fill('not_found'));
    // The same answer as for a room that does not exist at all.
    expect(code(await carol.emitWithAck('join', { room: 'dm-000000000000000000000000' }))).toBe('not_found');
    const auth = { authorization: `Bearer ${carol.session.token}`, 'content-type': 'application/json' };
    const rest = [
      await fetch(`${s.url}/api/rooms/${dm.room}/messages?after=0`, { headers: auth }),
      await fetch(`${s.url}/api/rooms/${dm.room}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text: 'x', clientId: cid() }) }),
    ];
    expect(rest.map((r) => r.status)).toEqual([404, 404]);
    const dir = ok(await call(carol, 'directory', {})) as unknown as { rooms: Array<{ room: string }> };
    expect(dir.rooms.map((r) => r.room)).not.toContain(dm.room);
  });

  it('the owner invites by user and by link, revokes links, and removing a member ends their subscription at once', async () => {
    const s = await server();
    const owner = await s.client('olive');
    const bob = await s.client('bob');
    const carol = await s.client('carol');
    const created = ok(await call(owner, 'createRoom', { title: 'Plans' })) as unknown as { room: string; title: string };
    expect(created.room).toMatch(/^p-[0-9a-f]{16}$/);
    const invited = collect(bob, 'invited');
    ok(await call(owner, 'invite', { room: created.room, userId: bob.session.userId }));
    await expect.poll(() => invited.at(-1)?.room).toBe(created.room);
    ok(await bob.emitWithAck('join', { room: created.room }));
    expect(code(await call(bob, 'invite', { room: created.room, userId: carol.session.userId }))).toBe('forbidden');
    const link = ok(await call(owner, 'inviteLink', { room: created.room })) as unknown as { token: string };
    expect(ok(await call(carol, 'acceptInvite', { token: link.token }))).toMatchObject({ room: created.room, title: 'Plans' });
    ok(await call(owner, 'revokeInvite', { room: created.room, token: link.token }));
    const dave = await s.client('dave');
    expect(code(await call(dave, 'acceptInvite', { token: link.token }))).toBe('not_found');
    const members = ok(await call(carol, 'members', { room: created.room })) as unknown as { members: Array<{ name: string; role: string }> };
    expect(members.members.map((m) => [m.name, m.role])).toEqual([
      ['olive', 'owner'],
      ['bob', 'member'],
      ['carol', 'member'],
    ]);
    // Removal ends bob's live subscription at once: he is told, and gets nothing more.
    const removed = collect(bob, 'removed');
    const bobSees = collect(bob, 'messages');
    ok(await call(owner, 'removeMember', { room: created.room, userId: bob.session.userId }));
    await expect.poll(() => removed.at(-1)?.room).toBe(created.room);
    ok(await owner.emitWithAck('send', { room: created.room, text: 'after bob left', clientId: cid() }));
    await new Promise((r) => setTimeout(r, 100));
    expect(bobSees.flatMap((e) => e.messages.map((m: Message) => m.text))).not.toContain('after bob left');
    expect(code(await bob.emitWithAck('join', { room: created.room }))).toBe('not_found');
  });
});
