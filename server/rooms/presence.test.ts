import { describe, expect, it } from 'vitest';
import { Presence } from './presence.ts';
import { TypingSet } from './typing.ts';

const alice = { userId: 'a', name: 'alice' };
const bob = { userId: 'b', name: 'bob' };

describe('Presence', () => {
  it('counts a user with two connections once', () => {
    const p = new Presence();
    expect(p.add('t1', alice, 0)).toBe(true);
    expect(p.add('t2', alice, 0)).toBe(false);
    expect(p.names()).toEqual(['alice']);
    expect(p.remove('t1', alice, 0)).toBe(false);
    expect(p.remove('t2', alice, 0)).toBe(true);
    expect(p.isEmpty).toBe(true);
  });

  it('keeps a dropped user through the grace period; a reconnect within it changes nothing', () => {
    const p = new Presence();
    p.add('s1', alice, 0);
    expect(p.remove('s1', alice, 100, 3000)).toBe(false);
    expect(p.names()).toEqual(['alice']);
    expect(p.nextDeadline()).toBe(3100);
    expect(p.add('s2', alice, 2000)).toBe(false); // back in time: no flap
    expect(p.expire(5000)).toBe(false);
    expect(p.names()).toEqual(['alice']);
    p.remove('s2', alice, 6000, 3000);
    expect(p.expire(8999)).toBe(false);
    expect(p.expire(9000)).toBe(true);
    expect(p.names()).toEqual([]);
  });

  it('an Ajax lease keeps a member while polls renew it', () => {
    const p = new Presence();
    expect(p.add('ajax:b', bob, 0, 30_000)).toBe(true);
    expect(p.add('ajax:b', bob, 20_000, 30_000)).toBe(false);
    expect(p.expire(40_000)).toBe(false);
    expect(p.nextDeadline()).toBe(50_000);
    expect(p.expire(50_000)).toBe(true);
    expect(p.isEmpty).toBe(true);
  });

  it('removing an unknown connection is harmless', () => {
    const p = new Presence();
    expect(p.remove('nope', alice, 0)).toBe(false);
    expect(p.nextDeadline()).toBeUndefined();
  });
});

describe('TypingSet', () => {
  it('reports only changes; renewals extend silently; expiry and stop end it', () => {
    const t = new TypingSet(5000);
    expect(t.start(alice, 0)).toBe(true);
    expect(t.start(alice, 3000)).toBe(false);
    expect(t.nextDeadline()).toBe(8000);
    expect(t.start(bob, 4000)).toBe(true);
    expect(t.names()).toEqual(['alice', 'bob']);
    expect(t.expire(7999)).toBe(false);
    expect(t.expire(8000)).toBe(true);
    expect(t.names()).toEqual(['bob']);
    expect(t.stop('b')).toBe(true);
    expect(t.stop('b')).toBe(false);
  });
});
