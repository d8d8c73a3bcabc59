import type Database from 'better-sqlite3';
import {
  SESSIONS_PER_USER_CAP,
  type AccountRecord,
  type AccountStore,
  type ChallengeRecord,
  type PasskeyRecord,
  type SessionRecord,
} from './account-records.ts';

interface AccountRow {
  user_id: string;
  name: string;
  name_key: string;
  password_hash: string | null;
  created_at: number;
}
interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string | null;
  address: string | null;
}
interface PasskeyRow {
  id: string;
  user_id: string;
  public_key: Buffer;
  counter: number;
  transports: string | null;
  label: string;
  created_at: number;
  last_used_at: number | null;
}

function account(r: AccountRow): AccountRecord {
  return { userId: r.user_id, name: r.name, nameKey: r.name_key, createdAt: r.created_at, ...(r.password_hash === null ? {} : { passwordHash: r.password_hash }) };
}
function session(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    ...(r.user_agent === null ? {} : { userAgent: r.user_agent }),
    ...(r.address === null ? {} : { address: r.address }),
  };
}
function passkey(r: PasskeyRow): PasskeyRecord {
  return {
    id: r.id,
    userId: r.user_id,
    publicKey: new Uint8Array(r.public_key),
    counter: r.counter,
    label: r.label,
    createdAt: r.created_at,
    ...(r.transports === null ? {} : { transports: JSON.parse(r.transports) as string[] }),
    ...(r.last_used_at === null ? {} : { lastUsedAt: r.last_used_at }),
  };
}

const SESSION_COLUMNS = 'id, user_id, created_at, last_seen_at, expires_at, user_agent, address';

/**
 * SqliteStore's accounts, sessions, passkeys and challenges: prepared
 * statements over the tables of SqliteStore's migration 4, each a point
 * or index range read; the writes that touch several rows are transactions.
 */
