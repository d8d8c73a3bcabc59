import { randomBytes } from 'node:crypto';
import { PROTOCOL_VERSION, type SessionOk } from '../../shared/protocol.ts';
import type { Sessions } from '../auth.ts';
import type { Bus } from '../cluster/bus.ts';
import type { Identity } from '../rooms/types.ts';
import type { Store } from '../store/store.ts';

/**
 * How long a session found in the store is believed without asking again.
 * Revocations reach this node's cache at once (locally, or through the bus
 * from another node); this bounds how stale it can be when the bus is down.
 * A REST poller's token is checked on every request: with this, at most one
 * store read per session per second.
 */
export const SESSION_CHECK_MS = 1_000;
/** Sessions whose last use is recorded at most this often (a write per session per minute, not per request). */
export const TOUCH_EVERY_MS = 60_000;
/** Sessions remembered between checks; past it the oldest entry is forgotten (and read again when used). */
const CACHE_CAP = 100_000;
/** Longest User-Agent kept with a session. */
const USER_AGENT_MAX = 256;

/** Where a session is being opened from: shown in Settings' list of sessions. */
export interface Origin {
  userAgent?: string | undefined;
  address?: string | undefined;
}

interface Cached {
  userId: string;
  expiresAt: number;
  /** Until when this entry is believed. */
  until: number;
  touchedAt: number;
}

/**
 * Sessions as rows of the store, behind signed tokens. A token is good while
 * its signature holds, it has not expired, and its session row still exists:
 * ending a session (Settings, a password change, deleting the account)
 * deletes the row, tells this node's and every other node's connections of
 * it (`ended`), and the token is refused from then on.
 */
export class SessionService {
  private readonly cache = new Map<string, Cached>();
  /** Tokens of 1.x name no session: whether their user has since become an account (then they are refused). */
  private readonly legacy = new Map<string, { account: boolean; until: number }>();
  private readonly endedListeners: Array<(userId: string, sessionIds: readonly string[]) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly tokens: Sessions,
    private readonly bus: Bus | undefined,
    private readonly now: () => number = Date.now,
    private readonly failed: (err: unknown) => void = () => {},
  ) {
    bus?.onNotice((n) => {
      if (n.event === 'sessions_ended') this.forget(n.userId, n.payload.sessions);
    });
  }

  /** Called with the sessions that ended, here or on another node (the socket edge says `bye` to their connections). */
  onEnded(listener: (userId: string, sessionIds: readonly string[]) => void): void {
    this.endedListeners.push(listener);
  }

  /** Opens a new session for `user` and answers its token. */
  async open(user: { userId: string; name: string }, from: Origin, registered: boolean): Promise<SessionOk> {
    const t = this.now();
    const id = randomBytes(16).toString('base64url');
    const expiresAt = t + this.tokens.ttlMs;
    await this.store.createSession({
      id,
      userId: user.userId,
      createdAt: t,
      lastSeenAt: t,
      expiresAt,
      userAgent: from.userAgent?.slice(0, USER_AGENT_MAX),
      address: from.address,
    });
    this.remember(id, user.userId, expiresAt, t);
    return this.answer(user, id, expiresAt, registered);
  }

  /** A new token for an existing session (a guest who claimed their name keeps the session they are in). */
  reissue(who: Identity & { sessionId: string; expiresAt: number }, registered: boolean): SessionOk {
    return this.answer(who, who.sessionId, who.expiresAt, registered);
  }

  /**
   * The identity a token proves, or undefined for a token that is forged,
   * malformed or expired, whose session has ended, or (a 1.x token) whose
   * user has since become an account. Rejects only when the store fails.
   */
  async authenticate(token: unknown, address?: string): Promise<Identity | undefined> {
    const claims = this.tokens.decode(token);
    if (!claims) return undefined;
    if (claims.v === 1) {
      if (await this.isAccount(claims.uid)) return undefined;
      return { userId: claims.uid, name: claims.name, expiresAt: claims.exp };
    }
    const t = this.now();
    let entry = this.cache.get(claims.sid);
    if (!entry || entry.until <= t) {
      const row = await this.store.session(claims.sid, t);
      if (!row || row.userId !== claims.uid) {
        this.cache.delete(claims.sid);
        return undefined;
      }
      entry = this.remember(row.id, row.userId, row.expiresAt, entry?.touchedAt ?? row.lastSeenAt);
    }
    if (entry.userId !== claims.uid) return undefined;
    if (t - entry.touchedAt >= TOUCH_EVERY_MS) {
      entry.touchedAt = t;
      this.store.touchSession(claims.sid, t, address).catch(this.failed);
    }
    return { userId: claims.uid, name: claims.name, expiresAt: Math.min(claims.exp, entry.expiresAt), sessionId: claims.sid };
  }

  /** True once the token that proved `who` has expired. */
  expired(who: Identity): boolean {
    return this.tokens.expired(who);
  }

  /** Ends sessions of `userId` that the store has already deleted: refused from now on, here and on every node. */
  ended(userId: string, sessionIds: readonly string[]): void {
    if (sessionIds.length === 0) return;
    this.forget(userId, sessionIds);
    this.bus?.notify({ node: this.bus.node, userId, event: 'sessions_ended', payload: { sessions: [...sessionIds] } });
  }

  /** A user became an account: their 1.x tokens stop working now rather than within a second. */
  becameAccount(userId: string): void {
    this.legacy.set(userId, { account: true, until: this.now() + SESSION_CHECK_MS });
  }

  private forget(userId: string, sessionIds: readonly string[]): void {
    for (const id of sessionIds) this.cache.delete(id);
    for (const listener of this.endedListeners) listener(userId, sessionIds);
  }

  private async isAccount(userId: string): Promise<boolean> {
    const t = this.now();
    const known = this.legacy.get(userId);
    if (known && known.until > t) return known.account;
    const account = (await this.store.account(userId)) !== undefined;
    if (this.legacy.size >= CACHE_CAP) this.legacy.delete(this.legacy.keys().next().value as string);
    this.legacy.set(userId, { account, until: t + SESSION_CHECK_MS });
    return account;
  }

  private remember(id: string, userId: string, expiresAt: number, touchedAt: number): Cached {
    this.cache.delete(id);
    if (this.cache.size >= CACHE_CAP) this.cache.delete(this.cache.keys().next().value as string);
    const entry = { userId, expiresAt, until: this.now() + SESSION_CHECK_MS, touchedAt };
    this.cache.set(id, entry);
    return entry;
  }

  private answer(user: { userId: string; name: string }, sessionId: string, expiresAt: number, registered: boolean): SessionOk {
    const token = this.tokens.sign({ uid: user.userId, sid: sessionId, name: user.name, exp: expiresAt });
    return { token, name: user.name, userId: user.userId, expiresAt, protocol: PROTOCOL_VERSION, sessionId, registered };
  }
}
