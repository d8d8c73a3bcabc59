import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeRole, may, outranks, ROLE_RULES, ROOM_ROLES, type RoleBook, type RoomPower } from './moderation.ts';

describe('the role rules', () => {
  it('are this table: role × power → allowed', () => {
    const table = Object.fromEntries(
      (Object.keys(ROLE_RULES) as RoomPower[]).map((power) => [power, ROOM_ROLES.map((role) => (may(role, power) ? 'yes' : '-')).join(' ')]),
    );
    //                  owner moderator member guest
    expect(table).toEqual({
      setRole: 'yes - - -',
      delete: 'yes yes - -',
      mute: 'yes yes - -',
      unmute: 'yes yes - -',
      ban: 'yes yes - -',
      unban: 'yes yes - -',
      slowmode: 'yes yes - -',
      lock: 'yes yes - -',
      unlock: 'yes yes - -',
      pin: 'yes yes - -',
      unpin: 'yes yes - -',
      dismiss: 'yes yes - -',
      reports: 'yes yes - -',
      reportMessage: 'yes yes yes yes',
      postWhenLocked: 'yes yes - -',
      skipSlowmode: 'yes yes - -',
    });
  });

  it('let a role act only on a lower one', () => {
    expect(outranks('owner', 'moderator')).toBe(true);
    expect(outranks('moderator', 'member')).toBe(true);
    expect(outranks('moderator', 'guest')).toBe(true);
    expect(outranks('moderator', 'moderator')).toBe(false);
    expect(outranks('moderator', 'owner')).toBe(false);
    expect(outranks('member', 'guest')).toBe(true);
  });

  it('never leave a room without its owner, whatever role changes anyone asks for', () => {
    const people = ['owner', 'a', 'b', 'c', 'guest'];
    const change = fc.record({
      actor: fc.constantFrom(...people),
      subject: fc.constantFrom(...people),
      role: fc.constantFrom('moderator' as const, 'member' as const),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 40 }), (changes) => {
        let book: RoleBook = { owners: ['owner'], moderators: [] };
        for (const c of changes) {
          const next = changeRole(book, c.actor, c.subject, c.role, c.subject !== 'guest');
          if (next.ok) book = next.book;
          expect(book.owners).toEqual(['owner']);
          // Nobody is both, a guest never moderates, and a moderator is listed once.
          expect(book.moderators).not.toContain('owner');
          expect(book.moderators).not.toContain('guest');
          expect(new Set(book.moderators).size).toBe(book.moderators.length);
        }
      }),
    );
  });

  it('refuse a role change by anyone but an owner, and of the owner', () => {
    const book = { owners: ['o'], moderators: ['m'] };
    expect(changeRole(book, 'm', 'x', 'moderator', true)).toMatchObject({ ok: false });
    expect(changeRole(book, 'o', 'o', 'member', true)).toMatchObject({ ok: false });
    expect(changeRole(book, 'o', 'g', 'moderator', false)).toMatchObject({ ok: false });
    expect(changeRole(book, 'o', 'x', 'moderator', true)).toEqual({ ok: true, book: { owners: ['o'], moderators: ['m', 'x'] } });
    expect(changeRole(book, 'o', 'm', 'member', true)).toEqual({ ok: true, book: { owners: ['o'], moderators: [] } });
  });
});
