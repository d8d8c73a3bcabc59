import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Identity } from './rooms/types.ts';

/**
 * What a token says. Version 2 (since protocol 2.1) names its session row
 * (`sid`), which the store can end; version 1 tokens, issued before accounts
 * existed, name none and are taken for guests only until they expire.
 */
const Claims = z.discriminatedUnion('v', [
  z.object({ v: z.literal(1), uid: z.string().min(1).max(64), name: z.string().min(1).max(128), exp: z.number() }),
  z.object({ v: z.literal(2), uid: z.string().min(1).max(64), sid: z.string().min(1).max(64), name: z.string().min(1).max(128), exp: z.number() }),
]);
export type Claims = z.infer<typeof Claims>;

/** Tokens longer than this are refused before any parsing or crypto. */
const MAX_TOKEN_CHARS = 1024;

/**
 * Signed session tokens: base64url(claims) "." base64url(HMAC-SHA256). The
 * signature proves the server issued the claims; whether their session still
 * stands is the store's to say (`server/accounts/session-service.ts`). The
 * socket handshake and the REST edge take identity from a token and from
 * nothing else (never from a query string or a payload).
 */
export class Sessions {
  constructor(
    private readonly secret: Buffer,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token for session `sid` of user `uid`, valid until `exp`. */
  sign(claims: { uid: string; sid: string; name: string; exp: number }): string {
    const body = Buffer.from(JSON.stringify({ v: 2, ...claims })).toString('base64url');
    return `${body}.${this.sign64(body)}`;
  }

  /** The claims of a token the server signed and that has not expired; undefined for anything else. */
  decode(token: unknown): Claims | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    // Compare the signature as text, not as decoded bytes: base64url decoding
    // also accepts padding, the "+/" alphabet, skipped characters and other
    // final bits, so several strings would verify as one token. Only the
    // canonical encoding (the one `sign` writes) is accepted.
    const given = Buffer.from(token.slice(dot + 1), 'utf8');
    const expected = Buffer.from(this.sign64(body), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: Claims;
    try {
      claims = Claims.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
    if (claims.exp <= this.now()) return undefined;
    return claims;
  }

  /** True once the token that proved `who` has expired. */
  expired(who: Identity): boolean {
    return who.expiresAt !== undefined && this.now() >= who.expiresAt;
  }

  private sign64(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

/**
 * The session secret: SESSION_SECRET when set, else one generated on first
 * start and kept in DATA_DIR (mode 0600) so tokens survive restarts.
 */
export function loadSecret(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}
