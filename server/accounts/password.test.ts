import { describe, expect, it } from 'vitest';
import { commonPasswordCount, isCommonPassword } from './common-passwords.ts';
import { hashPassword, needsRehash, verifyPassword } from './password.ts';

/** Cheap parameters: these tests check the encoding and the comparison, not the cost. */
const CHEAP = { log2N: 10, r: 8, p: 1 };

describe('password hashes', () => {
  it('verifies the password it was made from and nothing else', async () => {
    const h = await hashPassword('correct horse battery staple', CHEAP);
    expect(h).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('salts every hash, so one password gives two hashes', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', CHEAP), hashPassword('same password', CHEAP)]);
    expect(a).not.toBe(b);
  });

  it('matches the same password typed in another normal form (NFKC)', async () => {
    const h = await hashPassword('ﬁne caf\u00e9', CHEAP);
    expect(await verifyPassword('fine cafe\u0301', h)).toBe(true);
  });

  it.each(['', 'bcrypt$x', 'scrypt$99$8$1$c2FsdHNhbHQ$' + 'A'.repeat(43), 'scrypt$10$8$1$$' + 'A'.repeat(43), 'scrypt$10$8$1$c2FsdHNhbHQ$short'])(
    'a malformed or out-of-bounds stored hash matches nothing: %s',
    async (stored) => {
      expect(await verifyPassword('anything', stored)).toBe(false);
    },
  );

  it('says when a hash was made with weaker parameters than the current ones', async () => {
    const h = await hashPassword('x'.repeat(10), CHEAP);
    expect(needsRehash(h, CHEAP)).toBe(false);
    expect(needsRehash(h, { ...CHEAP, log2N: 11 })).toBe(true);
    expect(needsRehash(h, { ...CHEAP, p: 2 })).toBe(true);
    expect(needsRehash('garbage', CHEAP)).toBe(true);
  });
});

describe('common passwords', () => {
  it('ships about a thousand and refuses them whatever the case', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(900);
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('PassWord')).toBe(true);
    expect(isCommonPassword('iloveyou')).toBe(true);
    expect(isCommonPassword('correct horse battery staple')).toBe(false);
  });
});
