/**
 * The user's session: a token from `POST /api/session`, kept in storage so a
 * reload goes straight back to the chat.
 */
import { z } from 'zod';
import { ErrorBody, type SessionOk } from '../../../shared/protocol.ts';
import { STORAGE_KEYS, type KeyValueStorage } from './storage.ts';

export interface Session {
  token: string;
  name: string;
  userId: string;
  expiresAt: number;
}

const SessionSchema = z.object({
  token: z.string().min(1),
  name: z.string(),
  userId: z.string(),
  expiresAt: z.number(),
});

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
    if (r.success && r.data.expiresAt > now) return r.data;
  } catch {
    // Corrupt entry: fall through and forget it.
  }
  storage.removeItem(STORAGE_KEYS.session);
  return null;
}

export function saveSession(storage: KeyValueStorage, session: Session): void {
  storage.setItem(STORAGE_KEYS.session, JSON.stringify(session));
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
        if (r.success) return { ok: true, session: r.data satisfies SessionOk };
        return { ok: false, message: 'The server sent an unexpected answer.' };
      }
      const err = z.object({ error: ErrorBody }).safeParse(body);
      if (err.success) return { ok: false, message: err.data.error.message };
      return { ok: false, message: `The server could not start a session (HTTP ${res.status}).` };
    },
  };
}
