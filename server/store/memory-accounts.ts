import {
  SESSIONS_PER_USER_CAP,
  type AccountRecord,
  type ChallengeRecord,
  type PasskeyRecord,
  type SessionRecord,
} from './account-records.ts';

/**
 * The in-memory store's accounts, sessions, passkeys and challenges: the
 * parts of `AccountStore` that touch nothing but themselves (MemoryStore
 * adds what reaches into rooms: deleting an account, a user's messages).
 */
export class MemoryAccounts {
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly byKey = new Map<string, string>();
  private readonly sessionRows = new Map<string, SessionRecord>();
  private readonly keys = new Map<string, PasskeyRecord>();
  private readonly challenges = new Map<string, ChallengeRecord>();

  async createAccount(a: AccountRecord): Promise<boolean> {
    if (this.accounts.has(a.userId) || this.byKey.has(a.nameKey)) return false;
    this.accounts.set(a.userId, { ...a });
    this.byKey.set(a.nameKey, a.userId);
    return true;
  }

  async account(userId: string): Promise<AccountRecord | undefined> {
    const a = this.accounts.get(userId);
    return a && { ...a };
  }

  async accountByName(nameKey: string): Promise<AccountRecord | undefined> {
    const id = this.byKey.get(nameKey);
    return id === undefined ? undefined : this.account(id);
  }

  async setPassword(userId: string, passwordHash: string): Promise<void> {
    const a = this.accounts.get(userId);
    if (a) a.passwordHash = passwordHash;
  }

  /** Forgets everything of the user's account; the caller handles rooms and messages. */
  forget(userId: string): void {
    const a = this.accounts.get(userId);
    if (a) this.byKey.delete(a.nameKey);
    this.accounts.delete(userId);
    for (const [id, s] of this.sessionRows) if (s.userId === userId) this.sessionRows.delete(id);
    for (const [id, k] of this.keys) if (k.userId === userId) this.keys.delete(id);
    for (const [c, r] of this.challenges) if (r.userId === userId) this.challenges.delete(c);
  }

  async createSession(session: SessionRecord): Promise<void> {
    const mine = [...this.sessionRows.values()].filter((s) => s.userId === session.userId);
    for (const s of mine) if (s.expiresAt <= session.createdAt) this.sessionRows.delete(s.id);
    this.sessionRows.set(session.id, { ...session });
    const live = [...this.sessionRows.values()].filter((s) => s.userId === session.userId && s.id !== session.id);
    live.sort((x, y) => y.lastSeenAt - x.lastSeenAt);
    for (const s of live.slice(SESSIONS_PER_USER_CAP - 1)) this.sessionRows.delete(s.id);
  }

  async session(id: string, now: number): Promise<SessionRecord | undefined> {
    const s = this.sessionRows.get(id);
    return s && s.expiresAt > now ? { ...s } : undefined;
  }

  async sessions(userId: string, now: number): Promise<SessionRecord[]> {
    return [...this.sessionRows.values()]
      .filter((s) => s.userId === userId && s.expiresAt > now)
      .sort((x, y) => y.lastSeenAt - x.lastSeenAt)
      .map((s) => ({ ...s }));
  }

  async touchSession(id: string, at: number, address?: string): Promise<void> {
    const s = this.sessionRows.get(id);
    if (!s) return;
    s.lastSeenAt = at;
    if (address !== undefined) s.address = address;
  }

  async endSession(userId: string, id: string): Promise<boolean> {
    if (this.sessionRows.get(id)?.userId !== userId) return false;
    return this.sessionRows.delete(id);
  }

  async endSessions(userId: string, exceptId?: string): Promise<string[]> {
    const ended: string[] = [];
    for (const [id, s] of this.sessionRows) {
      if (s.userId === userId && id !== exceptId) {
        this.sessionRows.delete(id);
        ended.push(id);
      }
    }
    return ended;
  }

  async pruneSessions(now: number): Promise<number> {
    let n = 0;
    for (const [id, s] of this.sessionRows) if (s.expiresAt <= now && this.sessionRows.delete(id)) n++;
    return n;
  }

  async addPasskey(p: PasskeyRecord): Promise<void> {
    this.keys.set(p.id, copyPasskey(p));
  }

  async passkey(id: string): Promise<PasskeyRecord | undefined> {
    const p = this.keys.get(id);
    return p && copyPasskey(p);
  }

  async passkeys(userId: string): Promise<PasskeyRecord[]> {
    return [...this.keys.values()].filter((p) => p.userId === userId).sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1)).map(copyPasskey);
  }

  async usePasskey(id: string, counter: number, at: number): Promise<void> {
    const p = this.keys.get(id);
    if (!p) return;
    p.counter = counter;
    p.lastUsedAt = at;
  }

  async removePasskey(userId: string, id: string): Promise<boolean> {
    if (this.keys.get(id)?.userId !== userId) return false;
    return this.keys.delete(id);
  }

  async saveChallenge(c: ChallengeRecord): Promise<void> {
    // Unanswered challenges go once expired, so abandoned ceremonies leave nothing behind.
    const now = Date.now();
    for (const [k, r] of this.challenges) if (r.expiresAt <= now) this.challenges.delete(k);
    this.challenges.set(c.challenge, { ...c });
  }

  async takeChallenge(challenge: string, purpose: ChallengeRecord['purpose'], now: number): Promise<ChallengeRecord | undefined> {
    const c = this.challenges.get(challenge);
    if (!c) return undefined;
    this.challenges.delete(challenge);
    return c.purpose === purpose && c.expiresAt > now ? c : undefined;
  }
}

/** A passkey sharing no array with the stored one, as a database row would not: a caller's change cannot reach the store. */
function copyPasskey(p: PasskeyRecord): PasskeyRecord {
  return { ...p, publicKey: Uint8Array.from(p.publicKey), ...(p.transports ? { transports: [...p.transports] } : {}) };
}
