import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { PROTOCOL_VERSION, type SessionOk } from '../../shared/protocol.ts';
import { cid, collect, startServer, type TestServer } from './harness.ts';

const PASSWORD = 'correct horse battery staple';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function api(srv: TestServer, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> & { error?: { code: string; message: string } } };
}

async function register(srv: TestServer, name: string, password = PASSWORD, token?: string): Promise<SessionOk> {
  const r = await api(srv, 'POST', '/api/accounts', { name, password }, token);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as unknown as SessionOk;
}

async function login(srv: TestServer, name: string, password = PASSWORD): Promise<SessionOk> {
  const r = await api(srv, 'POST', '/api/login', { name, password });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as unknown as SessionOk;
}

describe.each(['memory', 'sqlite'] as const)('accounts over REST (%s store)', (store) => {
  it('creates an account that owns its name: case, width and look-alike spellings are taken, for accounts and guests', async () => {
    s = await startServer({ store });
    const alice = await register(s, 'alice');
    expect(alice).toMatchObject({ name: 'alice', registered: true, protocol: PROTOCOL_VERSION });
    expect(alice.sessionId).toBeTruthy();
    // Latin "Alice", fullwidth, and a Cyrillic "а".
    for (const name of ['Alice', 'ＡＬＩＣＥ', '\u0430lice']) {
      const again = await api(s, 'POST', '/api/accounts', { name, password: PASSWORD });
      expect(again.status).toBe(409);
      expect(again.body.error?.code).toBe('name_taken');
      const guest = await api(s, 'POST', '/api/session', { name });
      expect(guest.status).toBe(409);
      expect(guest.body.error?.message).toMatch(/belongs to an account/);
    }
    // Someone else's name is still free for a guest.
    expect((await api(s, 'POST', '/api/session', { name: 'bob' })).status).toBe(200);
  });

  it('refuses short and common passwords with a reason, and creates nothing', async () => {
    s = await startServer({ store });
    const short = await api(s, 'POST', '/api/accounts', { name: 'carol', password: 'seven77' });
    expect(short.status).toBe(400);
    expect(short.body.error?.message).toMatch(/at least 8/);
    const common = await api(s, 'POST', '/api/accounts', { name: 'carol', password: 'Password1' });
    expect(common.status).toBe(400);
    expect(common.body.error?.message).toMatch(/most common/);
    // Long passphrases with no composition rules are fine.
    await register(s, 'carol', 'all lower case words are fine');
  });

  it('signs in with the password; a wrong password and an unknown name get the same answer', async () => {
    s = await startServer({ store });
    const made = await register(s, 'dave');
    const again = await login(s, 'DAVE');
    expect(again.userId).toBe(made.userId);
    expect(again.sessionId).not.toBe(made.sessionId);
    const wrong = await api(s, 'POST', '/api/login', { name: 'dave', password: 'not the password' });
    const unknown = await api(s, 'POST', '/api/login', { name: 'nobody-here', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('a guest claims their own name and keeps userId, session and rooms; a 1.x token of theirs stops working', async () => {
    s = await startServer({ store });
    const guest = await s.client('erin');
    const room = await guest.emitWithAck('createRoom', { title: 'Erin only' });
    expect(room.ok).toBe(true);
    const other = await api(s, 'POST', '/api/accounts', { name: 'someone-else', password: PASSWORD }, guest.session.token);
    expect(other.status).toBe(400);
    const claimed = await register(s, 'Erin', PASSWORD, guest.session.token);
    expect(claimed.userId).toBe(guest.session.userId);
    expect(claimed.sessionId).toBe(guest.session.sessionId);
    // The guest's connection goes on; a new device signs in and sees the private room.
    expect(guest.connected).toBe(true);
    const device = await login(s, 'erin');
    const mine = await api(s, 'GET', '/api/rooms/mine', undefined, device.token);
    expect(mine.status).toBe(200);
    expect((mine.body.rooms as Array<{ room: string }>).map((r) => r.room)).toContain(room.ok && room.room);
    // Claiming twice is refused.
    expect((await api(s, 'POST', '/api/accounts', { name: 'erin', password: PASSWORD }, device.token)).status).toBe(400);
  });

  it('lists the sessions, ends one (its socket hears bye and is refused after), and ends all others', async () => {
    s = await startServer({ store });
    const first = await register(s, 'frank');
    const second = await login(s, 'frank');
    const third = await login(s, 'frank');
    const list = await api(s, 'GET', '/api/sessions', undefined, first.token);
    const sessions = list.body.sessions as Array<{ id: string; current: boolean; device?: string }>;
    expect(sessions.map((x) => x.id).sort()).toEqual([first.sessionId, second.sessionId, third.sessionId].sort());
    expect(sessions.filter((x) => x.current).map((x) => x.id)).toEqual([first.sessionId]);

    const tab = await s.connectAs(second);
    const byes = collect(tab, 'bye');
    const gone = new Promise<void>((r) => tab.once('disconnect', () => r()));
    expect((await api(s, 'DELETE', `/api/sessions/${second.sessionId}`, undefined, first.token)).status).toBe(204);
    await gone;
    expect(byes).toEqual([{ reason: 'session_revoked' }]);
    await expect(s.connectAs(second)).rejects.toThrow('unauthorized');
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, second.token)).status).toBe(401);
    // Another account's session is not yours to end.
    const grace = await register(s, 'grace');
    expect((await api(s, 'DELETE', `/api/sessions/${third.sessionId}`, undefined, grace.token)).status).toBe(404);

    expect((await api(s, 'DELETE', '/api/sessions?others=1', undefined, first.token)).status).toBe(204);
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, third.token)).status).toBe(401);
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, first.token)).status).toBe(200);
  });

  it('an ended session is ended on every carrier: WebSocket and long-polling hear bye, Ajax polling is refused', async () => {
    s = await startServer({ store });
    const me = await register(s, 'heidi');
    const other = await login(s, 'heidi');
    const ws = await s.connectAs(other, { transports: ['websocket'] });
    const lp = await s.connectAs(other, { transports: ['polling'] });
    const heard = [collect(ws, 'bye'), collect(lp, 'bye')];
    const gone = [ws, lp].map((c) => new Promise<void>((r) => c.once('disconnect', () => r())));
    expect((await api(s, 'GET', '/api/rooms/lobby/messages?after=0', undefined, other.token)).status).toBe(200);
    expect((await api(s, 'DELETE', `/api/sessions/${other.sessionId}`, undefined, me.token)).status).toBe(204);
    await Promise.all(gone);
    expect(heard).toEqual([[{ reason: 'session_revoked' }], [{ reason: 'session_revoked' }]]);
    const poll = await api(s, 'GET', '/api/rooms/lobby/messages?after=0', undefined, other.token);
    expect(poll.status).toBe(401);
    expect(poll.body.error?.code).toBe('unauthorized');
    await expect(s.connectAs(other, { transports: ['polling'] })).rejects.toThrow('unauthorized');
  });

  it('changing the password ends the other sessions and needs the current one', async () => {
    s = await startServer({ store });
    const here = await register(s, 'heidi');
    const there = await login(s, 'heidi');
    const wrong = await api(s, 'POST', '/api/account/password', { current: 'not it at all', password: 'a brand new passphrase' }, here.token);
    expect(wrong.status).toBe(403);
    expect((await api(s, 'POST', '/api/account/password', { current: PASSWORD, password: 'a brand new passphrase' }, here.token)).status).toBe(200);
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, there.token)).status).toBe(401);
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, here.token)).status).toBe(200);
    expect((await api(s, 'POST', '/api/login', { name: 'heidi', password: PASSWORD })).status).toBe(401);
    await login(s, 'heidi', 'a brand new passphrase');
  });

  it('reading on one device moves the read position the other device sees', async () => {
    s = await startServer({ store });
    const ivan = await register(s, 'ivan');
    const judy = await s.client('judy');
    const dm = await judy.emitWithAck('dm', { userId: ivan.userId });
    expect(dm.ok).toBe(true);
    const room = dm.ok ? dm.room : '';
    await judy.emitWithAck('join', { room });
    const sent = await judy.emitWithAck('send', { room, text: 'hi ivan', clientId: cid() });
    const laptop = await s.connectAs(ivan);
    const phone = await s.connectAs(await login(s, 'ivan'));
    const unread = async () => {
      const r = await phone.emitWithAck('myRooms', {});
      return r.ok ? r.rooms.find((x) => x.room === room)?.unread : undefined;
    };
    expect(await unread()).toBe(1);
    const heard = collect(phone, 'read');
    await laptop.emitWithAck('read', { room, seq: sent.ok ? sent.seq : 0 });
    await expect.poll(() => heard.length).toBe(1);
    expect(await unread()).toBe(0);
  });

  it('exports the caller\'s messages and rooms a page at a time', async () => {
    s = await startServer({ store });
    const me = await s.client('kim');
    await me.emitWithAck('join', { room: 'export' });
    for (const text of ['one', 'two', 'three']) await me.emitWithAck('send', { room: 'export', text, clientId: cid() });
    const r = await api(s, 'GET', '/api/account/export', undefined, me.session.token);
    expect(r.status).toBe(200);
    expect((r.body.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(r.body.account).toMatchObject({ userId: me.session.userId, name: 'kim', registered: false });
    expect(r.body.next).toBeUndefined();
    expect((await api(s, 'GET', '/api/account/export?after=garbage', undefined, me.session.token)).status).toBe(400);
  });
});

