import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt from `node:crypto`: memory-hard, no native
 * package to build or trust, and run by libuv's thread pool, so a hash never
 * holds the event loop (the room fibers keep running while it computes).
 * argon2id would be as good; it needs a native add-on, scrypt does not.
 *
 * The stored form carries its own parameters and salt,
 * `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url), so the cost can be
 * raised later: an old hash still verifies, and `needsRehash` says when to
 * store a new one (at the next successful sign-in).
 */
export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

/**
 * 2^15 × 8 × 1: 32 MiB and about 0.15 s of one core here per hash, above
 * the interactive figures of the scrypt paper (2^14, 8, 1). Raise `log2N`
 * on faster machines; every stored hash says what it was made with.
 */
export const DEFAULT_SCRYPT: ScryptParams = { log2N: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Parameters accepted from a stored hash: bounds, so a corrupt row cannot ask for gigabytes. */
const MAX_LOG2N = 20;

function options({ log2N, r, p }: ScryptParams): ScryptOptions {
  // Node refuses above maxmem (32 MiB by default): allow exactly what the parameters need, with headroom.
  return { N: 2 ** log2N, r, p, maxmem: 256 * 2 ** log2N * r + 1024 * 1024 };
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options(params), (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Hashes a password with a fresh salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return ['scrypt', params.log2N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Decoded {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function decode(encoded: string): Decoded | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every(Number.isInteger) || log2N < 1 || log2N > MAX_LOG2N || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(parts[4] as string, 'base64url');
  const key = Buffer.from(parts[5] as string, 'base64url');
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { params: { log2N, r, p }, salt, key };
}

/** True when `password` matches the stored hash; compared in constant time. A malformed hash matches nothing. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const d = decode(encoded);
  if (!d) return false;
  const key = await derive(password, d.salt, d.params);
  return timingSafeEqual(key, d.key);
}

/** True when a stored hash was made with weaker parameters than `params`. */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const d = decode(encoded);
  if (!d) return true;
  return d.params.log2N * 1e6 + d.params.r * 1e3 + d.params.p < params.log2N * 1e6 + params.r * 1e3 + params.p;
}

/**
 * A hash of nothing anyone knows, verified when a sign-in names no account,
 * so that an unknown name costs the same time as a wrong password and the
 * answer's timing does not tell whether the account exists.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('base64url'));
  return decoy;
}
