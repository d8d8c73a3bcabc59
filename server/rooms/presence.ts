import type { User } from '../../shared/protocol.ts';
import type { Identity } from './types.ts';

interface Member {
  name: string;
  /** connection id → lease deadline (ms); Infinity for a live socket. */
  connections: Map<string, number>;
  /** Set when the last connection went with a grace period: removed at this time. */
  goneAt: number | undefined;
}

/** Connection ids of the presence other nodes report. */
const PEER_PREFIX = 'peer:';

/**
 * Who is in a room, per user rather than per connection: two tabs are one
 * member. A socket that drops is kept for a grace period so that a quick
 * reconnect does not flap presence; an Ajax poller holds a lease that each
 * poll renews. Pure: time is passed in, deadlines are read by the room's one
 * timer.
 */
export class Presence {
  private readonly members = new Map<string, Member>();
  /**
   * `users()` and `names()` as of the last change of who is listed: every
   * join's answer carries both, so they are sorted once per change rather
   * than per answer. Frozen, since answers and broadcasts share them.
   */
  private listed: { users: User[]; names: string[] } | undefined;

  /** Adds or renews a connection. True when the visible member list changed. */
  add(connId: string, who: Identity, now: number, leaseMs = Infinity): boolean {
    let m = this.members.get(who.userId);
    const isNew = m === undefined;
    if (!m) {
      m = { name: who.name, connections: new Map(), goneAt: undefined };
      this.members.set(who.userId, m);
      this.listed = undefined;
    }
    m.connections.set(connId, leaseMs === Infinity ? Infinity : now + leaseMs);
    m.goneAt = undefined;
    return isNew;
  }

  /**
   * Removes a connection. With `graceMs` > 0 the member stays listed that long
   * after their last connection goes. True when the visible list changed.
   */
  remove(connId: string, who: Identity, now: number, graceMs = 0): boolean {
    const m = this.members.get(who.userId);
    if (!m || !m.connections.delete(connId) || m.connections.size > 0) return false;
    if (graceMs > 0) {
      m.goneAt = now + graceMs;
      return false;
    }
    this.members.delete(who.userId);
    this.listed = undefined;
    return true;
  }

  /** Drops expired leases and members whose grace ran out. True when the list changed. */
  expire(now: number): boolean {
    let changed = false;
    for (const [userId, m] of this.members) {
      for (const [conn, until] of m.connections) if (until <= now) m.connections.delete(conn);
      if (m.connections.size > 0) continue;
      if ((m.goneAt ?? now) <= now) {
        this.members.delete(userId);
        changed = true;
      }
    }
    if (changed) this.listed = undefined;
    return changed;
  }

  /** The earliest time `expire` has work to do. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const m of this.members.values()) {
      for (const until of m.connections.values()) if (until !== Infinity && (next === undefined || until < next)) next = until;
      if (m.goneAt !== undefined && (next === undefined || m.goneAt < next)) next = m.goneAt;
    }
    return next;
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /**
   * Replaces what another node says about this room: `users` are present
   * there until `until` (a heartbeat renews it). Each node is one pseudo-
   * connection per user, so a user with a tab on two nodes is one member and
   * a node that stops saying so (it died) loses its users when the lease
   * runs out. True when the visible list changed.
   */
  setPeer(node: string, users: readonly User[], now: number, until: number): boolean {
    const connId = `${PEER_PREFIX}${node}`;
    const keep = new Set(users.map((u) => u.userId));
    let changed = false;
    for (const [userId, m] of this.members) {
      if (keep.has(userId) || !m.connections.delete(connId) || m.connections.size > 0 || m.goneAt !== undefined) continue;
      this.members.delete(userId);
      this.listed = undefined;
      changed = true;
    }
    for (const u of users) changed = this.add(connId, { userId: u.userId, name: u.name }, now, Math.max(0, until - now)) || changed;
    return changed;
  }

  /** The users present through this node's own connections (what this node tells its peers). */
  localUsers(): User[] {
    const out: User[] = [];
    for (const [userId, m] of this.members) {
      for (const id of m.connections.keys()) {
        if (!id.startsWith(PEER_PREFIX)) {
          out.push({ userId, name: m.name });
          break;
        }
      }
    }
    return out.sort(byNameThenId);
  }

  /** True while this connection holds a live membership or an unexpired lease. */
  has(userId: string, connId: string): boolean {
    return this.members.get(userId)?.connections.has(connId) ?? false;
  }

  /** Drops a user from the list whatever holds them (a user who lost access). True when the list changed. */
  forgetUser(userId: string): boolean {
    if (!this.members.delete(userId)) return false;
    this.listed = undefined;
    return true;
  }

  /** How many users are listed. */
  get size(): number {
    return this.members.size;
  }

  /** True while the user is present here or on another node. */
  hasUser(userId: string): boolean {
    return this.members.has(userId);
  }

  /** Display names in the order of `users()`, one per user (frozen). */
  names(): string[] {
    return this.list().names;
  }

  /** The users present, sorted by name then id, so two users of one name stay two (frozen). */
  users(): User[] {
    return this.list().users;
  }

  private list(): { users: User[]; names: string[] } {
    if (this.listed) return this.listed;
    const users: User[] = [];
    for (const [userId, m] of this.members) users.push(Object.freeze({ userId, name: m.name }));
    users.sort(byNameThenId);
    this.listed = { users: Object.freeze(users) as User[], names: Object.freeze(users.map((u) => u.name)) as string[] };
    return this.listed;
  }
}

/**
 * The default locale's collation, what `localeCompare` without arguments
 * uses, made when the module loads: the first `localeCompare` of a process
 * builds it on the spot (about 14 ms here, inside whichever join first
 * listed two people).
 */
const collator = new Intl.Collator();

/** Display order of user lists: by name as a person reads it, then by id so equal names keep a stable order. */
export function byNameThenId(a: User, b: User): number {
  return collator.compare(a.name, b.name) || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
}
