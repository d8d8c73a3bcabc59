import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { User } from '../../shared/protocol.ts';
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

describe('Presence lists', () => {
  type Op =
    | { kind: 'add'; conn: string; who: number; lease: boolean }
    | { kind: 'remove'; conn: string; who: number; grace: boolean }
    | { kind: 'expire' }
    | { kind: 'peer'; node: string; who: number[] }
    | { kind: 'forget'; who: number };
  const people = [alice, bob, { userId: 'c', name: 'Alice' }, { userId: 'd', name: 'bob' }, { userId: 'e', name: 'Émile' }];
  const person = fc.integer({ min: 0, max: people.length - 1 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), conn: fc.constantFrom('s1', 's2', 's3'), who: person, lease: fc.boolean() }),
    fc.record({ kind: fc.constant('remove' as const), conn: fc.constantFrom('s1', 's2', 's3'), who: person, grace: fc.boolean() }),
    fc.record({ kind: fc.constant('expire' as const) }),
    fc.record({ kind: fc.constant('peer' as const), node: fc.constantFrom('n1', 'n2'), who: fc.uniqueArray(person, { maxLength: 3 }) }),
    fc.record({ kind: fc.constant('forget' as const), who: person }),
  );
  const apply = (p: Presence, o: Op, now: number) => {
    const who = 'who' in o && typeof o.who === 'number' ? (people[o.who] as User) : alice;
    if (o.kind === 'add') p.add(o.conn, who, now, o.lease ? 500 : Infinity);
    else if (o.kind === 'remove') p.remove(o.conn, who, now, o.grace ? 300 : 0);
    else if (o.kind === 'expire') p.expire(now);
    else if (o.kind === 'peer') p.setPeer(o.node, o.who.map((i) => people[i] as User), now, now + 400);
    else p.forgetUser(who.userId);
  };

  it('are what a fresh count of the same history lists, after every change, and frozen', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const p = new Presence();
        for (const [i, o] of ops.entries()) {
          apply(p, o, i * 100);
          // The same history on a presence never asked before: nothing remembered.
          const fresh = new Presence();
          for (const [j, earlier] of ops.slice(0, i + 1).entries()) apply(fresh, earlier, j * 100);
          expect(p.users()).toEqual(fresh.users());
          expect(p.names()).toEqual(fresh.users().map((u) => u.name));
          expect(p.size).toBe(fresh.users().length);
          expect(Object.isFrozen(p.users()) && Object.isFrozen(p.names())).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('are the same arrays until the list changes', () => {
    const p = new Presence();
    p.add('s1', alice, 0);
    const first = p.users();
    p.add('s2', alice, 0); // a second tab: the same list
    expect(p.users()).toBe(first);
    p.add('s3', bob, 0);
    expect(p.users()).not.toBe(first);
    expect(p.names()).toEqual(['alice', 'bob']);
  });
});
