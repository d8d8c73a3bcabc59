import type pg from 'pg';
import {
  SESSIONS_PER_USER_CAP,
  type AccountRecord,
  type AccountStore,
  type ChallengeRecord,
  type PasskeyRecord,
  type SessionRecord,
} from './account-records.ts';

type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[]) => Promise<R[]>;
type Transaction = <T>(body: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

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
  transports: string[] | null;
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
    ...(r.transports === null ? {} : { transports: r.transports }),
    ...(r.last_used_at === null ? {} : { lastUsedAt: r.last_used_at }),
  };
}

const SESSION_COLUMNS = 'id, user_id, created_at, last_seen_at, expires_at, user_agent, address';

/**
 * PgStore's accounts, sessions, passkeys and challenges: one statement per
 * call where one suffices (a challenge is taken with `DELETE … RETURNING`,
 * so two nodes can never both accept it), a transaction where several rows
 * change together. The unique index on `name_key` decides which of two
 * nodes registering one name at once wins.
 */
export function pgAccounts(query: Query, transaction: Transaction): AccountStore {
  return {
    async createAccount(a) {
      const rows = await query(
        'INSERT INTO accounts (user_id, name, name_key, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1',
        [a.userId, a.name, a.nameKey, a.passwordHash ?? null, a.createdAt],
      );
      return rows.length > 0;
    },
    async account(userId) {
      const [r] = await query<AccountRow>('SELECT * FROM accounts WHERE user_id = $1', [userId]);
      return r && account(r);
    },
    async accountByName(nameKey) {
      const [r] = await query<AccountRow>('SELECT * FROM accounts WHERE name_key = $1', [nameKey]);
      return r && account(r);
    },
    async setPassword(userId, hash) {
      await query('UPDATE accounts SET password_hash = $1 WHERE user_id = $2', [hash, userId]);
    },
    async deleteAccount(userId, authorName) {
      return transaction(async (c) => {
        for (const table of ['accounts', 'sessions', 'passkeys', 'auth_challenges', 'members', 'users']) {
          await c.query(`DELETE FROM ${table} WHERE user_id = $1`, [userId]);
        }
        if (authorName === undefined) return [];
        // Grouped on the server: a prolific user's rows do not all cross the wire for a handful of rooms.
        const renamed = await c.query<{ room: string }>(
          'WITH renamed AS (UPDATE messages SET author = $1 WHERE author_id = $2 RETURNING room) SELECT room FROM renamed GROUP BY room ORDER BY room COLLATE "C"',
          [authorName, userId],
        );
        // Each reaction row has its entry by the same user: found through messages_author and the reactions key (reactions has no index on user_id).
        await c.query(
          `UPDATE reactions SET user_name = $1 WHERE user_id = $2 AND (room, target, emoji) IN (
             SELECT room, target, emoji FROM messages WHERE author_id = $2 AND kind = 'reaction')`,
          [authorName, userId],
        );
        return renamed.rows.map((r) => r.room);
      });
    },
    async createSession(s) {
      await transaction(async (c) => {
        await c.query('DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2', [s.userId, s.createdAt]);
        await c.query(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
          s.id,
          s.userId,
          s.createdAt,
          s.lastSeenAt,
          s.expiresAt,
          s.userAgent ?? null,
          s.address ?? null,
        ]);
        await c.query(
          `DELETE FROM sessions WHERE id IN (
             SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 ORDER BY last_seen_at DESC OFFSET ${SESSIONS_PER_USER_CAP - 1})`,
          [s.userId, s.id],
        );
      });
    },
    async session(id, now) {
      const [r] = await query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1 AND expires_at > $2`, [id, now]);
      return r && session(r);
    },
    async sessions(userId, now) {
      return (await query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC`, [userId, now])).map(session);
    },
    async touchSession(id, at, address) {
      await query('UPDATE sessions SET last_seen_at = $1, address = coalesce($2, address) WHERE id = $3', [at, address ?? null, id]);
    },
    async endSession(userId, id) {
      return (await query('DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING 1', [id, userId])).length > 0;
    },
    async endSessions(userId, exceptId) {
      const rows = await query<{ id: string }>('DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id', [userId, exceptId ?? '']);
      return rows.map((r) => r.id);
    },
    async pruneSessions(now) {
      return (await query('DELETE FROM sessions WHERE expires_at <= $1 RETURNING 1', [now])).length;
    },
    async addPasskey(p) {
      await query('INSERT INTO passkeys (id, user_id, public_key, counter, transports, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        p.id,
        p.userId,
        Buffer.from(p.publicKey),
        p.counter,
        p.transports ?? null,
        p.label,
        p.createdAt,
      ]);
    },
    async passkey(id) {
      const [r] = await query<PasskeyRow>('SELECT * FROM passkeys WHERE id = $1', [id]);
      return r && passkey(r);
    },
    async passkeys(userId) {
      return (await query<PasskeyRow>('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId])).map(passkey);
    },
    async usePasskey(id, counter, at) {
      await query('UPDATE passkeys SET counter = $1, last_used_at = $2 WHERE id = $3', [counter, at, id]);
    },
    async removePasskey(userId, id) {
      return (await query('DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING 1', [id, userId])).length > 0;
    },
    async saveChallenge(ch) {
      // Abandoned ceremonies leave nothing behind: expired challenges go whenever a new one is made.
      await query('DELETE FROM auth_challenges WHERE expires_at <= $1', [Date.now()]);
      await query(
        'INSERT INTO auth_challenges (challenge, purpose, user_id, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (challenge) DO UPDATE SET purpose = excluded.purpose, user_id = excluded.user_id, expires_at = excluded.expires_at',
        [ch.challenge, ch.purpose, ch.userId ?? null, ch.expiresAt],
      );
    },
    async takeChallenge(challenge, purpose, now) {
      const [r] = await query<{ challenge: string; purpose: ChallengeRecord['purpose']; user_id: string | null; expires_at: number }>(
        'DELETE FROM auth_challenges WHERE challenge = $1 RETURNING challenge, purpose, user_id, expires_at',
        [challenge],
      );
      if (!r || r.purpose !== purpose || r.expires_at <= now) return undefined;
      return { challenge: r.challenge, purpose: r.purpose, expiresAt: r.expires_at, ...(r.user_id === null ? {} : { userId: r.user_id }) };
    },
    async authored(userId, after, limit) {
      const rows = await query<{ room: string; seq: number; ts: number; text: string; edited_at: number | null; reply_to: number | null }>(
        `SELECT room, seq, ts, text, edited_at, reply_to FROM messages
         WHERE author_id = $1 AND (room, seq) > ($2, $3) AND kind = 'message' AND NOT deleted
         ORDER BY room, seq LIMIT $4`,
        // ('', 0) sorts before every entry (seqs start at 1).
        [userId, after?.room ?? '', after?.seq ?? 0, limit],
      );
      return rows.map((r) => ({
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
