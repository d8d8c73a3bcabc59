/**
 * The user's session: a token from `POST /api/session` (a guest), from
 * creating an account or from signing in (with a password or a passkey),
 * kept in storage so a reload goes straight back to the chat.
 */
import { startAuthentication } from '@simplewebauthn/browser';
import { COMMANDS, ErrorEnvelope, type OkOf } from '../../../shared/protocol.ts';
import { errorText } from './error-text.ts';
import { STORAGE_KEYS, type KeyValueStorage } from './storage.ts';

/** The session as the server answered `session` (the stored copy leaves out the server's protocol version). */
export type Session = Omit<OkOf<'session'>, 'protocol'>;

/** A stored session is the server's answer, kept as is. */
const SessionSchema = COMMANDS.session.ok.omit({ protocol: true });

export type SessionResult = { ok: true; session: Session } | { ok: false; message: string };

/** Creates and ends sessions; injected so tests need no HTTP. */
export interface SessionApi {
  /** A guest session. */
  create(name: string): Promise<SessionResult>;
  /** A new account; with `token` (a guest's), claims the guest's name. */
  register(name: string, password: string, token?: string): Promise<SessionResult>;
  login(name: string, password: string): Promise<SessionResult>;
  /** Signs in with a passkey the browser holds for this site (it asks the user which). */
  passkey(): Promise<SessionResult>;
  /** Ends a session on the server (signing out); best effort. */
  end(session: Session): Promise<void>;
}

/** Reads the stored session, discarding it when corrupt or expired. */
export function loadSession(storage: KeyValueStorage, now: number): Session | null {
  const raw = storage.getItem(STORAGE_KEYS.session);
  if (raw === null) return null;
  try {
    const r = SessionSchema.safeParse(JSON.parse(raw));
    if (r.success && r.data.token !== '' && r.data.expiresAt > now) return r.data;
  } catch {
    // Corrupt entry: fall through and forget it.
  }
  storage.removeItem(STORAGE_KEYS.session);
  return null;
}

export function saveSession(storage: KeyValueStorage, session: Session): void {
  const { token, name, userId, expiresAt, sessionId, registered } = session;
  storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token, name, userId, expiresAt, sessionId, registered }));
  storage.setItem(STORAGE_KEYS.lastName, session.name);
}

export function clearSession(storage: KeyValueStorage): void {
  storage.removeItem(STORAGE_KEYS.session);
}

/** The name last used here, to pre-fill the nickname form. */
export function lastName(storage: KeyValueStorage): string {
  return storage.getItem(STORAGE_KEYS.lastName) ?? '';
}

const UNREACHABLE = 'Could not reach the server. Check your connection and try again.';

/** POSTs `body` and reads a session from the answer, or the refusal in words. */
async function sessionCall(fetchImpl: typeof fetch, url: string, body: unknown, opts: { token?: string | undefined; signIn?: boolean } = {}): Promise<SessionResult> {
  const { token } = opts;
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch {
    return { ok: false, message: UNREACHABLE };
  }
  let parsed: unknown = null;
  try {
    parsed = await res.json();
  } catch {
    // Not JSON: handled below as an unexpected answer.
  }
  if (res.ok) {
    const r = SessionSchema.safeParse(parsed);
    if (r.success) return { ok: true, session: r.data };
    return { ok: false, message: 'The server sent an unexpected answer.' };
  }
  const err = ErrorEnvelope.safeParse(parsed);
  // Signing in, the server's words for a wrong password and for too many failures are the ones to show.
  const own = opts.signIn === true && (err.data?.error.code === 'unauthorized' || err.data?.error.code === 'rate_limited');
  if (err.success) return { ok: false, message: own ? err.data.error.message : errorText(err.data.error) };
  return { ok: false, message: `The server could not start a session (HTTP ${res.status}).` };
}

/** The session API over HTTP on the page's origin. */
export function httpSessionApi(baseUrl: string, fetchImpl: typeof fetch = fetch): SessionApi {
  return {
    create: (name) => sessionCall(fetchImpl, `${baseUrl}/api/session`, { name }),
    register: (name, password, token) => sessionCall(fetchImpl, `${baseUrl}/api/accounts`, { name, password }, { token, signIn: true }),
    login: (name, password) => sessionCall(fetchImpl, `${baseUrl}/api/login`, { name, password }, { signIn: true }),
    async passkey() {
      let options: unknown;
      try {
        const res = await fetchImpl(`${baseUrl}/api/passkeys/login/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        if (!res.ok) return { ok: false, message: 'The server could not start a passkey sign-in.' };
        options = ((await res.json()) as { options: unknown }).options;
      } catch {
        return { ok: false, message: UNREACHABLE };
      }
      let response: unknown;
      try {
        response = await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
      } catch {
        return { ok: false, message: 'No passkey was used. Try again, or sign in with your password.' };
      }
      return sessionCall(fetchImpl, `${baseUrl}/api/passkeys/login`, { response }, { signIn: true });
    },
    async end(session) {
      if (session.sessionId === undefined) return;
      try {
        await fetchImpl(`${baseUrl}/api/sessions/${encodeURIComponent(session.sessionId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${session.token}` } });
      } catch {
        // Signed out here all the same; the session expires on its own.
      }
    },
  };
}
