/**
 * The user's session: a token from `POST /api/session`, kept in storage so a
 * reload goes straight back to the chat.
 */
import { COMMANDS, ErrorEnvelope, type OkOf } from '../../../shared/protocol.ts';
import { errorText } from './error-text.ts';
import { STORAGE_KEYS, type KeyValueStorage } from './storage.ts';

/** The session as the server answered `session` (the stored copy leaves out the server's protocol version). */
export type Session = Omit<OkOf<'session'>, 'protocol'>;

/** A stored session is the server's answer, kept as is. */
const SessionSchema = COMMANDS.session.ok.omit({ protocol: true });

export type SessionResult = { ok: true; session: Session } | { ok: false; message: string };

/** Creates sessions; injected so tests need no HTTP. */
export interface SessionApi {
  create(name: string): Promise<SessionResult>;
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
  storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: session.token, name: session.name, userId: session.userId, expiresAt: session.expiresAt }));
  storage.setItem(STORAGE_KEYS.lastName, session.name);
}

export function clearSession(storage: KeyValueStorage): void {
  storage.removeItem(STORAGE_KEYS.session);
}

/** The name last used here, to pre-fill the nickname form. */
export function lastName(storage: KeyValueStorage): string {
  return storage.getItem(STORAGE_KEYS.lastName) ?? '';
}

/** The session API over HTTP on the page's origin. */
export function httpSessionApi(baseUrl: string, fetchImpl: typeof fetch = fetch): SessionApi {
  return {
    async create(name) {
      let res: Response;
      try {
        res = await fetchImpl(`${baseUrl}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name }),
        });
      } catch {
        return { ok: false, message: 'Could not reach the server. Check your connection and try again.' };
      }
      let body: unknown = null;
      try {
        body = await res.json();
      } catch {
        // Not JSON: handled below as an unexpected answer.
      }
      if (res.ok) {
        const r = SessionSchema.safeParse(body);
        if (r.success) return { ok: true, session: r.data };
        return { ok: false, message: 'The server sent an unexpected answer.' };
      }
      const err = ErrorEnvelope.safeParse(body);
      if (err.success) return { ok: false, message: errorText(err.data.error) };
      return { ok: false, message: `The server could not start a session (HTTP ${res.status}).` };
    },
  };
}
