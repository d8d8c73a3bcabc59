import type { RoomInfo, Store } from '../store/store.ts';

/** Names of private rooms and direct messages; nobody can open one of these by simply joining it. */
export const PRIVATE_PREFIX = 'p-';
export const DM_PREFIX = 'dm-';

/** Room kinds are fixed once a room exists, so they are cached; this many at most (oldest forgotten first). */
const INFO_CACHE = 10_000;

/**
 * The one place that decides who may use a room. Public rooms are open to
 * every signed-in user; a private room or a direct message only to its
 * members. Whoever may not use a room learns nothing of it: every command
 * that names it is answered `not_found`, exactly as for a room that does not
 * exist. Membership is read from the store on every check (a removal takes
 * effect at once, on every node); a room's kind is cached, since it never
 * changes.
 */
export class RoomAccess {
  private readonly kinds = new Map<string, RoomInfo>();

  constructor(private readonly store: Store) {}

  /** Whether `userId` may use `room`. */
  async allows(userId: string, room: string): Promise<boolean> {
    const info = await this.info(room);
    if (!info) return !room.startsWith(PRIVATE_PREFIX) && !room.startsWith(DM_PREFIX);
    if (info.visibility === 'public') return true;
    return this.store.isMember(room, userId);
  }

  /** The room's kind, title and owner; undefined for a room with no row yet (public when first used). */
  async info(room: string): Promise<RoomInfo | undefined> {
    const cached = this.kinds.get(room);
    if (cached) return cached;
    const info = await this.store.roomInfo(room);
    if (info) {
      if (this.kinds.size >= INFO_CACHE) this.kinds.delete(this.kinds.keys().next().value as string);
      this.kinds.set(room, info);
    }
    return info;
  }
}
