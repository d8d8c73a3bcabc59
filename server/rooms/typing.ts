import type { User } from '../../shared/protocol.ts';
import { byNameThenId } from './presence.ts';
import type { Identity } from './types.ts';

/**
 * Who is typing in a room. The server owns the timing: a signal lasts
 * `ttlMs` unless renewed, a sent message or a departure ends it at once.
 * Only changes of the set are worth a broadcast; renewals are silent.
 */
export class TypingSet {
  private readonly typing = new Map<string, { name: string; until: number }>();

  constructor(private readonly ttlMs: number) {}

  /** Starts or renews. True when the set changed (a new typer). */
  start(who: Identity, now: number): boolean {
    const isNew = !this.typing.has(who.userId);
    this.typing.set(who.userId, { name: who.name, until: now + this.ttlMs });
    return isNew;
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
