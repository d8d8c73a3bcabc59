import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SESSIONS_PER_USER_CAP, type SessionRecord } from './account-records.ts';
import { testStores } from './test-stores.ts';
import type { Draft, Store } from './store.ts';

const impls = testStores().filter(([name]) => ['MemoryStore', 'SqliteStore', 'PgStore'].includes(name));
const T = 1_800_000_000_000;

let n = 0;
function draft(text: string, extra: Partial<Draft> = {}): Draft {
  n++;
  return { id: `acct-${n}`, clientId: `acct-client-${n}`, author: 'alice', authorId: 'u1', text, ts: T + n, kind: 'message', ...extra };
}

function session(id: string, userId: string, lastSeenAt: number, extra: Partial<SessionRecord> = {}): SessionRecord {
  return { id, userId, createdAt: lastSeenAt, lastSeenAt, expiresAt: lastSeenAt + 3_600_000, ...extra };
}

describe.each(impls)('%s: accounts contract', (_name, impl) => {
  let store: Store;
  beforeAll(async () => impl.setup?.(), 120_000);
  beforeEach(async () => {
    await impl.reset?.();
    store = impl.make();
  });
  afterEach(async () => store.close());

  it('creates an account once per userId and once per name key', async () => {
    const a = { userId: 'u1', name: 'Alice', nameKey: 'alice', passwordHash: 'scrypt$x', createdAt: T };
    expect(await store.createAccount(a)).toBe(true);
    expect(await store.createAccount({ ...a, userId: 'u2' })).toBe(false);
    expect(await store.createAccount({ ...a, nameKey: 'other' })).toBe(false);
    expect(await store.account('u1')).toEqual(a);
    expect(await store.accountByName('alice')).toEqual(a);
    expect(await store.accountByName('other')).toBeUndefined();
    // A passkey-only account has no hash.
    expect(await store.createAccount({ userId: 'u3', name: 'bob', nameKey: 'bob', createdAt: T })).toBe(true);
    expect((await store.account('u3'))?.passwordHash).toBeUndefined();
    await store.setPassword('u3', 'scrypt$y');
    expect((await store.account('u3'))?.passwordHash).toBe('scrypt$y');
  });

  it('keeps sessions: by id until they expire, listed most recently seen first, touched, ended only by their user', async () => {
    await store.createSession(session('s1', 'u1', T, { userAgent: 'UA', address: '10.0.0.1' }));
    await store.createSession(session('s2', 'u1', T + 10));
    await store.createSession(session('s3', 'u2', T + 20));
    expect(await store.session('s1', T)).toEqual(session('s1', 'u1', T, { userAgent: 'UA', address: '10.0.0.1' }));
    expect(await store.session('s1', T + 3_600_000)).toBeUndefined();
    expect((await store.sessions('u1', T)).map((s) => s.id)).toEqual(['s2', 's1']);
    await store.touchSession('s1', T + 100, '10.0.0.2');
    expect(await store.session('s1', T)).toMatchObject({ lastSeenAt: T + 100, address: '10.0.0.2' });
    expect((await store.sessions('u1', T)).map((s) => s.id)).toEqual(['s1', 's2']);
    await store.touchSession('nope', T, undefined);
    expect(await store.endSession('u2', 's1')).toBe(false);
    expect(await store.endSession('u1', 's1')).toBe(true);
    expect(await store.endSession('u1', 's1')).toBe(false);
    await store.createSession(session('s4', 'u1', T + 30));
    expect((await store.endSessions('u1', 's4')).sort()).toEqual(['s2']);
    expect((await store.sessions('u1', T)).map((s) => s.id)).toEqual(['s4']);
    expect(await store.endSessions('u1')).toEqual(['s4']);
    expect((await store.sessions('u2', T)).map((s) => s.id)).toEqual(['s3']);
  });

  it(`holds one user to ${SESSIONS_PER_USER_CAP} sessions, ending the least recently seen, and prunes expired ones`, async () => {
    for (let i = 0; i < SESSIONS_PER_USER_CAP + 3; i++) await store.createSession(session(`c${i}`, 'u1', T + i));
    const ids = (await store.sessions('u1', T)).map((s) => s.id);
    expect(ids).toHaveLength(SESSIONS_PER_USER_CAP);
    expect(ids).not.toContain('c0');
    expect(ids).toContain(`c${SESSIONS_PER_USER_CAP + 2}`);
    await store.createSession(session('old', 'u2', T - 10_000_000));
    expect(await store.pruneSessions(T)).toBe(1);
    expect(await store.session('old', 0)).toBeUndefined();
  });

  it('keeps passkeys per user, and each challenge good once, for its purpose, until it expires', async () => {
    const key = { id: 'cred-1', userId: 'u1', publicKey: new Uint8Array([1, 2, 3]), counter: 0, transports: ['internal'], label: 'Laptop', createdAt: T };
    await store.addPasskey(key);
    await store.addPasskey({ ...key, id: 'cred-2', userId: 'u2', transports: undefined });
    expect(await store.passkey('cred-1')).toEqual(key);
    expect((await store.passkeys('u1')).map((k) => k.id)).toEqual(['cred-1']);
    await store.usePasskey('cred-1', 7, T + 5);
    expect(await store.passkey('cred-1')).toMatchObject({ counter: 7, lastUsedAt: T + 5 });
    expect(await store.removePasskey('u1', 'cred-2')).toBe(false);
    expect(await store.removePasskey('u1', 'cred-1')).toBe(true);
    expect(await store.passkey('cred-1')).toBeUndefined();

    const far = Date.now() + 60_000;
    await store.saveChallenge({ challenge: 'c1', purpose: 'login', expiresAt: far });
    await store.saveChallenge({ challenge: 'c2', purpose: 'register', userId: 'u1', expiresAt: far });
    await store.saveChallenge({ challenge: 'c3', purpose: 'login', expiresAt: far });
    expect(await store.takeChallenge('c1', 'login', Date.now())).toEqual({ challenge: 'c1', purpose: 'login', expiresAt: far });
    expect(await store.takeChallenge('c1', 'login', Date.now())).toBeUndefined();
    // The wrong purpose uses it up too: a challenge is never tried twice.
    expect(await store.takeChallenge('c2', 'login', Date.now())).toBeUndefined();
    expect(await store.takeChallenge('c2', 'register', Date.now())).toBeUndefined();
    expect(await store.takeChallenge('c3', 'login', far + 1)).toBeUndefined();
  });

  it("lists a user's undeleted messages by room then seq, a page at a time", async () => {
    await store.commit('b-room', [draft('b1'), draft('other', { authorId: 'u2', author: 'bob' }), draft('b2')], 'e1');
    await store.commit('a-room', [draft('a1'), draft('a2', { replyTo: 1 })], 'e2');
    await store.commit('a-room', [draft('', { kind: 'edit', target: 1, text: 'a1 edited' }), draft('', { kind: 'delete', target: 2 })], 'e2');
    const all = await store.authored('u1', undefined, 10);
    expect(all.map((m) => `${m.room}/${m.seq}/${m.text}`)).toEqual(['a-room/1/a1 edited', 'b-room/1/b1', 'b-room/3/b2']);
    expect(all[0]?.editedAt).toBeDefined();
    const first = await store.authored('u1', undefined, 2);
    const rest = await store.authored('u1', { room: first[1]?.room as string, seq: first[1]?.seq as number }, 2);
    expect([...first, ...rest].map((m) => m.text)).toEqual(['a1 edited', 'b1', 'b2']);
  });

  it('deletes an account with its sessions, passkeys and memberships; renames its messages when asked', async () => {
    await store.createAccount({ userId: 'u1', name: 'alice', nameKey: 'alice', passwordHash: 'h', createdAt: T });
    await store.saveUser({ userId: 'u1', name: 'alice' });
    await store.createSession(session('s1', 'u1', T));
    await store.addPasskey({ id: 'k1', userId: 'u1', publicKey: new Uint8Array([1]), counter: 0, label: 'x', createdAt: T });
    await store.commit('lobby', [draft('hello'), draft('', { kind: 'reaction', target: 1, emoji: '👍', on: true })], 'e');
    await store.commit('quiet', [draft('bob here', { authorId: 'u2', author: 'bob' })], 'e');
    await store.addMember('lobby', { userId: 'u1', name: 'alice' }, 'member');
    expect(await store.deleteAccount('u1', 'deleted user')).toEqual(['lobby']);
    expect(await store.account('u1')).toBeUndefined();
    expect(await store.accountByName('alice')).toBeUndefined();
    expect(await store.session('s1', T)).toBeUndefined();
    expect(await store.passkeys('u1')).toEqual([]);
    expect(await store.memberships('u1')).toEqual([]);
    expect(await store.user('u1')).toBeUndefined();
    const [msg] = await store.readAfter('lobby', 0, 1, 'u2');
    expect(msg).toMatchObject({ author: 'deleted user', text: 'hello' });
    expect(msg?.reactions?.[0]?.users).toEqual([{ userId: 'u1', name: 'deleted user' }]);
    expect((await store.readAfter('quiet', 0, 1))[0]?.author).toBe('bob');
    // The name is free again.
    expect(await store.createAccount({ userId: 'u9', name: 'alice', nameKey: 'alice', createdAt: T })).toBe(true);
  });

  it('deletes an account without touching its messages when no name is given', async () => {
    await store.createAccount({ userId: 'u1', name: 'alice', nameKey: 'alice', createdAt: T });
    await store.commit('lobby', [draft('mine')], 'e');
    expect(await store.deleteAccount('u1')).toEqual([]);
    expect((await store.readAfter('lobby', 0, 1))[0]?.author).toBe('alice');
  });
});
