import { describe, expect, it } from 'vitest';
import { OPS_COOKIE_TTL_MS, OpsAuth, cookieHeader, readCookie } from './ops-auth.ts';

const TOKEN = 'operator-token-0123456789';

describe('OpsAuth', () => {
  it('accepts the operator token and nothing else', () => {
    const auth = new OpsAuth(TOKEN);
    expect(auth.tokenMatches(TOKEN)).toBe(true);
    for (const other of ['', 'operator-token-012345678', `${TOKEN} `, TOKEN.toUpperCase(), undefined, 42]) expect(auth.tokenMatches(other)).toBe(false);
  });

  it('issues cookies that verify until they expire', () => {
    let now = 1_000_000;
    const auth = new OpsAuth(TOKEN, () => now);
    const { value, expiresAt } = auth.issue();
    expect(expiresAt).toBe(now + OPS_COOKIE_TTL_MS);
    expect(auth.verifyCookie(value)).toBe(expiresAt);
    now = expiresAt;
    expect(auth.verifyCookie(value)).toBeUndefined();
  });

  it.each([
    ['no cookie', undefined],
    ['empty', ''],
    ['expiry moved forward', 'EXPIRY+1'],
    ['signature altered', 'SIG-ALTERED'],
    ['made with another token', 'OTHER-TOKEN'],
    ['not the format', 'abc.def'],
  ])('refuses a cookie: %s', (_name, kind) => {
    const now = 1_000_000;
    const auth = new OpsAuth(TOKEN, () => now);
    const good = auth.issue().value;
    const [exp, sig] = good.split('.') as [string, string];
    const value =
      kind === 'EXPIRY+1'
        ? `${Number(exp) + 1}.${sig}`
        : kind === 'SIG-ALTERED'
          ? `${exp}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`
          : kind === 'OTHER-TOKEN'
            ? new OpsAuth('another-token-0123456789', () => now).issue().value
            : kind;
    expect(auth.verifyCookie(value)).toBeUndefined();
  });

  it('authorises by bearer token or by cookie', () => {
    const auth = new OpsAuth(TOKEN);
    const { value, expiresAt } = auth.issue();
    expect(auth.authorise({ authorization: `Bearer ${TOKEN}` })).toBe(Infinity);
    expect(auth.authorise({ authorization: 'Bearer nope' })).toBeUndefined();
    expect(auth.authorise({ cookie: `a=b; fc_ops=${value}; c=d` })).toBe(expiresAt);
    expect(auth.authorise({})).toBeUndefined();
  });
});

describe('cookies', () => {
  it('reads one cookie from a header', () => {
    expect(readCookie('a=1; fc_ops=x.y;b=2', 'fc_ops')).toBe('x.y');
    expect(readCookie('xfc_ops=1', 'fc_ops')).toBeUndefined();
    expect(readCookie(undefined, 'fc_ops')).toBeUndefined();
  });

  it('sets HttpOnly, SameSite=Strict, and Secure over HTTPS; clears with Max-Age=0', () => {
    expect(cookieHeader('v', false)).toBe('fc_ops=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600');
    expect(cookieHeader('v', true)).toMatch(/; Secure$/);
    expect(cookieHeader(null, false)).toBe('fc_ops=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });
});
