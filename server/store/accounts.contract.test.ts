import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SESSIONS_PER_USER_CAP, type AuthoredCursor, type AuthoredMessage, type PasskeyRecord, type SessionRecord } from './account-records.ts';
import { testStores } from './test-stores.ts';
import type { Draft, Store } from './store.ts';

/** One of each kind of store: the SQLite variants differ in how they commit, which accounts do not touch. */
const impls = testStores().filter(([name]) => ['MemoryStore', 'SqliteStore', 'PgStore'].includes(name));
const T = 1_800_000_000_000;
const HOUR = 3_600_000;

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `acct-${n}`, clientId: `acct-client-${n}`, author: 'alice', authorId: 'u1', text, ts: T + n, kind: 'message', ...extra };
}

const bob = { authorId: 'u2', author: 'bob' };

function session(id: string, userId: string, lastSeenAt: number, extra: Partial<SessionRecord> = {}): SessionRecord {
  return { id, userId, createdAt: lastSeenAt, lastSeenAt, expiresAt: lastSeenAt + HOUR, ...extra };
}

function passkey(id: string, userId: string, extra: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return { id, userId, publicKey: new Uint8Array([1, 2, 3, 250]), counter: 0, transports: ['internal', 'hybrid'], label: 'Laptop', createdAt: T, ...extra };
}

/** Every page of `userId`'s messages, `limit` at a time, each page starting after the last one's end. */
async function allPages(store: Store, userId: string, limit: number): Promise<AuthoredMessage[][]> {
  const pages: AuthoredMessage[][] = [];
  let after: AuthoredCursor | undefined;
  for (;;) {
    const page = await store.authored(userId, after, limit);
    if (page.length === 0) return pages;
    expect(page.length).toBeLessThanOrEqual(limit);
    pages.push(page);
    const last = page.at(-1) as AuthoredMessage;
    after = { room: last.room, seq: last.seq };
  }
}

