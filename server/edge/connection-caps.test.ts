import { describe, expect, it } from 'vitest';
import { ConnectionCaps, DEFAULT_CONNECTION_CAPS, type CapResult } from './connection-caps.ts';

type Step = ['acquire' | 'release', address: string, userId: string, expected?: CapResult];

const ok: CapResult = { ok: true };
const byAddress: CapResult = { ok: false, refused: 'address' };
const byIdentity: CapResult = { ok: false, refused: 'identity' };

describe('ConnectionCaps', () => {
  it.each<[string, { perAddress: number; perIdentity: number }, Step[]]>([
    [
      'refuses the address past its cap, whoever connects',
      { perAddress: 2, perIdentity: 10 },
      [
        ['acquire', 'a', 'u1', ok],
        ['acquire', 'a', 'u2', ok],
        ['acquire', 'a', 'u3', byAddress],
        ['acquire', 'b', 'u3', ok],
      ],
    ],
    [
      'refuses the identity past its cap, from whatever address',
      { perAddress: 10, perIdentity: 2 },
      [
        ['acquire', 'a', 'u1', ok],
        ['acquire', 'b', 'u1', ok],
        ['acquire', 'c', 'u1', byIdentity],
        ['acquire', 'c', 'u2', ok],
      ],
    ],
    [
      'names the address when both are full',
      { perAddress: 1, perIdentity: 1 },
      [
        ['acquire', 'a', 'u1', ok],
        ['acquire', 'a', 'u1', byAddress],
      ],
    ],
    [
      'a released slot can be taken again',
      { perAddress: 1, perIdentity: 1 },
      [
        ['acquire', 'a', 'u1', ok],
        ['release', 'a', 'u1'],
        ['acquire', 'a', 'u1', ok],
      ],
    ],
    [
      'an identity refusal counts nothing against the address',
      { perAddress: 2, perIdentity: 1 },
      [
        ['acquire', 'a', 'u1', ok],
        ['acquire', 'a', 'u1', byIdentity],
        ['acquire', 'a', 'u2', ok],
        ['acquire', 'a', 'u3', byAddress],
      ],
    ],
    [
      'releasing what was never acquired frees nothing',
      { perAddress: 1, perIdentity: 5 },
      [
        ['acquire', 'a', 'u1', ok],
        ['release', 'a', 'u9'],
        ['release', 'z', 'u1'],
        ['acquire', 'a', 'u2', byAddress],
      ],
    ],
  ])('%s', (_label, limits, steps) => {
    const caps = new ConnectionCaps(limits);
    for (const [op, address, userId, expected] of steps) {
      if (op === 'acquire') expect(caps.acquire(address, userId), `${op} ${address} ${userId}`).toEqual(expected);
      else caps.release(address, userId);
    }
  });

  it('keeps no entry for a key with no open connection', () => {
    const caps = new ConnectionCaps();
    for (let i = 0; i < 1000; i++) expect(caps.acquire(`10.0.${i >> 8}.${i & 255}`, `user-${i}`)).toEqual(ok);
    expect(caps.size).toEqual({ addresses: 1000, identities: 1000 });
    for (let i = 0; i < 1000; i++) caps.release(`10.0.${i >> 8}.${i & 255}`, `user-${i}`);
    expect(caps.size).toEqual({ addresses: 0, identities: 0 });
    // A release too many leaves the tables empty, not negative.
    caps.release('10.0.0.0', 'user-0');
    expect(caps.forAddress('10.0.0.0')).toBe(0);
    expect(caps.size).toEqual({ addresses: 0, identities: 0 });
  });

  it('counts each open connection', () => {
    const caps = new ConnectionCaps();
    caps.acquire('a', 'u1');
    caps.acquire('a', 'u1');
    caps.acquire('a', 'u2');
    expect([caps.forAddress('a'), caps.forIdentity('u1'), caps.forIdentity('u2')]).toEqual([3, 2, 1]);
    caps.release('a', 'u1');
    expect([caps.forAddress('a'), caps.forIdentity('u1')]).toEqual([2, 1]);
  });

  it('defaults to 256 per address and 32 per identity', () => {
    expect(new ConnectionCaps().limits).toEqual({ perAddress: 256, perIdentity: 32 });
    expect(DEFAULT_CONNECTION_CAPS).toEqual({ perAddress: 256, perIdentity: 32 });
    const caps = new ConnectionCaps();
    for (let i = 0; i < 32; i++) expect(caps.acquire(`a${i}`, 'u')).toEqual(ok);
    expect(caps.acquire('a99', 'u')).toEqual(byIdentity);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a cap of %s', (n) => {
    expect(() => new ConnectionCaps({ perAddress: n })).toThrow(RangeError);
    expect(() => new ConnectionCaps({ perIdentity: n })).toThrow(RangeError);
  });
});
