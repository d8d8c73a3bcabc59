import { describe, expect, it } from 'vitest';
import { displayTag, type User } from '../../../shared/protocol.ts';
import { nameKey, nameTagger, usersInView } from './name-tags.ts';
import { emptyRoom, usersOf } from './room-log.ts';
import { msg } from './testing-fakes.ts';

const u = (userId: string, name: string): User => ({ userId, name });

describe('nameKey', () => {
  it.each([
    ['alice', 'Alice'],
    ['alice', 'ALICE'],
    ['alice', '\uff41\uff4c\uff49\uff43\uff45'], // full-width
    ['ﬁona', 'fiona'], // the "ﬁ" ligature
  ])('%j and %j read the same', (a, b) => {
    expect(nameKey(a)).toBe(nameKey(b));
  });

  it.each([
    ['alice', 'alicia'],
    ['bob', 'bob2'],
  ])('%j and %j do not', (a, b) => {
    expect(nameKey(a)).not.toBe(nameKey(b));
  });
});

describe('nameTagger', () => {
  it.each<{ name: string; users: User[]; asked: User; tag: boolean }>([
    { name: 'a name nobody else has', users: [u('u1', 'alice'), u('u2', 'bob')], asked: u('u1', 'alice'), tag: false },
    { name: 'one user seen twice', users: [u('u1', 'alice'), u('u1', 'alice')], asked: u('u1', 'alice'), tag: false },
    { name: 'two users, one name', users: [u('u1', 'alice'), u('u2', 'alice')], asked: u('u2', 'alice'), tag: true },
    { name: 'two users, names that differ only in case', users: [u('u1', 'alice'), u('u2', 'Alice')], asked: u('u1', 'alice'), tag: true },
    { name: 'a user not in the set whose name is shared', users: [u('u1', 'alice'), u('u2', 'alice')], asked: u('u3', 'alice'), tag: true },
    { name: 'a user not in the set whose name is not shared', users: [u('u1', 'alice')], asked: u('u3', 'alice'), tag: false },
    {
      name: "an older server's stand-ins neither get nor cause a tag",
      users: [...usersOf({ members: ['alice'] }), u('u1', 'alice')],
      asked: u('u1', 'alice'),
      tag: false,
    },
  ])('$name', ({ users, asked, tag }) => {
    expect(nameTagger(users)(asked)).toBe(tag ? displayTag(asked.userId) : null);
  });

  it('two users of one name get two different tags', () => {
    const tagOf = nameTagger([u('u-alice-1', 'alice'), u('u-alice-2', 'alice')]);
    expect(tagOf(u('u-alice-1', 'alice'))).not.toBe(tagOf(u('u-alice-2', 'alice')));
  });
});

describe('usersInView', () => {
  it('is everyone the room shows by name: members, typists, loaded authors, and me', () => {
    const room = {
      ...emptyRoom('lobby'),
      members: [u('u-m', 'mia')],
      typing: [u('u-t', 'tom')],
      messages: [msg(1, { authorId: 'u-a', author: 'ann' })],
    };
    const me = { userId: 'u-me', name: 'me', token: 'secret', expiresAt: 1 };
    expect(usersInView(room, me)).toEqual([u('u-m', 'mia'), u('u-t', 'tom'), u('u-a', 'ann'), u('u-me', 'me')]);
  });
});