export function sqliteAccounts(db: Database.Database): AccountStore {
  const q = {
    insertAccount: db.prepare<[string, string, string, string | null, number]>(
      'INSERT INTO accounts (user_id, name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    account: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE user_id = ?'),
    accountByKey: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE name_key = ?'),
    setPassword: db.prepare<[string, string]>('UPDATE accounts SET password_hash = ? WHERE user_id = ?'),
    insertSession: db.prepare<[string, string, number, number, number, string | null, string | null]>(
      `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    dropExpiredOf: db.prepare<[string, number]>('DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?'),
    dropBeyondCap: db.prepare<[string, string, string, string]>(
      `DELETE FROM sessions WHERE user_id = ? AND id <> ? AND id IN (
         SELECT id FROM sessions WHERE user_id = ? AND id <> ? ORDER BY last_seen_at DESC LIMIT -1 OFFSET ${SESSIONS_PER_USER_CAP - 1})`,
    ),
    session: db.prepare<[string, number], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ? AND expires_at > ?`),
    sessions: db.prepare<[string, number], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC`),
    touch: db.prepare<[number, string | null, string]>('UPDATE sessions SET last_seen_at = ?, address = coalesce(?, address) WHERE id = ?'),
    endSession: db.prepare<[string, string]>('DELETE FROM sessions WHERE id = ? AND user_id = ?'),
    sessionIdsOf: db.prepare<[string, string], { id: string }>('SELECT id FROM sessions WHERE user_id = ? AND id <> ?'),
    endSessionsOf: db.prepare<[string, string]>('DELETE FROM sessions WHERE user_id = ? AND id <> ?'),
    prune: db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?'),
    insertPasskey: db.prepare<[string, string, Buffer, number, string | null, string, number]>(
      'INSERT INTO passkeys (id, user_id, public_key, counter, transports, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    passkey: db.prepare<[string], PasskeyRow>('SELECT * FROM passkeys WHERE id = ?'),
    passkeys: db.prepare<[string], PasskeyRow>('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id'),
    usePasskey: db.prepare<[number, number, string]>('UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ?'),
    removePasskey: db.prepare<[string, string]>('DELETE FROM passkeys WHERE id = ? AND user_id = ?'),
    dropExpiredChallenges: db.prepare<[number]>('DELETE FROM auth_challenges WHERE expires_at <= ?'),
    insertChallenge: db.prepare<[string, string, string | null, number]>(
      'INSERT OR REPLACE INTO auth_challenges (challenge, purpose, user_id, expires_at) VALUES (?, ?, ?, ?)',
    ),
    takeChallenge: db.prepare<[string], { challenge: string; purpose: ChallengeRecord['purpose']; user_id: string | null; expires_at: number }>(
      'DELETE FROM auth_challenges WHERE challenge = ? RETURNING challenge, purpose, user_id, expires_at',
    ),
    authored: db.prepare<[string, string, number, number], { room: string; seq: number; ts: number; text: string; edited_at: number | null; reply_to: number | null }>(
      // A row value, so the cursor is a bound of the index range (with an OR the page would scan from the user's first message).
      `SELECT room, seq, ts, text, edited_at, reply_to FROM messages
       WHERE author_id = ? AND (room, seq) > (?, ?) AND kind = 'message' AND deleted = 0
       ORDER BY room, seq LIMIT ?`,
    ),
    roomsAuthored: db.prepare<[string], { room: string }>('SELECT DISTINCT room FROM messages WHERE author_id = ? ORDER BY room'),
    renameAuthor: db.prepare<[string, string]>('UPDATE messages SET author = ? WHERE author_id = ?'),
    // Each reaction row has its entry by the same user, so the rename finds them through messages_author and the
    // reactions key instead of scanning every reaction (reactions has no index on user_id).
    renameReactions: db.prepare<[string, string, string]>(
      `UPDATE reactions SET user_name = ? WHERE user_id = ? AND (room, target, emoji) IN (
         SELECT room, target, emoji FROM messages WHERE author_id = ? AND kind = 'reaction')`,
    ),
    deleteMembers: db.prepare<[string]>('DELETE FROM members WHERE user_id = ?'),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE user_id = ?'),
    deleteAccount: db.prepare<[string]>('DELETE FROM accounts WHERE user_id = ?'),
    deleteSessions: db.prepare<[string]>('DELETE FROM sessions WHERE user_id = ?'),
    deletePasskeys: db.prepare<[string]>('DELETE FROM passkeys WHERE user_id = ?'),
    deleteChallenges: db.prepare<[string]>('DELETE FROM auth_challenges WHERE user_id = ?'),
  };

  const createSession = db.transaction((s: SessionRecord) => {
    q.dropExpiredOf.run(s.userId, s.createdAt);
    q.insertSession.run(s.id, s.userId, s.createdAt, s.lastSeenAt, s.expiresAt, s.userAgent ?? null, s.address ?? null);
    q.dropBeyondCap.run(s.userId, s.id, s.userId, s.id);
  });
  const endSessions = db.transaction((userId: string, exceptId: string) => {
    const ids = q.sessionIdsOf.all(userId, exceptId).map((r) => r.id);
    q.endSessionsOf.run(userId, exceptId);
    return ids;
  });
  const deleteAccount = db.transaction((userId: string, authorName: string | undefined) => {
    for (const stmt of [q.deleteAccount, q.deleteSessions, q.deletePasskeys, q.deleteChallenges, q.deleteMembers, q.deleteUser]) stmt.run(userId);
    if (authorName === undefined) return [];
    const rooms = q.roomsAuthored.all(userId).map((r) => r.room);
    q.renameAuthor.run(authorName, userId);
    q.renameReactions.run(authorName, userId, userId);
    return rooms;
  });

  return {
    async createAccount(a) {
      return q.insertAccount.run(a.userId, a.name, a.nameKey, a.passwordHash ?? null, a.createdAt).changes > 0;
    },
    async account(userId) {
      const r = q.account.get(userId);
      return r && account(r);
    },
    async accountByName(nameKey) {
      const r = q.accountByKey.get(nameKey);
      return r && account(r);
    },
    async setPassword(userId, hash) {
      q.setPassword.run(hash, userId);
    },
    async deleteAccount(userId, authorName) {
      return deleteAccount.immediate(userId, authorName);
    },
    async createSession(s) {
      createSession.immediate(s);
    },
    async session(id, now) {
      const r = q.session.get(id, now);
      return r && session(r);
    },
    async sessions(userId, now) {
      return q.sessions.all(userId, now).map(session);
    },
    async touchSession(id, at, address) {
      q.touch.run(at, address ?? null, id);
    },
    async endSession(userId, id) {
      return q.endSession.run(id, userId).changes > 0;
    },
    async endSessions(userId, exceptId) {
      // No session id is empty, so '' excepts none.
      return endSessions.immediate(userId, exceptId ?? '');
    },
    async pruneSessions(now) {
      return q.prune.run(now).changes;
    },
    async addPasskey(p) {
      q.insertPasskey.run(p.id, p.userId, Buffer.from(p.publicKey), p.counter, p.transports ? JSON.stringify(p.transports) : null, p.label, p.createdAt);
    },
    async passkey(id) {
      const r = q.passkey.get(id);
      return r && passkey(r);
    },
    async passkeys(userId) {
      return q.passkeys.all(userId).map(passkey);
    },
    async usePasskey(id, counter, at) {
      q.usePasskey.run(counter, at, id);
    },
    async removePasskey(userId, id) {
      return q.removePasskey.run(id, userId).changes > 0;
    },
    async saveChallenge(c) {
      // Abandoned ceremonies leave nothing behind: expired challenges go whenever a new one is made.
      q.dropExpiredChallenges.run(Date.now());
      q.insertChallenge.run(c.challenge, c.purpose, c.userId ?? null, c.expiresAt);
    },
    async takeChallenge(challenge, purpose, now) {
      const r = q.takeChallenge.get(challenge);
      if (!r || r.purpose !== purpose || r.expires_at <= now) return undefined;
      return { challenge: r.challenge, purpose: r.purpose, expiresAt: r.expires_at, ...(r.user_id === null ? {} : { userId: r.user_id }) };
    },
    async authored(userId, after, limit) {
      // ('', 0) sorts before every entry (seqs start at 1), so no cursor starts at the first room.
      return q.authored.all(userId, after?.room ?? '', after?.seq ?? 0, limit).map((r) => ({
        room: r.room,
        seq: r.seq,
        ts: r.ts,
        text: r.text,
        ...(r.edited_at === null ? {} : { editedAt: r.edited_at }),
        ...(r.reply_to === null ? {} : { replyTo: r.reply_to }),
      }));
    },
  };
}
