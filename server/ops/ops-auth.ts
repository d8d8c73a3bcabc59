/**
 * Who may see the operations page: whoever holds `OPS_TOKEN`. Scripts send
 * it as a bearer token; a browser types it into the page once and gets a
 * short-lived cookie for it, so the token is not kept in the page's
 * JavaScript or storage, and an `EventSource` (which cannot send headers)
 * carries the cookie by itself.
 *
 * The cookie is `<expiry ms>.<HMAC-SHA256(key, expiry)>`, the key derived
 * from the token: changing `OPS_TOKEN` ends every cookie made with the old
 * one. It is HttpOnly and SameSite=Strict (no other site can make a browser
 * send it), and Secure when the page came over HTTPS.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const OPS_COOKIE = 'fc_ops';
/** How long a cookie lasts; the page asks for the token again after it, and a stream open past it is ended. */
export const OPS_COOKIE_TTL_MS = 60 * 60_000;

/** Compares in constant time (after hashing, so lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export class OpsAuth {
  private readonly key: Buffer;

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', token).update('fiberchat ops cookie v1').digest();
  }

  /** True for exactly the operator token. */
  tokenMatches(candidate: unknown): boolean {
    return typeof candidate === 'string' && sameSecret(candidate, this.token);
  }

  /** A fresh cookie value and when it expires. */
  issue(): { value: string; expiresAt: number } {
    const expiresAt = this.now() + OPS_COOKIE_TTL_MS;
    return { value: `${expiresAt}.${this.mac(expiresAt)}`, expiresAt };
  }

  /** The expiry of a valid, unexpired cookie value; undefined otherwise. */
  verifyCookie(value: string | undefined): number | undefined {
    if (!value) return undefined;
    const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return undefined;
    const expiresAt = Number(m[1]);
    if (!(expiresAt > this.now())) return undefined;
    const want = Buffer.from(this.mac(expiresAt));
    const got = Buffer.from(m[2] as string);
    return want.length === got.length && timingSafeEqual(want, got) ? expiresAt : undefined;
  }

  /**
   * Until when a request is authorised: by `Authorization: Bearer <token>`
   * (valid as long as the request lasts: Infinity) or by the cookie. Undefined: not authorised.
   */
  authorise(headers: { authorization?: string | undefined; cookie?: string | undefined }): number | undefined {
    const auth = headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ') && this.tokenMatches(auth.slice('Bearer '.length).trim())) return Infinity;
    return this.verifyCookie(readCookie(headers.cookie, OPS_COOKIE));
  }

  private mac(expiresAt: number): string {
    return createHmac('sha256', this.key).update(String(expiresAt)).digest('base64url');
  }
}

/** One cookie's value from a Cookie header (the first of that name), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header for a value (or, with `value` null, one that clears the cookie). */
export function cookieHeader(value: string | null, secure: boolean, maxAgeMs = OPS_COOKIE_TTL_MS): string {
  const parts = [`${OPS_COOKIE}=${value ?? ''}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${value === null ? 0 : Math.floor(maxAgeMs / 1000)}`];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}