describe('deleting an account', () => {
  it.each(['keep', 'remove'] as const)('DELETED_USER_MESSAGES=%s: the name is free again, sessions end, messages are kept as "deleted user" or removed', async (mode) => {
    s = await startServer({ store: 'sqlite', env: { DELETED_USER_MESSAGES: mode } });
    const leo = await register(s, 'leo');
    const sock = await s.connectAs(leo);
    await sock.emitWithAck('join', { room: 'lobby' });
    await sock.emitWithAck('send', { room: 'lobby', text: 'my words', clientId: cid() });
    const reader = await s.client('mia');
    await reader.emitWithAck('join', { room: 'lobby' });
    const byes = collect(sock, 'bye');
    expect((await api(s, 'DELETE', '/api/account', { confirm: 'someone' }, leo.token)).status).toBe(400);
    expect((await api(s, 'DELETE', '/api/account', { confirm: 'Leo' }, leo.token)).status).toBe(204);
    await expect.poll(() => byes).toEqual([{ reason: 'session_revoked' }]);
    expect((await api(s, 'POST', '/api/login', { name: 'leo', password: PASSWORD })).status).toBe(401);
    const page = await api(s, 'GET', '/api/rooms/lobby/messages', undefined, reader.session.token);
    const first = (page.body.messages as Array<{ author: string; text: string; deleted?: boolean }>)[0];
    expect(first?.author).toBe('deleted user');
    if (mode === 'keep') expect(first?.text).toBe('my words');
    else expect(first).toMatchObject({ text: '', deleted: true });
    // The name can be registered again, by someone else.
    const next = await register(s, 'leo', 'a different passphrase');
    expect(next.userId).not.toBe(leo.userId);
  });
});

