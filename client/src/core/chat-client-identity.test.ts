/**
 * Who the chat core signs in as: `?name=` signs in at once when signed out,
 * but while signed in it only asks (`pendingSwitch`), keeps the current
 * identity connected, and replaces it on an explicit "Switch" alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from './chat-client.ts';
import { saveSession } from './session.ts';
import { STORAGE_KEYS, memoryStorage } from './storage.ts';
import { FakeTransports, ManualClock, fakeSessionApi, flush } from './testing-fakes.ts';

const ALICE = { token: 'tok', name: 'alice', userId: 'u-alice', expiresAt: Number.MAX_SAFE_INTEGER };

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});

function rig(opts: { signedIn?: boolean } = {}) {
  const storage = memoryStorage();
  if (opts.signedIn !== false) saveSession(storage, ALICE);
  const transports = new FakeTransports();
  const clock = new ManualClock();
  const sessions = fakeSessionApi('u-other');
  const client = new ChatClient({
    storage,
    preference: 'websocket',
    sessionApi: sessions,
    transportFactory: transports.factory,
    timers: clock,
    now: () => clock.now,
    random: () => 0.5,
  });
  clients.push(client);
  const snap = () => client.getSnapshot();
  const storedToken = () => {
    const raw = storage.getItem(STORAGE_KEYS.session);
    return raw === null ? null : (JSON.parse(raw) as { token: string }).token;
  };
  return { client, transports, sessions, snap, storedToken };
}

describe('?name= while signed out', () => {
  it('signs in at once under the normalised name', async () => {
    const r = rig({ signedIn: false });
    r.client.start({ autoName: '  carol\u00a0 ' });
    await flush();
    expect(r.sessions.calls).toEqual(['carol']);
    expect(r.snap().session?.name).toBe('carol');
    expect(r.transports.last.token).toBe('tok-carol');
    expect(r.snap().pendingSwitch).toBeNull();
  });

  it('a name the rules refuse is explained without asking the server', async () => {
    const r = rig({ signedIn: false });
    r.client.start({ autoName: 'car\u200bol' });
    await flush();
    expect(r.sessions.calls).toEqual([]);
    expect(r.snap().session).toBeNull();
    expect(r.snap().login.error).toBe("Names can't contain invisible characters");
    expect(r.snap().suggestedName).toBe('car\u200bol');
  });
});

describe('?name= while signed in', () => {
  it.each([
    ['the same name', 'alice'],
    ['the same name once normalised', ' alice\u2003'],
    ['a name the rules refuse', 'bo\u202eb'],
    ['an empty name', '  '],
  ])('%s changes nothing and asks nothing', async (_, autoName) => {
    const r = rig();
    r.client.start({ autoName });
    await flush();
    expect(r.snap().pendingSwitch).toBeNull();
    expect(r.sessions.calls).toEqual([]);
    expect(r.transports.last.token).toBe('tok');
    expect(r.snap().login.error).toBeNull();
  });

  it('another name asks first and keeps the current identity connected meanwhile', async () => {
    const r = rig();
    r.client.start({ autoName: 'bob' });
    await flush();
    expect(r.snap().pendingSwitch).toEqual({ name: 'bob' });
    expect(r.sessions.calls).toEqual([]);
    expect(r.snap().session?.name).toBe('alice');
    expect(r.storedToken()).toBe('tok');
    r.transports.last.connect();
    expect(r.snap().connection).toEqual({ status: 'online', transport: 'websocket' });
    expect(r.transports.last.token).toBe('tok');
  });

  it('"Stay" keeps the identity, the token and the connection', async () => {
    const r = rig();
    r.client.start({ autoName: 'bob' });
    const t = r.transports.last;
    t.connect();
    r.client.cancelSwitch();
    await flush();
    expect(r.snap().pendingSwitch).toBeNull();
    expect(r.snap().session).toEqual(ALICE);
    expect(r.storedToken()).toBe('tok');
    expect(r.sessions.calls).toEqual([]);
    expect(t.closed).toBe(false);
    expect(r.transports.all).toHaveLength(1);
  });

  it('"Switch" replaces the session and reconnects under the new one', async () => {
    const r = rig();
    r.client.start({ autoName: 'bob' });
    const old = r.transports.last;
    old.connect();
    await r.client.confirmSwitch();
    expect(r.sessions.calls).toEqual(['bob']);
    expect(r.snap().pendingSwitch).toBeNull();
    expect(r.snap().session?.name).toBe('bob');
    expect(r.storedToken()).toBe('tok-bob');
    expect(old.closed).toBe(true);
    expect(r.transports.last.token).toBe('tok-bob');
  });

  it('a refused switch leaves the current identity in place and says why', async () => {
    const r = rig();
    r.client.start({ autoName: 'bob' });
    const t = r.transports.last;
    t.connect();
    r.sessions.refusal = 'Too many new sessions from this address. Try again in a minute.';
    await r.client.confirmSwitch();
    expect(r.snap().session).toEqual(ALICE);
    expect(r.storedToken()).toBe('tok');
    expect(t.closed).toBe(false);
    expect(r.snap().pendingSwitch).toEqual({ name: 'bob' });
    expect(r.snap().login.error).toBe('Too many new sessions from this address. Try again in a minute.');
    // Staying afterwards clears the question and its error.
    r.client.cancelSwitch();
    expect(r.snap().login.error).toBeNull();
    expect(r.snap().pendingSwitch).toBeNull();
  });

  it('a session that expires while the question is open drops the question with it', async () => {
    const r = rig();
    r.client.start({ autoName: 'bob' });
    r.transports.last.drop({ unauthorized: true });
    expect(r.snap().session).toBeNull();
    expect(r.snap().pendingSwitch).toBeNull();
  });

  it('"Switch" with nothing asked does nothing', async () => {
    const r = rig();
    r.client.start();
    await r.client.confirmSwitch();
    expect(r.sessions.calls).toEqual([]);
    expect(r.snap().session?.name).toBe('alice');
  });
});

describe('signIn', () => {
  it.each([
    ['', 'Enter a name'],
    ['\u2800', 'Names need at least one visible character'],
    ['a'.repeat(33), 'Names can be at most 32 characters'],
    ['ev\u200de', "Names can't contain invisible characters"],
  ])('refuses %j with the shared rule message, before any request', async (name, message) => {
    const r = rig({ signedIn: false });
    r.client.start();
    await r.client.signIn(name);
    expect(r.sessions.calls).toEqual([]);
    expect(r.snap().login).toEqual({ pending: false, error: message });
  });

  it('sends the normalised name', async () => {
    const r = rig({ signedIn: false });
    r.client.start();
    await r.client.signIn('  dora  ');
    expect(r.sessions.calls).toEqual(['dora']);
  });
});

describe('accounts', () => {
  it('signs in with a password, replacing the guest session and reconnecting with the account', async () => {
    const r = rig();
    r.client.start();
    await r.client.signInWithPassword(' alice ', 'a long walk in the park');
    expect(r.sessions.calls).toEqual(['login:alice']);
    expect(r.snap().session).toMatchObject({ token: 'login-alice', registered: true });
    expect(r.transports.last.token).toBe('login-alice');
    expect(r.storedToken()).toBe('login-alice');
  });

  it('creates an account when asked; a refusal keeps the user where they were, with the reason', async () => {
    const r = rig();
    r.client.start();
    r.sessions.refusal = 'That name belongs to an account. Sign in, or pick another name.';
    await r.client.signInWithPassword('alice', 'a long walk in the park', true);
    expect(r.sessions.calls).toEqual(['register:alice']);
    expect(r.snap().session?.token).toBe('tok');
    expect(r.snap().login.error).toBe('That name belongs to an account. Sign in, or pick another name.');
    expect(r.transports.last.token).toBe('tok');
    r.client.clearLoginError();
    expect(r.snap().login.error).toBeNull();
  });

  it('a guest claims the name with its own token and keeps its connection', async () => {
    const r = rig();
    r.client.start();
    const before = r.transports.all.length;
    expect(await r.client.claimName('a long walk in the park')).toBeNull();
    expect(r.sessions.calls).toEqual(['register:alice:tok']);
    expect(r.snap().session?.registered).toBe(true);
    expect(r.storedToken()).toBe('acct-alice');
    // No reconnect: the server kept the session, only the stored copy is fresher.
    expect(r.transports.all.length).toBe(before);
  });

  it('signing out ends the session on the server, unless it is already gone', async () => {
    const r = rig();
    r.client.start();
    await r.client.signInWithPasskey();
    r.client.signOut();
    expect(r.sessions.calls).toEqual(['passkey', 'end:sid-pk']);
    expect(r.snap().session).toBeNull();
    expect(r.storedToken()).toBeNull();

    await r.client.signInWithPasskey();
    r.client.signOut({ ended: true, notice: 'Your account was deleted.' });
    expect(r.sessions.calls).toEqual(['passkey', 'end:sid-pk', 'passkey']);
    expect(r.snap().signedOut).toBe('Your account was deleted.');
  });

  it('a session ended from another device signs out at once and says why', () => {
    const r = rig();
    r.client.start();
    r.transports.last.connect();
    r.transports.last.listener.bye({ reason: 'session_revoked' });
    expect(r.snap().session).toBeNull();
    expect(r.storedToken()).toBeNull();
    expect(r.snap().signedOut).toBe('You were signed out: this session was ended from another device.');
  });
});
