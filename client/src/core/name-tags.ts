/**
 * Telling apart people who show the same display name. The server lets two
 * users pick one name (names are not accounts), so wherever a name stands for
 * someone (a message's author, the member list, "is typing…") a short tag
 * from the userId (`displayTag`) is added as soon as another user in view
 * carries a name that reads the same. Pure, so the rule is table-tested.
 */
import { displayTag, type User } from '../../../shared/protocol.ts';
import { hasUserId, type RoomState } from './room-log.ts';

/**
 * The key under which two names count as the same: compatibility forms and
 * case folded, so "alice", "Alice" and the full-width "ａｌｉｃｅ" tag one
 * another. A looser key only adds tags, which costs nothing. Look-alikes
 * from other scripts (a Cyrillic "а" in "аlice") keep different keys; telling
 * those apart needs Unicode's confusables data (UTS #39 skeletons).
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

/** Gives a user's tag, or null when nobody else in view reads the same. */
export type TagOf = (user: User) => string | null;

/**
 * A `TagOf` for a set of users in view: a user gets a tag when another
 * userId in the set has a name with the same key. Users without a real
 * userId (an older server's presence) neither get a tag nor cause one.
 */
export function nameTagger(users: Iterable<User>): TagOf {
  // A room's log repeats a few names many times: each is folded once.
  const keys = new Map<string, string>();
  const keyOf = (name: string): string => {
    let key = keys.get(name);
    if (key === undefined) keys.set(name, (key = nameKey(name)));
    return key;
  };
  const idsByKey = new Map<string, Set<string>>();
  for (const u of users) {
    if (!hasUserId(u)) continue;
    const key = keyOf(u.name);
    let ids = idsByKey.get(key);
    if (!ids) idsByKey.set(key, (ids = new Set()));
    ids.add(u.userId);
  }
  const tags = new Map<string, string>();
  return (user) => {
    if (!hasUserId(user) || (idsByKey.get(keyOf(user.name))?.size ?? 0) < 2) return null;
    let tag = tags.get(user.userId);
    if (tag === undefined) tags.set(user.userId, (tag = displayTag(user.userId)));
    return tag;
  };
}

/**
 * Everyone a room's view shows by name: who is present, who is typing, the
 * authors of the loaded messages, and the user (whose unsent messages carry
 * their name before any copy of them is loaded).
 */
export function usersInView(room: RoomState, me: User | null): User[] {
  const users: User[] = [...room.members, ...room.typing];
  for (const m of room.messages) users.push({ userId: m.authorId, name: m.author });
  if (me) users.push({ userId: me.userId, name: me.name });
  return users;
}
