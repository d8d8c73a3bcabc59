import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sessions } from './auth.ts';

const SECRET = Buffer.from('a test secret that is long enough for HMAC-SHA256', 'utf8');
const NOW = 1_800_000_000_000;
const sessions = new Sessions(SECRET, 3_600_000, () => NOW);

/** A token signed with SECRET for user `uid`, built by hand so a test can pick one whose signature has given characters. */
function tokenFor(uid: string): string {
  const body = Buffer.from(JSON.stringify({ v: 1, uid, name: 'alice', exp: NOW + 60_000 })).toString('base64url');
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** The first token (over uids u0, u1, …) whose signature satisfies `want`. */
function tokenWhere(want: (sig: string) => boolean): string {
  for (let i = 0; ; i++) {
    const t = tokenFor(`u${i}`);
    if (want(t.split('.')[1] as string)) return t;
  }
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Same bytes, other spellings: each decodes to the valid signature under Node's lenient base64 decoder. */
const VARIANTS: Array<[string, (token: string) => string]> = [
  ['one "=" of padding', (t) => `${t}=`],
  ['two "=" of padding', (t) => `${t}==`],
  ['standard alphabet ("+" for "-")', (t) => t.replace(/\.(.*)$/, (_m, sig: string) => `.${sig.replaceAll('-', '+')}`)],
  ['standard alphabet ("/" for "_")', (t) => t.replace(/\.(.*)$/, (_m, sig: string) => `.${sig.replaceAll('_', '/')}`)],
  ['standard base64 with padding', (t) => t.replace(/\.(.*)$/, (_m, sig: string) => `.${Buffer.from(sig, 'base64url').toString('base64')}`)],
  [
    'other unused final bits',
    (t) => {
      // 32 bytes are 43 characters; the last one carries 4 bits and 2 unused ones.
      const last = B64URL.indexOf(t.at(-1) as string);
      return `${t.slice(0, -1)}${B64URL[last ^ 1]}`;
    },
  ],
  ['a skipped character inside', (t) => `${t.slice(0, -10)}!${t.slice(-10)}`],
  ['a trailing newline', (t) => `${t}\n`],
];

describe('Sessions.decode', () => {
  it('accepts an issued token and the hand-built one (the controls for the cases below)', () => {
    const signed = sessions.sign({ uid: 'u9', sid: 's9', name: 'alice', exp: NOW + 60_000 });
    expect(sessions.decode(signed)).toEqual({ v: 2, uid: 'u9', sid: 's9', name: 'alice', exp: NOW + 60_000 });
    expect(sessions.decode(tokenFor('u1'))?.uid).toBe('u1');
  });

  it.each(VARIANTS)('refuses a signature re-encoded with %s', (_label, mutate) => {
    const token = tokenWhere((sig) => sig.includes('-') && sig.includes('_'));
    const mutated = mutate(token);
    expect(mutated).not.toBe(token);
    // The variant decodes to the very same signature bytes: only the encoding differs.
    const sigBytes = (t: string) => Buffer.from(t.slice(t.indexOf('.') + 1), 'base64url');
    expect(sigBytes(mutated).equals(sigBytes(token))).toBe(true);
    expect(sessions.decode(mutated)).toBeUndefined();
  });

  it.each([
    ['another signature', (t: string) => `${t.slice(0, -2)}${t.at(-2) === 'A' ? 'B' : 'A'}${t.at(-1)}`],
    ['no signature', (t: string) => `${t.split('.')[0]}.`],
    ['no body', (t: string) => `.${t.split('.')[1]}`],
    ['a second dot', (t: string) => `${t}.x`],
  ])('refuses %s', (_label, mutate) => {
    expect(sessions.decode(mutate(tokenFor('u1')))).toBeUndefined();
  });

  it('refuses a version 2 token without its session id', () => {
    const body = Buffer.from(JSON.stringify({ v: 2, uid: 'u1', name: 'alice', exp: NOW + 60_000 })).toString('base64url');
    expect(sessions.decode(`${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`)).toBeUndefined();
  });

  it('refuses an expired token', () => {
    const later = new Sessions(SECRET, 3_600_000, () => NOW + 120_000);
    expect(later.decode(tokenFor('u1'))).toBeUndefined();
  });
});
