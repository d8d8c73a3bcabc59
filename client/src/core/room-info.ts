/**
 * What the client knows about a room beyond its log: public, private or a
 * direct message, a private room's title and owner, a direct message's other
 * person, the members of a private room. Learned from `members` answers,
 * `createRoom`, `acceptInvite` and `dm` answers and `invited` events, and
 * kept in the snapshot (`roomInfo`) for every view that names a room.
 */
import type { OkOf, User } from '../../../shared/protocol.ts';

export type Visibility = 'public' | 'private' | 'dm';
export type RoomMember = OkOf<'members'>['members'][number];

export interface RoomInfo {
  visibility: Visibility;
  /** A private room's title. */
  title?: string;
  /** A direct message's other person. */
  peer?: User;
  /** Who may delete anyone's message and manage members. */
  ownerId?: string;
  /** From the last `members` answer. */
  members?: readonly RoomMember[];
}

/** Prefixes the server gives private rooms and direct messages (server/edge/access.ts). */
export const PRIVATE_PREFIX = 'p-';
export const DM_PREFIX = 'dm-';

/** The kind a room's name tells, before anything else is known. */
export function visibilityOf(room: string): Visibility {
  if (room.startsWith(PRIVATE_PREFIX)) return 'private';
  if (room.startsWith(DM_PREFIX)) return 'dm';
  return 'public';
}

/**
 * How a room is named to people: `#name` for a public room, its title for a
 * private room, the other person's name for a direct message. The generated
 * names of private rooms and direct messages are never shown.
 */
export function roomTitle(room: string, info: RoomInfo | undefined): string {
  const visibility = info?.visibility ?? visibilityOf(room);
  if (visibility === 'private') return info?.title ?? 'Private room';
  if (visibility === 'dm') return info?.peer?.name ?? 'Direct message';
  return `#${room}`;
}

/** What a `members` answer tells, from the point of view of `me`. */
export function infoFromMembers(ans: OkOf<'members'>, me: string | null, before?: RoomInfo): RoomInfo {
  const owner = ans.members.find((m) => m.role === 'owner');
  const peer = ans.visibility === 'dm' ? ans.members.find((m) => m.userId !== me) : undefined;
  const info: RoomInfo = { ...before, visibility: ans.visibility, members: ans.members };
  if (ans.title !== undefined) info.title = ans.title;
  if (owner) info.ownerId = owner.userId;
  if (peer) info.peer = { userId: peer.userId, name: peer.name };
  return info;
}

/** Merges what is newly learned into what was known, keeping unchanged objects. */
export function mergeInfo(before: RoomInfo | undefined, patch: RoomInfo): RoomInfo {
  if (before === undefined) return patch;
  const next = { ...before, ...patch };
  return JSON.stringify(next) === JSON.stringify(before) ? before : next;
}
