/**
 * The commands about rooms rather than inside them: read positions, the
 * user's room list, the directory, private rooms, invitations, direct
 * messages. None of them needs a room fiber: they read and write the store,
 * and tell users (all their tabs, on every node) what changed for them.
 * Every command that names a room has passed the access check in
 * `ChatEdge.call` before it gets here.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fail, type Ack, type OkInputOf, type ParsedRequestOf, type User } from '../../shared/protocol.ts';
import type { RoomRegistry } from '../rooms/registry.ts';
import type { Store } from '../store/store.ts';
import { DM_PREFIX, PRIVATE_PREFIX, type RoomAccess } from './access.ts';
import type { UserCaller } from './caller.ts';
import type { UserNotices } from './notices.ts';

export interface AdminDeps {
  store: Store;
  rooms: RoomRegistry;
  access: RoomAccess;
  notices: UserNotices;
}

type AdminCommand =
  | 'read'
  | 'myRooms'
  | 'directory'
  | 'part'
  | 'createRoom'
  | 'invite'
  | 'inviteLink'
  | 'revokeInvite'
  | 'acceptInvite'
  | 'removeMember'
  | 'members'
  | 'dm'
  | 'users';

type AdminHandlers = {
  [K in AdminCommand]: (caller: UserCaller, req: ParsedRequestOf<K>) => Promise<Ack<OkInputOf<K>>>;
};

/** Rooms a directory answer lists at most. */
const DIRECTORY_DEFAULT = 50;
/** Members a public room's `members` answer lists at most (a private room's are all listed). */
const PUBLIC_MEMBERS_SHOWN = 200;

const me = (c: UserCaller): User => ({ userId: c.identity.userId, name: c.identity.name });

export function adminHandlers({ store, rooms, access, notices }: AdminDeps): AdminHandlers {
  /** The room's owner may manage it; a private room's other members learn only that they may not. */
  const owned = async (caller: UserCaller, room: string): Promise<Ack<never> | undefined> => {
    const info = await access.info(room);
    if (!info || info.visibility !== 'private') return fail('forbidden', 'only private rooms have members to manage');
    if (info.owner !== caller.identity.userId) return fail('forbidden', "only the room's owner can do that");
    return undefined;
  };

  return {
    async read(caller, { room, seq }) {
      const lastRead = await store.setRead(room, caller.identity.userId, seq);
      // Every tab of this user (here and on other nodes) clears its count.
      notices.send(caller.identity.userId, 'read', { room, seq: lastRead });
      return { ok: true, room, lastRead };
    },

    async myRooms(caller) {
      const mine = await store.memberships(caller.identity.userId);
      return { ok: true, rooms: mine.map((m) => ({ ...m, title: m.title, peer: m.peer })) };
    },

    async directory(_caller, { q, limit }) {
      const found = await store.directory(q?.trim().toLowerCase() || undefined, limit ?? DIRECTORY_DEFAULT);
      return { ok: true, rooms: found.map((r) => ({ ...r, members: rooms.present(r.room) })) };
    },

    async part(caller, { room }) {
      const info = await access.info(room);
      await store.removeMember(room, caller.identity.userId);
      // Giving up a private room (or a direct message) ends access here and now.
      if (info && info.visibility !== 'public') rooms.kick(room, caller.identity.userId);
      return { ok: true };
    },

    async createRoom(caller, { title }) {
      // A name nobody can guess (64 random bits): a private room's name is no secret worth keeping, but it leaks nothing.
      const room = `${PRIVATE_PREFIX}${randomBytes(8).toString('hex')}`;
      if (!(await store.createRoom(room, { visibility: 'private', title, owner: caller.identity.userId }, randomUUID()))) {
        return fail('unavailable', 'could not create the room, retry', 100);
      }
      if (!(await store.addMember(room, me(caller), 'owner'))) return fail('forbidden', 'your room list is full: leave a room first');
      return { ok: true, room, title };
    },

    async invite(caller, { room, userId }) {
      const refused = await owned(caller, room);
      if (refused) return refused;
      const user = await store.user(userId);
      if (!user) return fail('not_found', 'no such user');
      if (!(await store.addMember(room, user, 'member'))) return fail('forbidden', 'their room list is full');
      const title = (await access.info(room))?.title;
      notices.send(userId, 'invited', { room, ...(title ? { title } : {}), by: me(caller) });
      return { ok: true };
    },

    async inviteLink(caller, { room }) {
      const refused = await owned(caller, room);
      if (refused) return refused;
      const token = randomBytes(18).toString('base64url');
      await store.createInvite(room, token, caller.identity.userId);
      return { ok: true, token };
    },

    async revokeInvite(caller, { room, token }) {
      const refused = await owned(caller, room);
      if (refused) return refused;
      return (await store.revokeInvite(room, token)) ? { ok: true } : fail('not_found', 'no such invite link');
    },

    async acceptInvite(caller, { token }) {
      const room = await store.inviteRoom(token);
      if (!room) return fail('not_found', 'this invite link is not valid (it may have been revoked)');
      if (!(await store.addMember(room, me(caller), 'member'))) return fail('forbidden', 'your room list is full');
      const title = (await access.info(room))?.title ?? room;
      return { ok: true, room, title };
    },

    async removeMember(caller, { room, userId }) {
      const refused = await owned(caller, room);
      if (refused) return refused;
      if (userId === caller.identity.userId) return fail('forbidden', 'the owner cannot remove themselves');
      if (!(await store.removeMember(room, userId))) return fail('not_found', 'not a member of this room');
      rooms.kick(room, userId);
      notices.send(userId, 'removed', { room });
      return { ok: true };
    },

    async members(_caller, { room }) {
      const info = await access.info(room);
      // A public room's owner (its first poster, who may delete others' messages) is marked so in its list too.
      const list = (await store.members(room)).map((m) => (m.userId === info?.owner ? { ...m, role: 'owner' as const } : m));
      const visibility = info?.visibility ?? 'public';
      return {
        ok: true,
        room,
        visibility,
        ...(info?.title ? { title: info.title } : {}),
        members: visibility === 'public' ? list.slice(0, PUBLIC_MEMBERS_SHOWN) : list,
      };
    },

    async dm(caller, { userId }) {
      if (userId === caller.identity.userId) return fail('bad_request', 'a direct message needs someone else');
      const peer = await store.user(userId);
      if (!peer) return fail('not_found', 'no such user');
      const room = dmRoom(caller.identity.userId, userId);
      // The same room from either side: its name comes from the pair of ids.
      await store.createRoom(room, { visibility: 'dm' }, randomUUID());
      // Both are (again) members; either may have parted earlier. A list full of rooms read leaves no space.
      if (!(await store.addMember(room, me(caller), 'member'))) return fail('forbidden', 'your room list is full: leave a room first');
      const peerWasIn = await store.isMember(room, userId);
      if (!peerWasIn) {
        if (!(await store.addMember(room, peer, 'member'))) return fail('forbidden', 'their room list is full');
        notices.send(userId, 'invited', { room, by: me(caller) });
      }
      return { ok: true, room, peer };
    },

    async users(_caller, { q }) {
      return { ok: true, users: await store.findUsers(q.trim(), 20) };
    },
  };
}

/** The direct-message room of two users: the same name from either side, unguessable without both ids. */
export function dmRoom(a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `${DM_PREFIX}${createHash('sha256').update(`${x}\u0000${y}`).digest('hex').slice(0, 24)}`;
}
