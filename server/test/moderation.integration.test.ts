/**
 * Moderation through the real server: roles, every moderator action and
 * reports, over socket.io and over REST (the Ajax carrier), each leaving its
 * line in the room's log and its row in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, SessionOk } from '../../shared/protocol.ts';
import { cid, collect, startServer, type ChatSocket, type TestServer } from './harness.ts';

type Person = ChatSocket & { session: SessionOk };

const OPS = 'operator-token-for-moderation-tests';

let s: TestServer;
let alice: SessionOk; // an administrator (ADMINS), over REST
let bob: Person; // made a moderator
let carol: Person; // a guest who spams
let dave: Person; // a guest who behaves

async function register(name: string): Promise<SessionOk> {
  const res = await fetch(`${s.url}/api/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: `${name} has a long passphrase` }),
  });
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`);
  return (await res.json()) as SessionOk;
}

async function rest(who: SessionOk, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: { standing?: unknown; error?: unknown } | undefined }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${who.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as { standing?: unknown }) };
}

const send = (sock: ChatSocket, text: string) => sock.emitWithAck('send', { room: 'lobby', text, clientId: cid() });

beforeAll(async () => {
  s = await startServer({ env: { ADMINS: 'alice', OPS_TOKEN: OPS } });
  alice = await register('alice');
  bob = await s.connectAs(await register('bob'));
  carol = await s.client('carol');
  dave = await s.client('dave');
  for (const sock of [bob, carol, dave]) expect((await sock.emitWithAck('join', { room: 'lobby' })).ok).toBe(true);
});
afterAll(async () => s.close());

describe('moderation', () => {
  it('lets an administrator make a moderator, and nobody else; the change is a line of the log', async () => {
    const seen = collect(dave, 'messages');
    const carolTries = await carol.emitWithAck('setRole', { room: 'lobby', userId: dave.session.userId, role: 'moderator' });
    expect(carolTries).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // A guest cannot moderate.
    expect(await rest(alice, 'POST', '/api/rooms/lobby/roles', { userId: dave.session.userId, role: 'moderator' })).toMatchObject({ status: 403 });
    expect(await rest(alice, 'POST', '/api/rooms/lobby/roles', { userId: bob.session.userId, role: 'moderator' })).toMatchObject({ status: 200 });
    await expect.poll(() => seen.flatMap((e) => e.messages).find((m) => m.kind === 'moderation')).toMatchObject({
      author: 'alice',
      mod: { action: 'role', user: { userId: bob.session.userId, name: 'bob' }, role: 'moderator' },
    });
    const joined = await bob.emitWithAck('join', { room: 'lobby' });
    expect(joined.ok && joined.standing).toMatchObject({ role: 'moderator', reports: 0 });
    const asAdmin = await rest(alice, 'POST', '/api/rooms/lobby/join', {});
    expect(asAdmin.body?.standing).toMatchObject({ role: 'owner' });
  });

  it('takes a report to the moderators (a badge count and a queue) and never shows the reporter to the reported', async () => {
    const badge = collect(bob, 'reported');
    const spam = await send(carol, 'BUY CHEAP STUFF http://spam.example');
    if (!spam.ok) throw new Error('send failed');
    expect(await rest(alice, 'POST', '/api/rooms/lobby/reports', { target: spam.seq, reason: 'spam' })).toMatchObject({ status: 200 });
    // Twice is once; `other` needs words; a message that is not there is not_found.
    expect(await rest(alice, 'POST', '/api/rooms/lobby/reports', { target: spam.seq, reason: 'spam' })).toMatchObject({ status: 200 });
    expect(await rest(alice, 'POST', '/api/rooms/lobby/reports', { target: spam.seq, reason: 'other' })).toMatchObject({ status: 400 });
    expect(await rest(alice, 'POST', '/api/rooms/lobby/reports', { target: 9999, reason: 'spam' })).toMatchObject({ status: 404 });
    await expect.poll(() => badge.at(-1)).toEqual({ room: 'lobby', open: 1 });
    const queue = await bob.emitWithAck('reports', { room: 'lobby' });
    expect(queue).toMatchObject({ ok: true, open: 1, reports: [{ target: spam.seq, reason: 'spam', reporter: { name: 'alice' }, message: { text: spam.ok && 'BUY CHEAP STUFF http://spam.example' } }] });
    expect(await carol.emitWithAck('reports', { room: 'lobby' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // The moderator deletes it from the queue: the tombstone says a moderator removed it, and the report is closed.
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'delete', target: spam.seq, reason: 'spam' })).toEqual({ ok: true });
    const page = await dave.emitWithAck('history', { room: 'lobby', before: spam.seq + 1, limit: 1 });
    expect(page.ok && page.messages[0]).toMatchObject({ seq: spam.seq, deleted: true, text: '', mod: { action: 'delete' } });
    expect(await bob.emitWithAck('reports', { room: 'lobby' })).toMatchObject({ ok: true, open: 0, reports: [] });
    await expect.poll(() => badge.at(-1)).toEqual({ room: 'lobby', open: 0 });
  });

  it('mutes: sends, edits and reactions are refused with when it ends, on every carrier, until unmuted', async () => {
    const before = await send(carol, 'one more');
    if (!before.ok) throw new Error('send failed');
    const t0 = Date.now();
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'mute', userId: carol.session.userId, seconds: 600 })).toEqual({ ok: true });
    const refused = await send(carol, 'still here');
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const until = !refused.ok ? (refused.error.until ?? 0) : 0;
    expect(until).toBeGreaterThanOrEqual(t0 + 600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(await carol.emitWithAck('edit', { room: 'lobby', target: before.seq, text: 'edited', clientId: cid() })).toMatchObject({ ok: false, error: { code: 'forbidden', until } });
    expect(await carol.emitWithAck('react', { room: 'lobby', target: before.seq, emoji: '👍', on: true, clientId: cid() })).toMatchObject({ ok: false, error: { until } });
    // Over REST too, and a join says so.
    const carolRest = carol.session;
    const viaRest = await rest(carolRest, 'POST', '/api/rooms/lobby/messages', { text: 'by ajax', clientId: cid() });
    expect(viaRest).toMatchObject({ status: 403, body: { error: { code: 'forbidden', until } } });
    const joined = await carol.emitWithAck('join', { room: 'lobby' });
    expect(joined.ok && joined.standing).toMatchObject({ role: 'guest', mutedUntil: until });
    // A moderator cannot mute the administrator, nor themselves; someone who is not muted cannot be unmuted.
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'mute', userId: alice.userId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'unmute', userId: dave.session.userId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'unmute', userId: carol.session.userId })).toEqual({ ok: true });
    expect((await send(carol, 'sorry')).ok).toBe(true);
  });

  it('holds slow mode for everyone but moderators, and a lock for everyone but moderators', async () => {
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'slowmode', seconds: 10 })).toEqual({ ok: true });
    expect((await send(dave, 'first')).ok).toBe(true);
    const second = await send(dave, 'second');
    expect(second).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(!second.ok && second.error.until).toBeGreaterThan(Date.now() + 8_000);
    expect((await send(bob, 'moderators post freely')).ok).toBe(true);
    expect((await send(bob, 'and again')).ok).toBe(true);
    const standing = await dave.emitWithAck('join', { room: 'lobby' });
    expect(standing.ok && standing.standing?.slowmode).toBe(10);
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'slowmode', seconds: 0 })).toEqual({ ok: true });
    expect((await send(dave, 'free again')).ok).toBe(true);

    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'lock' })).toEqual({ ok: true });
    expect(await send(dave, 'locked out')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await send(bob, 'announcement')).ok).toBe(true);
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'unlock' })).toEqual({ ok: true });
    expect((await send(dave, 'unlocked')).ok).toBe(true);
  });

  it('pins up to ten messages, shown to whoever joins', async () => {
    const m = await send(dave, 'the house rules');
    if (!m.ok) throw new Error('send failed');
    expect(await carol.emitWithAck('moderate', { room: 'lobby', action: 'pin', target: m.seq })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'pin', target: m.seq })).toEqual({ ok: true });
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'pin', target: 99_999 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const joined = await dave.emitWithAck('join', { room: 'lobby' });
    expect(joined.ok && joined.standing?.pinned).toEqual([{ seq: m.seq, author: 'dave', authorId: dave.session.userId, text: 'the house rules' }]);
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'unpin', target: m.seq })).toEqual({ ok: true });
    const after = await dave.emitWithAck('join', { room: 'lobby' });
    expect(after.ok && after.standing?.pinned).toBeUndefined();
  });

  it('bans: the open subscription ends with `removed`, a rejoin and every room command are refused, over REST too', async () => {
    const removed = collect(carol, 'removed');
    const live = collect(carol, 'messages');
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'ban', userId: carol.session.userId, reason: 'spam' })).toEqual({ ok: true });
    await expect.poll(() => removed).toEqual([{ room: 'lobby' }]);
    const seenBefore = live.length;
    expect((await send(dave, 'carol cannot hear this')).ok).toBe(true);
    expect(await carol.emitWithAck('join', { room: 'lobby' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await rest(carol.session, 'GET', '/api/rooms/lobby/messages')).toMatchObject({ status: 403 });
    await new Promise((r) => setTimeout(r, 100));
    expect(live.length).toBe(seenBefore);
    expect(await bob.emitWithAck('moderate', { room: 'lobby', action: 'unban', userId: carol.session.userId })).toEqual({ ok: true });
    expect((await carol.emitWithAck('join', { room: 'lobby' })).ok).toBe(true);
  });

  it('keeps every action in the audit log, with who did it and the reason', async () => {
    const log = await s.store.moderation.auditLog({ room: 'lobby', limit: 50 });
    const actions = log.map((a) => `${a.actor.name} ${a.action}${a.subject ? ` ${a.subject.name}` : ''}`).reverse();
    expect(actions).toEqual([
      'alice role bob',
      'bob delete',
      'bob mute carol',
      'bob unmute carol',
      'bob slowmode',
      'bob slowmode',
      'bob lock',
      'bob unlock',
      'bob pin',
      'bob unpin',
      'bob ban carol',
      'bob unban carol',
    ]);
    expect(log.find((a) => a.action === 'ban')).toMatchObject({ reason: 'spam' });
    const lines = (await s.store.readAfter('lobby', 0, 500)).filter((m: Message) => m.kind === 'moderation').map((m) => m.mod?.action);
    expect(lines).toEqual(['role', 'mute', 'unmute', 'slowmode', 'slowmode', 'lock', 'unlock', 'pin', 'unpin', 'ban', 'unban']);
  });

  it('shows operators the audit log, filtered, and every room\'s open reports, behind the operator token', async () => {
    const m = await send(dave, 'report me');
    if (!m.ok) throw new Error('send failed');
    expect((await rest(alice, 'POST', '/api/rooms/lobby/reports', { target: m.seq, reason: 'harassment' })).status).toBe(200);
    const read = async (query: string, token = OPS) => {
      const res = await fetch(`${s.url}/api/ops/moderation${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as { audit: Array<{ action: string; room: string }>; reports: Array<{ target: number; reason: string }> } };
    };
    expect((await read('', 'not the token')).status).toBe(401);
    const all = await read('');
    expect(all.status).toBe(200);
    expect(all.body.audit[0]).toMatchObject({ action: 'unban', room: 'lobby' });
    expect(all.body.reports).toEqual([expect.objectContaining({ target: m.seq, reason: 'harassment' })]);
    const mutes = await read('?room=lobby&action=mute');
    expect(mutes.body.audit.map((a) => a.action)).toEqual(['mute']);
    expect((await read('?before=x')).status).toBe(400);
  });
});
