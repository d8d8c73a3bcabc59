/**
 * What the store keeps for accounts and sessions (since protocol 2.1). Every
 * token names a session row; an account owns a name by its folded key
 * (`server/accounts/name-key.ts`), so no guest and no second account can take it.
 */

/** An account: a userId that owns a name. */
export interface AccountRecord {
  userId: string;
  /** The name as registered (display form). */
  name: string;
  /** The folded name, unique among accounts. */
  nameKey: string;
  /** The encoded password hash (`server/accounts/password.ts`); absent for an account with passkeys only. */
  passwordHash?: string | undefined;
  createdAt: number;
}

/** One signed-in device or tab group: the row a token's `sid` names. */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  userAgent?: string | undefined;
  address?: string | undefined;
}

/** A WebAuthn credential of an account. */
export interface PasskeyRecord {
  /** The credential id, base64url. */
  id: string;
  userId: string;
  publicKey: Uint8Array;
  counter: number;
  transports?: string[] | undefined;
  label: string;
  createdAt: number;
  lastUsedAt?: number | undefined;
}

/** A WebAuthn challenge handed out and not yet used (each is good once, until `expiresAt`). */
export interface ChallengeRecord {
  challenge: string;
  /** `stream`: a ticket for `GET /api/stream` (its `userId` is the stream's user). */
  purpose: 'register' | 'login' | 'stream';
  /** Registration: whose passkey. */
  userId?: string | undefined;
  expiresAt: number;
}

/** Where an export page ended: the next page starts after this (room, seq). */
export interface AuthoredCursor {
  room: string;
  seq: number;
}

/** A message its author wrote and did not delete. */
export interface AuthoredMessage {
  room: string;
  seq: number;
  ts: number;
  text: string;
  editedAt?: number | undefined;
  replyTo?: number | undefined;
}

/** Sessions one identity may hold; a new one past it ends the least recently seen. */
export const SESSIONS_PER_USER_CAP = 50;

/**
 * The store's half of accounts. Every store (memory, SQLite, PostgreSQL)
 * implements it; `accounts.contract.test.ts` holds them to the same cases.
 */
export interface AccountStore {
  /** Creates an account; false (and nothing written) when its userId or nameKey is taken. */
  createAccount(account: AccountRecord): Promise<boolean>;
  account(userId: string): Promise<AccountRecord | undefined>;
  accountByName(nameKey: string): Promise<AccountRecord | undefined>;
  setPassword(userId: string, passwordHash: string): Promise<void>;
  /**
   * Deletes the account, its sessions, passkeys, memberships and read
   * positions, and its user row. `authorName` given: the user's messages stay
   * under that name (e.g. "deleted user"); absent: they are left as they are
   * (the caller removes them through the rooms' logs). Answers the rooms
   * whose messages it renamed.
   */
  deleteAccount(userId: string, authorName?: string): Promise<string[]>;

  /** Stores a session; past `SESSIONS_PER_USER_CAP` for its user, the least recently seen others end. Expired ones of the user are dropped. */
  createSession(session: SessionRecord): Promise<void>;
  /** The session, if it exists and has not expired at `now`. */
  session(id: string, now: number): Promise<SessionRecord | undefined>;
  /** A user's unexpired sessions, most recently seen first. */
  sessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Records use: last seen at `at` from `address` (no-op for an unknown id). */
  touchSession(id: string, at: number, address?: string): Promise<void>;
  /** Ends one of `userId`'s sessions; false when it had no such session. */
  endSession(userId: string, id: string): Promise<boolean>;
  /** Ends every session of `userId` except `exceptId`; answers the ids it ended. */
  endSessions(userId: string, exceptId?: string): Promise<string[]>;
  /** Drops every session expired at `now`; answers how many. */
  pruneSessions(now: number): Promise<number>;

  addPasskey(passkey: PasskeyRecord): Promise<void>;
  passkey(id: string): Promise<PasskeyRecord | undefined>;
  passkeys(userId: string): Promise<PasskeyRecord[]>;
  /** After a sign-in with it: its new signature counter and when. */
  usePasskey(id: string, counter: number, at: number): Promise<void>;
  removePasskey(userId: string, id: string): Promise<boolean>;

  saveChallenge(challenge: ChallengeRecord): Promise<void>;
  /** Takes a challenge (it is gone after this): the record, if it existed for `purpose` and had not expired at `now`. */
  takeChallenge(challenge: string, purpose: ChallengeRecord['purpose'], now: number): Promise<ChallengeRecord | undefined>;

  /** Up to `limit` of `userId`'s undeleted messages (kind message) after `after`, ordered by room then seq. */
  authored(userId: string, after: AuthoredCursor | undefined, limit: number): Promise<AuthoredMessage[]>;
}
