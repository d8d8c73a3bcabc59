import type { User } from '../../shared/protocol.ts';
import { byNameThenId } from './presence.ts';
import type { Identity } from './types.ts';

/**
 * Who is typing in a room. The server owns the timing: a signal lasts
 * `ttlMs` unless renewed, a sent message or a departure ends it at once.
 * Only changes of the set are worth a broadcast; renewals are silent.
 */
export class TypingSet {
  /** userId → who, until when, and which node said so (undefined: this node). */
  private readonly typing = new Map<string, { name: string; until: number; node?: string | undefined }>();

  constructor(private readonly ttlMs: number) {}

  /** Starts or renews. True when the set changed (a new typer). */
  start(who: Identity, now: number): boolean {
    const isNew = !this.typing.has(who.userId);
    this.typing.set(who.userId, { name: who.name, until: now + this.ttlMs });
    return isNew;
  }

  /**
   * Replaces what another node says is typing there. Its entries expire like
   * local ones, so a node that dies stops its users typing within the TTL.
   * A user typing here stays a local typer. True when the set changed.
   */
  setPeer(node: string, users: readonly User[], now: number): boolean {
    let changed = false;
    const keep = new Set(users.map((u) => u.userId));
    for (const [userId, t] of this.typing) {
      if (t.node === node && !keep.has(userId)) changed = this.typing.delete(userId) || changed;
    }
    for (const u of users) {
      const t = this.typing.get(u.userId);
      if (t && t.node === undefined) continue;
      if (!t) changed = true;
      this.typing.set(u.userId, { name: u.name, until: now + this.ttlMs, node });
    }
    return changed;
  }

  /** Who is typing through this node's own connections (what this node tells its peers). */
  localUsers(): User[] {
    return [...this.typing].filter(([, t]) => t.node === undefined).map(([userId, t]) => ({ userId, name: t.name })).sort(byNameThenId);
  }

  stop(userId: string): boolean {
    return this.typing.delete(userId);
  }

  expire(now: number): boolean {
    let changed = false;
    for (const [userId, t] of this.typing) {
      if (t.until <= now) {
        this.typing.delete(userId);
        changed = true;
      }
    }
    return changed;
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const t of this.typing.values()) if (next === undefined || t.until < next) next = t.until;
    return next;
  }

  /** Display names in the order of `users()`, one per user. */
  names(): string[] {
    return this.users().map((u) => u.name);
  }

  users(): User[] {
    return [...this.typing].map(([userId, t]) => ({ userId, name: t.name })).sort(byNameThenId);
  }
}