describe.each(impls)('%s: accounts contract', (_name, impl) => {
  let store: Store;
  beforeAll(async () => impl.setup?.(), 120_000);
  beforeEach(async () => {
    await impl.reset?.();
    store = impl.make();
  });
  afterEach(async () => store.close());

  it('creates an account once per userId and once per name key, writing nothing when either is taken', async () => {
    const a = { userId: 'u1', name: 'Alice', nameKey: 'alice', passwordHash: 'scrypt$x', createdAt: T };
    expect(await store.createAccount(a)).toBe(true);
    // The name key taken, by another userId.
    expect(await store.createAccount({ ...a, userId: 'u2', name: 'ALICE' })).toBe(false);
    // The userId taken, under another name.
    expect(await store.createAccount({ ...a, name: 'Other', nameKey: 'other' })).toBe(false);
    expect(await store.account('u2')).toBeUndefined();
    expect(await store.accountByName('other')).toBeUndefined();
    expect(await store.account('u1')).toEqual(a);
    expect(await store.accountByName('alice')).toEqual(a);
    expect(await store.account('nobody')).toBeUndefined();
  });

  it('keeps an account without a password until one is set', async () => {
    expect(await store.createAccount({ userId: 'u3', name: 'bob', nameKey: 'bob', createdAt: T })).toBe(true);
    expect((await store.account('u3'))?.passwordHash).toBeUndefined();
    await store.setPassword('u3', 'scrypt$y');
    expect((await store.account('u3'))?.passwordHash).toBe('scrypt$y');
    expect((await store.accountByName('bob'))?.passwordHash).toBe('scrypt$y');
    await store.setPassword('nobody', 'scrypt$z');
    expect(await store.account('nobody')).toBeUndefined();
  });

  it('keeps sessions: by id until they expire, listed most recently seen first, touched, ended only by their user', async () => {
    const first = session('s1', 'u1', T, { userAgent: 'UA', address: '10.0.0.1' });
    await store.createSession(first);
    await store.createSession(session('s2', 'u1', T + 10));
    await store.createSession(session('s3', 'u2', T + 20));
    await store.createSession(session('brief', 'u1', T + 30, { expiresAt: T + 40 }));
    expect(await store.session('s1', T)).toEqual(first);
    expect((await store.session('s2', T))?.userAgent).toBeUndefined();
    expect(await store.session('s1', T + HOUR)).toBeUndefined();
    expect(await store.session('nope', T)).toBeUndefined();
    expect((await store.sessions('u1', T)).map((s) => s.id)).toEqual(['brief', 's2', 's1']);
    // Expired at T + 40: no longer listed.
    expect((await store.sessions('u1', T + 40)).map((s) => s.id)).toEqual(['s2', 's1']);

    await store.touchSession('s1', T + 100, '10.0.0.2');
    expect(await store.session('s1', T)).toEqual({ ...first, lastSeenAt: T + 100, address: '10.0.0.2' });
    // No address: the last one stays.
    await store.touchSession('s1', T + 110);
    expect(await store.session('s1', T)).toMatchObject({ lastSeenAt: T + 110, address: '10.0.0.2' });
    expect((await store.sessions('u1', T + 40)).map((s) => s.id)).toEqual(['s1', 's2']);
    await store.touchSession('nope', T);
    expect(await store.session('nope', T)).toBeUndefined();

    expect(await store.endSession('u2', 's1')).toBe(false);
    expect(await store.session('s1', T)).toBeDefined();
    expect(await store.endSession('u1', 's1')).toBe(true);
    expect(await store.endSession('u1', 's1')).toBe(false);
    expect(await store.session('s1', T)).toBeUndefined();
  });

  it('ends every session of a user but the one kept, answering which it ended', async () => {
    for (const id of ['a', 'b', 'c']) await store.createSession(session(id, 'u1', T));
    await store.createSession(session('theirs', 'u2', T));
    expect((await store.endSessions('u1', 'b')).sort()).toEqual(['a', 'c']);
    expect((await store.sessions('u1', T)).map((s) => s.id)).toEqual(['b']);
    expect(await store.endSessions('u1')).toEqual(['b']);
    expect(await store.endSessions('u1')).toEqual([]);
    expect((await store.sessions('u2', T)).map((s) => s.id)).toEqual(['theirs']);
  });

  it("drops a user's expired sessions when it creates one, and nobody else's", async () => {
    await store.createSession(session('mine', 'u1', T, { expiresAt: T + 10 }));
    await store.createSession(session('theirs', 'u2', T, { expiresAt: T + 10 }));
    await store.createSession(session('new', 'u1', T + 20));
    // Asked about an earlier time, a row still there would answer.
    expect(await store.session('mine', T)).toBeUndefined();
    expect(await store.session('theirs', T)).toBeDefined();
    expect(await store.session('new', T + 20)).toBeDefined();
  });

  it(`holds one user to ${SESSIONS_PER_USER_CAP} sessions, ending the least recently seen but never the new one`, async () => {
    const extra = 3;
    for (let i = 0; i < SESSIONS_PER_USER_CAP + extra; i++) await store.createSession(session(`c${i}`, 'u1', T + i));
    await store.createSession(session('other user', 'u2', T - 5));
    const kept = (await store.sessions('u1', T)).map((s) => s.id);
    expect(kept).toEqual(Array.from({ length: SESSIONS_PER_USER_CAP }, (_, i) => `c${SESSIONS_PER_USER_CAP + extra - 1 - i}`));
    // Seen before every other: it still stays, and the least recently seen of the rest goes.
    await store.createSession(session('late', 'u1', T - 1));
    const now = (await store.sessions('u1', T)).map((s) => s.id);
    expect(now).toHaveLength(SESSIONS_PER_USER_CAP);
    expect(now.at(-1)).toBe('late');
    expect(now).not.toContain(`c${extra}`);
    expect(now).toContain(`c${extra + 1}`);
    expect(await store.session('other user', T)).toBeDefined();
  });

  it('prunes the sessions expired at a time, and only those', async () => {
    await store.createSession(session('old', 'u1', T - 2 * HOUR));
    await store.createSession(session('older', 'u2', T - 3 * HOUR));
    await store.createSession(session('live', 'u3', T));
    expect(await store.pruneSessions(T)).toBe(2);
    expect(await store.session('old', 0)).toBeUndefined();
    expect(await store.session('older', 0)).toBeUndefined();
    expect(await store.session('live', T)).toBeDefined();
    expect(await store.pruneSessions(T)).toBe(0);
  });

  it('keeps passkeys per user: listed, used, removed only by their user', async () => {
    const key = passkey('cred-1', 'u1');
    await store.addPasskey(key);
    await store.addPasskey(passkey('cred-0', 'u1', { createdAt: T + 1, transports: undefined, label: 'Phone' }));
    await store.addPasskey(passkey('cred-2', 'u2'));
    const stored = await store.passkey('cred-1');
    expect(stored).toEqual(key);
    expect(stored?.publicKey).toBeInstanceOf(Uint8Array);
    expect((await store.passkey('cred-0'))?.transports).toBeUndefined();
    expect(await store.passkey('nope')).toBeUndefined();
    // Oldest first.
    expect((await store.passkeys('u1')).map((k) => k.id)).toEqual(['cred-1', 'cred-0']);
    expect(await store.passkeys('u3')).toEqual([]);

    expect((await store.passkey('cred-1'))?.lastUsedAt).toBeUndefined();
    await store.usePasskey('cred-1', 7, T + 5);
    expect(await store.passkey('cred-1')).toEqual({ ...key, counter: 7, lastUsedAt: T + 5 });
    await store.usePasskey('nope', 1, T);
    expect(await store.passkey('nope')).toBeUndefined();

    expect(await store.removePasskey('u1', 'cred-2')).toBe(false);
    expect(await store.passkey('cred-2')).toBeDefined();
    expect(await store.removePasskey('u1', 'cred-1')).toBe(true);
    expect(await store.removePasskey('u1', 'cred-1')).toBe(false);
    expect(await store.passkey('cred-1')).toBeUndefined();
    expect((await store.passkeys('u1')).map((k) => k.id)).toEqual(['cred-0']);
  });

  it('hands each challenge out once, for its purpose, until it expires', async () => {
    const far = Date.now() + 60_000;
    await store.saveChallenge({ challenge: 'c1', purpose: 'login', expiresAt: far });
    await store.saveChallenge({ challenge: 'c2', purpose: 'register', userId: 'u1', expiresAt: far });
    await store.saveChallenge({ challenge: 'c3', purpose: 'register', userId: 'u1', expiresAt: far });
    await store.saveChallenge({ challenge: 'c4', purpose: 'login', expiresAt: far });
    const now = Date.now();
    expect(await store.takeChallenge('c1', 'login', now)).toEqual({ challenge: 'c1', purpose: 'login', expiresAt: far });
    expect(await store.takeChallenge('c1', 'login', now)).toBeUndefined();
    expect(await store.takeChallenge('c2', 'register', now)).toEqual({ challenge: 'c2', purpose: 'register', userId: 'u1', expiresAt: far });
    // The wrong purpose uses it up too: a challenge is never tried twice.
    expect(await store.takeChallenge('c3', 'login', now)).toBeUndefined();
    expect(await store.takeChallenge('c3', 'register', now)).toBeUndefined();
    // So does a late answer.
    expect(await store.takeChallenge('c4', 'login', far)).toBeUndefined();
    expect(await store.takeChallenge('c4', 'login', now)).toBeUndefined();
    expect(await store.takeChallenge('never', 'login', now)).toBeUndefined();
  });

  it('drops the expired challenges when it saves one', async () => {
    const far = Date.now() + 60_000;
    await store.saveChallenge({ challenge: 'stale', purpose: 'login', expiresAt: Date.now() - 1 });
    await store.saveChallenge({ challenge: 'pending', purpose: 'login', expiresAt: far });
    await store.saveChallenge({ challenge: 'next', purpose: 'login', expiresAt: far });
    // Taken as of time 0, a row still there would answer.
    expect(await store.takeChallenge('stale', 'login', 0)).toBeUndefined();
    expect(await store.takeChallenge('pending', 'login', 0)).toMatchObject({ challenge: 'pending' });
  });

  it("lists a user's undeleted messages by room then seq, a page at a time", async () => {
    await store.commit('b-room', [draft('b1'), draft('other', bob), draft('b2'), draft('b3')], 'e1');
    await store.commit('a-room', [draft('a1'), draft('a2'), draft('a3', { replyTo: 2 })], 'e2');
    await store.commit(
      'a-room',
      [
        draft('a1 edited', { kind: 'edit', target: 1 }),
        draft('', { kind: 'delete', target: 2 }),
        draft('', { kind: 'reaction', target: 3, emoji: '👍', on: true }),
      ],
      'e2',
    );
    await store.commit('c-room', [draft('not mine', bob)], 'e3');
    const all = await store.authored('u1', undefined, 100);
    // Edits, deletes and reactions are entries of u1's too, and not messages.
    expect(all.map((m) => `${m.room}/${m.seq}/${m.text}`)).toEqual(['a-room/1/a1 edited', 'a-room/3/a3', 'b-room/1/b1', 'b-room/3/b2', 'b-room/4/b3']);
    const [a1, a3, b1] = all;
    expect(a1).toMatchObject({ ts: expect.any(Number), editedAt: expect.any(Number) });
    expect(a1?.replyTo).toBeUndefined();
    expect(a3?.replyTo).toBe(2);
    expect(a3?.editedAt).toBeUndefined();
    expect(b1).toEqual({ room: 'b-room', seq: 1, ts: expect.any(Number), text: 'b1' });

    for (const limit of [1, 2, 3]) expect((await allPages(store, 'u1', limit)).flat()).toEqual(all);
    expect((await allPages(store, 'u1', 2)).map((p) => p.length)).toEqual([2, 2, 1]);
    // A cursor past a room's end goes on with the next room.
    expect((await store.authored('u1', { room: 'a-room', seq: 99 }, 1)).map((m) => m.text)).toEqual(['b1']);
    expect(await store.authored('u1', { room: 'b-room', seq: 4 }, 10)).toEqual([]);
    expect(await store.authored('u2', undefined, 1)).toEqual([expect.objectContaining({ room: 'b-room', text: 'other' })]);
    expect(await store.authored('nobody', undefined, 10)).toEqual([]);
  });

  it('deletes an account with its sessions, passkeys, challenges, memberships and user row; renames its messages when asked', async () => {
    await store.createAccount({ userId: 'u1', name: 'alice', nameKey: 'alice', passwordHash: 'h', createdAt: T });
    await store.createAccount({ userId: 'u2', name: 'bob', nameKey: 'bob', createdAt: T });
    await store.saveUser({ userId: 'u1', name: 'alice' });
    await store.saveUser({ userId: 'u2', name: 'bob' });
    await store.createSession(session('s1', 'u1', T));
    await store.createSession(session('s2', 'u2', T));
    await store.addPasskey(passkey('k1', 'u1'));
    await store.addPasskey(passkey('k2', 'u2'));
    await store.saveChallenge({ challenge: 'reg', purpose: 'register', userId: 'u1', expiresAt: Date.now() + 60_000 });
    await store.commit(
      'lobby',
      [
        draft('hello'),
        draft('hi alice', { ...bob, replyTo: 1 }),
        draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true }),
        draft('', { ...bob, kind: 'reaction', target: 1, emoji: '👍', on: true }),
        draft('again'),
      ],
      'e',
    );
    await store.commit('attic', [draft('up here')], 'e');
    await store.commit('quiet', [draft('bob here', bob)], 'e');
    for (const room of ['lobby', 'quiet']) {
      await store.addMember(room, { userId: 'u1', name: 'alice' }, 'member');
      await store.addMember(room, { userId: 'u2', name: 'bob' }, 'member');
    }
    await store.setRead('lobby', 'u1', 2);

    expect(await store.deleteAccount('u1', 'deleted user')).toEqual(['attic', 'lobby']);

    expect(await store.account('u1')).toBeUndefined();
    expect(await store.accountByName('alice')).toBeUndefined();
    expect(await store.user('u1')).toBeUndefined();
    expect(await store.session('s1', T)).toBeUndefined();
    expect(await store.sessions('u1', T)).toEqual([]);
    expect(await store.passkeys('u1')).toEqual([]);
    expect(await store.passkey('k1')).toBeUndefined();
    expect(await store.takeChallenge('reg', 'register', Date.now())).toBeUndefined();
    expect(await store.memberships('u1')).toEqual([]);
    expect(await store.isMember('lobby', 'u1')).toBe(false);
    expect(await store.lastRead('lobby', 'u1')).toBe(0);
    expect((await store.members('lobby')).map((m) => m.userId)).toEqual(['u2']);

    const page = await store.readAfter('lobby', 0, 10, 'u2');
    expect(page.map((m) => [m.seq, m.author])).toEqual([
      [1, 'deleted user'],
      [2, 'bob'],
      [3, 'deleted user'],
      [4, 'bob'],
      [5, 'deleted user'],
    ]);
    expect(page[0]?.reactions?.[0]?.users).toEqual([
      { userId: 'u1', name: 'deleted user' },
      { userId: 'u2', name: 'bob' },
    ]);
    expect(page[1]?.reply).toMatchObject({ seq: 1, author: 'deleted user', text: 'hello' });
    const before = await store.readBefore('lobby', 3, 2, 'u2');
    expect(before.map((m) => m.author)).toEqual(['deleted user', 'bob']);
    expect(before[1]?.reply?.author).toBe('deleted user');
    expect((await store.readAfter('attic', 0, 1))[0]?.author).toBe('deleted user');
    // The messages stay the user's: the caller can still find them.
    expect((await store.authored('u1', undefined, 10)).map((m) => m.text)).toEqual(['up here', 'hello', 'again']);

    // Nobody else lost anything.
    expect(await store.account('u2')).toBeDefined();
    expect(await store.user('u2')).toEqual({ userId: 'u2', name: 'bob' });
    expect(await store.session('s2', T)).toBeDefined();
    expect(await store.passkey('k2')).toBeDefined();
    expect((await store.memberships('u2')).map((m) => m.room).sort()).toEqual(['lobby', 'quiet']);
    expect((await store.readAfter('quiet', 0, 1))[0]?.author).toBe('bob');
    // The name is free again.
    expect(await store.createAccount({ userId: 'u9', name: 'alice', nameKey: 'alice', createdAt: T })).toBe(true);
  });

  it('deletes an account without touching its messages when no name is given', async () => {
    await store.createAccount({ userId: 'u1', name: 'alice', nameKey: 'alice', createdAt: T });
    await store.createSession(session('s1', 'u1', T));
    await store.commit('lobby', [draft('mine'), draft('', { kind: 'reaction', target: 1, emoji: '🎉', on: true })], 'e');
    await store.addMember('lobby', { userId: 'u1', name: 'alice' }, 'member');
    expect(await store.deleteAccount('u1')).toEqual([]);
    expect(await store.account('u1')).toBeUndefined();
    expect(await store.session('s1', T)).toBeUndefined();
    expect(await store.memberships('u1')).toEqual([]);
    const [msg] = await store.readAfter('lobby', 0, 1);
    expect(msg?.author).toBe('alice');
    expect(msg?.reactions?.[0]?.users).toEqual([{ userId: 'u1', name: 'alice' }]);
    expect(await store.deleteAccount('nobody', 'deleted user')).toEqual([]);
  });
});