describe('sign-in limits', () => {
  it('failed sign-ins are limited per account from many addresses and per address across names; a right password then waits too', async () => {
    s = await startServer({ env: { LOGIN_RATE_PER_MIN: '100000' } });
    await register(s, 'nina');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await api(s, 'POST', '/api/login', { name: 'nina', password: `guess number ${i}` })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const limited = await api(s, 'POST', '/api/login', { name: 'nina', password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.message).toMatch(/Too many failed sign-ins/);
    // The same address, other names: its own budget is spent too (10 failures at once per address).
    expect((await api(s, 'POST', '/api/login', { name: 'somebody', password: 'whatever it is' })).status).toBe(429);
  });
});

describe('tokens of protocol 1.x', () => {
  it('a 1.x guest token still works until its user claims the name', async () => {
    s = await startServer();
    const secret = readFileSync(join(s.dataDir, 'session-secret'), 'utf8').trim();
    const body = Buffer.from(JSON.stringify({ v: 1, uid: 'legacy-user-1', name: 'olga', exp: Date.now() + 60_000 })).toString('base64url');
    const token = `${body}.${createHmac('sha256', Buffer.from(secret, 'base64url')).update(body).digest('base64url')}`;
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, token)).status).toBe(200);
    const claimed = await register(s, 'olga', PASSWORD, token);
    expect(claimed.userId).toBe('legacy-user-1');
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, token)).status).toBe(401);
    expect((await api(s, 'GET', '/api/rooms/mine', undefined, claimed.token)).status).toBe(200);
    const sock = connect(s.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await expect(new Promise((_r, reject) => sock.once('connect_error', reject))).rejects.toThrow('unauthorized');
    sock.close();
  });
});
