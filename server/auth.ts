import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SessionOk } from '../shared/protocol.ts';
import type { Identity } from './rooms/types.ts';

const Claims = z.object({ v: z.literal(1), uid: z.string().min(1).max(64), name: z.string().min(1).max(128), exp: z.number() });

/** Tokens longer than this are refused before any parsing or crypto. */
const MAX_TOKEN_CHARS = 1024;

/**
 * Signed, stateless session tokens: base64url(claims) "." base64url(HMAC-SHA256).
 * The socket handshake and the REST edge take identity from a verified token
 * and from nothing else (never from a query string or a payload).
 */
export class Sessions {
  constructor(
    private readonly secret: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  issue(name: string): SessionOk {
    const claims = { v: 1 as const, uid: randomUUID(), name, exp: this.now() + this.ttlMs };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, name, userId: claims.uid, expiresAt: claims.exp };
  }

  /** The identity a token proves, or undefined for anything forged, malformed or expired. */
  verify(token: unknown): Identity | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    // Compare the signature as text, not as decoded bytes: base64url decoding
    // also accepts padding, the "+/" alphabet, skipped characters and other
    // final bits, so several strings would verify as one token. Only the
    // canonical encoding (the one `sign` writes) is accepted.
    const given = Buffer.from(token.slice(dot + 1), 'utf8');
    const expected = Buffer.from(this.sign(body), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: z.infer<typeof Claims>;
    try {
      claims = Claims.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
    if (claims.exp <= this.now()) return undefined;
    return { userId: claims.uid, name: claims.name, expiresAt: claims.exp };
  }

  /** True once the token that proved `who` has expired. */
  expired(who: Identity): boolean {
    return who.expiresAt !== undefined && this.now() >= who.expiresAt;
  }

  private sign(body: string): string {
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
