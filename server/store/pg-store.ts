import pg from 'pg';
import type { Message, User } from '../../shared/protocol.ts';
import type { AccountStore } from './account-records.ts';
import { decorate } from './log-rules.ts';
import { pgAccounts } from './pg-accounts.ts';
import { commitIn } from './pg-commit.ts';
import { PgBlobStore } from '../files/pg-blobs.ts';
import type { FileRecords } from './file-records.ts';
import { pgFiles } from './pg-files.ts';
import { pgModeration } from './pg-moderation.ts';
import type { ModerationRecords } from './moderation-records.ts';
import { migrate } from './pg-schema.ts';
import { PgSearchBackfill, searchPg, type BackfillLog } from './pg-search.ts';
import { ENTRY_COLUMNS, rowToEntry, type EntryRow } from './rows.ts';
import {
  MY_ROOMS_CAP,
  UNREAD_CAP,
  type CommitResult,
  type Draft,
  type Membership,
  type Role,
  type RoomInfo,
  type RoomLog,
  type SearchPage,
  type SearchSpec,
  type Store,
  type Visibility,
} from './store.ts';

export interface PgStoreOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** Connections at most (default 10). A room commits one batch at a time, so a few serve many rooms. */
  maxConnections?: number;
  /**
   * Bound, in ms, on any one call's waits (default 5000): connecting or
   * waiting for a free connection, a statement on the server, a reply on
   * the wire. A dead or unreachable PostgreSQL makes calls reject within
   * about this long instead of hanging; the room answers `unavailable`.
   */
  timeoutMs?: number;
  /** Told of errors on idle connections (PostgreSQL restarted, network dropped); the pool replaces them. */
  onIdleError?: (err: Error) => void;
  /** Told how indexing a database from before the search index goes (it runs in the background at start). */
  log?: BackfillLog;
}

/**
 * int8 (seq, ts, counts) as JS numbers rather than pg's default strings.
 * All stay far below 2^53: a seq counts one room's entries, a ts is
 * milliseconds.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A page's entries with, in the same statement (one snapshot), the reactions on each and the original each replies to. */
const PAGE = (range: string) => `
  SELECT ${ENTRY_COLUMNS},
    (SELECT jsonb_agg(jsonb_build_array(r.emoji, r.user_id, r.user_name) ORDER BY r.added)
       FROM reactions r WHERE r.room = m.room AND r.target = m.seq) AS reacted,
    (SELECT to_jsonb(o) - 'search' - 'search_pos' FROM messages o WHERE o.room = m.room AND o.seq = m.reply_to) AS original
  FROM (${range}) m
  ORDER BY seq`;
const AFTER = PAGE('SELECT * FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3');
const BEFORE = PAGE('SELECT * FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3');

type PageRow = EntryRow & { reacted: Array<[string, string, string]> | null; original: EntryRow | null };

/**
 * A user's rooms in one statement: for each, the room's row (absent for a
 * public room that has not stored a message yet), the unread messages by
 * others (counting at most UNREAD_CAP rows) and how many of them mention
 * the user, and for a direct message the other person.
 *
 * The unread rows have no ORDER BY: `last_read` is a parameter of the
 * lateral join, so the planner costs it for an average room and picks a
 * bitmap scan, which with a sort would visit every unread row of a big
 * room; without one it stops at the cap (only the bitmap of the index range
 * is built in full: about 10 ms per 100 000 entries).
 */
const MEMBERSHIPS = `
  SELECT m.room, m.last_read, r.visibility, r.title, r.last_ts, coalesce(r.last_seq, 0) AS last_seq,
         u.unread, u.mentions, p.user_id AS peer_id, p.user_name AS peer_name
  FROM members m
  LEFT JOIN rooms r ON r.name = m.room
  CROSS JOIN LATERAL (
    SELECT count(*) AS unread, count(*) FILTER (WHERE $1 = ANY (x.mentions)) AS mentions
    FROM (
      SELECT mentions FROM messages
      WHERE room = m.room AND seq > m.last_read AND kind = 'message' AND NOT deleted AND author_id <> $1
      LIMIT ${UNREAD_CAP}
    ) x
  ) u
  LEFT JOIN LATERAL (
    SELECT user_id, user_name FROM members o WHERE o.room = m.room AND o.user_id <> $1 ORDER BY o.joined_at LIMIT 1
  ) p ON r.visibility = 'dm'
  WHERE m.user_id = $1`;

interface MembershipRow {
  room: string;
  last_read: number;
  visibility: Visibility | null;
  title: string | null;
  last_ts: number | null;
  last_seq: number;
  unread: number;
  mentions: number;
  peer_id: string | null;
  peer_name: string | null;
}

/**
 * Store on PostgreSQL, for several nodes sharing one database. A commit is
 * one transaction that takes the room row's lock (`SELECT … FOR UPDATE`):
 * that lock is the room's single writer across every node, so seqs from
 * any number of writers come out gap-free, each (authorId, clientId) is
 * stored once, and the log's rules see every earlier change (pg-commit.ts).
 * Reads are single statements, outside any lock.
 *
 * The schema is migrated on first use (and retried on the next call if
 * PostgreSQL was down): `ready()` lets a server fail fast at start instead.
 * Messages stored before the search index are indexed in the background
 * from the start (pg-search.ts).
 */
export class PgStore implements Store {
  private readonly pool: pg.Pool;
  private readonly timeoutMs: number;
  private migrated: Promise<void> | undefined;
  private readonly backfill: PgSearchBackfill;
  /** Resolves once messages stored before the search index are indexed (soon after start for a new database), or the store closes. */
  readonly indexed: Promise<void>;
  readonly files: FileRecords;
  readonly moderation: ModerationRecords;
  private readonly acct: AccountStore = pgAccounts(
    (sql, params) => this.query(sql, params),
    (body) => this.ready().then(() => this.transaction(body)),
  );

  // ----- accounts and sessions (AccountStore, in ./pg-accounts.ts) -------------------------

  createAccount: AccountStore['createAccount'] = (a) => this.acct.createAccount(a);
  account: AccountStore['account'] = (id) => this.acct.account(id);
  accountByName: AccountStore['accountByName'] = (key) => this.acct.accountByName(key);
  setPassword: AccountStore['setPassword'] = (id, hash) => this.acct.setPassword(id, hash);
  deleteAccount: AccountStore['deleteAccount'] = (id, authorName) => this.acct.deleteAccount(id, authorName);
  createSession: AccountStore['createSession'] = (s) => this.acct.createSession(s);
  session: AccountStore['session'] = (id, now) => this.acct.session(id, now);
  sessions: AccountStore['sessions'] = (id, now) => this.acct.sessions(id, now);
  touchSession: AccountStore['touchSession'] = (id, at, address) => this.acct.touchSession(id, at, address);
  endSession: AccountStore['endSession'] = (userId, id) => this.acct.endSession(userId, id);
  endSessions: AccountStore['endSessions'] = (userId, except) => this.acct.endSessions(userId, except);
  pruneSessions: AccountStore['pruneSessions'] = (now) => this.acct.pruneSessions(now);
  addPasskey: AccountStore['addPasskey'] = (p) => this.acct.addPasskey(p);
  passkey: AccountStore['passkey'] = (id) => this.acct.passkey(id);
  passkeys: AccountStore['passkeys'] = (userId) => this.acct.passkeys(userId);
  usePasskey: AccountStore['usePasskey'] = (id, counter, at) => this.acct.usePasskey(id, counter, at);
  removePasskey: AccountStore['removePasskey'] = (userId, id) => this.acct.removePasskey(userId, id);
  saveChallenge: AccountStore['saveChallenge'] = (c) => this.acct.saveChallenge(c);
  takeChallenge: AccountStore['takeChallenge'] = (c, purpose, now) => this.acct.takeChallenge(c, purpose, now);
  authored: AccountStore['authored'] = (userId, after, limit) => this.acct.authored(userId, after, limit);

  /** The blob store on this database: files' bytes, reached by every node of a cluster. */
  blobs(): PgBlobStore {
    return new PgBlobStore(this.pool, () => this.ready());
  }

  constructor(opts: PgStoreOptions) {
    const timeoutMs = opts.timeoutMs ?? 5000;
    this.timeoutMs = timeoutMs;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.maxConnections ?? 10,
      types: TYPES,
      application_name: 'fiberchat',
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      // Client-side bound for a server that stops answering without closing the socket.
      query_timeout: timeoutMs + 1000,
      // A node that hangs inside a commit must not hold its room's lock for long.
      idle_in_transaction_session_timeout: timeoutMs * 2,
      keepAlive: true,
    });
    // Without a listener an idle connection's error (PostgreSQL restarting) would crash the process.
    this.pool.on('error', (err) => opts.onIdleError?.(err));
    this.backfill = new PgSearchBackfill((body) => this.transaction(body), () => this.ready(), opts.log);
    this.indexed = this.backfill.run();
    this.moderation = pgModeration((sql, params) => this.query(sql, params));
    this.files = pgFiles(
      (sql, params) => this.query(sql, params),
      (body) => this.ready().then(() => this.transaction(body)),
    );
  }

  /** Resolves once the schema is up to date; rejects if PostgreSQL cannot be reached or migrated. */
  ready(): Promise<void> {
    this.migrated ??= this.transaction(migrate).catch((err: unknown) => {
      this.migrated = undefined; // try again on the next call
      throw err;
    });
    return this.migrated;
  }

  async roomLog(room: string): Promise<RoomLog | undefined> {
    const row = (await this.query<{ epoch: string; last_seq: number }>('SELECT epoch, last_seq FROM rooms WHERE name = $1', [room]))[0];
    return row && { epoch: row.epoch, lastSeq: row.last_seq };
  }

  private instance: string | undefined;

  async instanceId(): Promise<string> {
    if (this.instance === undefined) {
      const rows = await this.query<{ value: string }>("SELECT value FROM meta WHERE key = 'instance'", []);
      this.instance = (rows[0] as { value: string }).value;
    }
    return this.instance;
  }

  async roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>> {
    const out = new Map<string, RoomLog>();
    if (rooms.length === 0) return out;
    const rows = await this.query<{ name: string; epoch: string; last_seq: number }>('SELECT name, epoch, last_seq FROM rooms WHERE name = ANY($1::text[])', [rooms]);
    for (const row of rows) out.set(row.name, { epoch: row.epoch, lastSeq: row.last_seq });
    return out;
  }

  async commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
    if (drafts.length === 0) return { log: (await this.roomLog(room)) ?? { epoch: epochIfNew, lastSeq: 0 }, results: [] };
    await this.ready();
    return this.transaction((client) => commitIn(client, room, drafts, epochIfNew));
  }

  async readAfter(room: string, after: number, limit: number, viewer?: string): Promise<Message[]> {
    return show(await this.query<PageRow>(AFTER, [room, after, limit]), viewer);
  }

  async readBefore(room: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    return show(await this.query<PageRow>(BEFORE, [room, before, limit]), viewer);
  }

  async roomInfo(room: string): Promise<RoomInfo | undefined> {
    const r = (await this.query<{ visibility: Visibility; title: string | null; owner_id: string | null }>(
      'SELECT visibility, title, owner_id FROM rooms WHERE name = $1',
      [room],
    ))[0];
    return r && { visibility: r.visibility, title: r.title ?? undefined, owner: r.owner_id ?? undefined };
  }

  async createRoom(room: string, info: RoomInfo & { visibility: 'private' | 'dm' }, epoch: string): Promise<boolean> {
    const r = await this.query(
      'INSERT INTO rooms (name, epoch, last_seq, visibility, title, owner_id) VALUES ($1, $2, 0, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING 1',
      [room, epoch, info.visibility, info.title ?? null, info.owner ?? null],
    );
    return r.length > 0;
  }

  async addMember(room: string, user: User, role: Role): Promise<boolean> {
    // A full list makes room by forgetting its oldest room never read in (so
    // nobody can lock a user out by filling it with invitations).
    await this.query(
      `DELETE FROM members WHERE user_id = $1 AND room = (
         SELECT room FROM members WHERE user_id = $1 AND last_read = 0 AND role <> 'owner' ORDER BY joined_at, room LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM members WHERE room = $2 AND user_id = $1)
       AND (SELECT count(*) FROM members WHERE user_id = $1) >= $3`,
      [user.userId, room, MY_ROOMS_CAP],
    );
    // One statement: the cap is checked against the user's rooms as this
    // statement sees them (two joins racing on two nodes may both pass; the
    // cap is a bound on a list, not a security limit).
    const r = await this.query(
      `INSERT INTO members (room, user_id, user_name, role)
       SELECT $1, $2, $3, $4
       WHERE EXISTS (SELECT 1 FROM members WHERE room = $1 AND user_id = $2)
          OR (SELECT count(*) FROM members WHERE user_id = $2) < $5
       ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name,
         role = CASE WHEN members.role = 'owner' THEN 'owner' ELSE excluded.role END
       RETURNING 1`,
      [room, user.userId, user.name, role, MY_ROOMS_CAP],
    );
    return r.length > 0;
  }

  async removeMember(room: string, userId: string): Promise<boolean> {
    return (await this.query('DELETE FROM members WHERE room = $1 AND user_id = $2 RETURNING 1', [room, userId])).length > 0;
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    return (await this.query('SELECT 1 FROM members WHERE room = $1 AND user_id = $2', [room, userId])).length > 0;
  }

  async members(room: string): Promise<Array<User & { role: Role }>> {
    // COLLATE "C": names in code-point order, as the SQLite store lists them.
    const rows = await this.query<{ user_id: string; user_name: string; role: Role }>(
      `SELECT user_id, user_name, role FROM members WHERE room = $1 ORDER BY role = 'owner' DESC, user_name COLLATE "C"`,
      [room],
    );
    return rows.map((m) => ({ userId: m.user_id, name: m.user_name, role: m.role }));
  }

  async memberships(userId: string): Promise<Membership[]> {
    const rows = await this.query<MembershipRow>(MEMBERSHIPS, [userId]);
    return rows
      .map(
        (m): Membership => ({
          room: m.room,
          visibility: m.visibility ?? 'public',
          title: m.title ?? undefined,
          peer: m.peer_id === null ? undefined : { userId: m.peer_id, name: m.peer_name ?? '' },
          lastSeq: m.last_seq,
          lastRead: m.last_read,
          unread: m.unread,
          mentions: m.mentions,
          lastActivity: m.last_ts ?? undefined,
        }),
      )
      .sort((a, b) => (b.lastActivity ?? 0) - (a.lastActivity ?? 0) || a.room.localeCompare(b.room));
  }

  async setRead(room: string, userId: string, seq: number): Promise<number> {
    const r = await this.query<{ last_read: number }>(
      `UPDATE members SET last_read = greatest(last_read, least($3, coalesce((SELECT last_seq FROM rooms WHERE name = $1), 0)))
       WHERE room = $1 AND user_id = $2 RETURNING last_read`,
      [room, userId, seq],
    );
    return r[0]?.last_read ?? 0;
  }

  async lastRead(room: string, userId: string): Promise<number> {
    return (await this.query<{ last_read: number }>('SELECT last_read FROM members WHERE room = $1 AND user_id = $2', [room, userId]))[0]?.last_read ?? 0;
  }

  async search(spec: SearchSpec): Promise<SearchPage> {
    await this.ready();
    return searchPg((body) => this.transaction(body), spec, this.timeoutMs);
  }

  async directory(q: string | undefined, limit: number) {
    const rows = await this.query<{ name: string; last_seq: number; last_ts: number }>(
      `SELECT name, last_seq, last_ts FROM rooms
       WHERE visibility = 'public' AND last_ts IS NOT NULL AND strpos(name, $1) > 0
       ORDER BY last_ts DESC LIMIT $2`,
      [q?.toLowerCase() ?? '', limit],
    );
    return rows.map((r) => ({ room: r.name, lastSeq: r.last_seq, lastActivity: r.last_ts }));
  }

  async createInvite(room: string, token: string, by: string): Promise<void> {
    await this.query('INSERT INTO invites (token, room, created_by) VALUES ($1, $2, $3)', [token, room, by]);
  }

  async revokeInvite(room: string, token: string): Promise<boolean> {
    return (await this.query('DELETE FROM invites WHERE token = $1 AND room = $2 RETURNING 1', [token, room])).length > 0;
  }

  async inviteRoom(token: string): Promise<string | undefined> {
    return (await this.query<{ room: string }>('SELECT room FROM invites WHERE token = $1', [token]))[0]?.room;
  }

  async saveUser(user: User): Promise<void> {
    await this.query(
      `INSERT INTO users (user_id, name, name_lower) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, seen_at = now()`,
      [user.userId, user.name, user.name.toLowerCase()],
    );
  }

  async user(userId: string): Promise<User | undefined> {
    const u = (await this.query<{ user_id: string; name: string }>('SELECT user_id, name FROM users WHERE user_id = $1', [userId]))[0];
    return u && { userId: u.user_id, name: u.name };
  }

  async findUsers(prefix: string, limit: number): Promise<User[]> {
    // name_lower is COLLATE "C": a LIKE with a fixed prefix is a range scan of its index.
    const pattern = `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.query<{ user_id: string; name: string }>(
      'SELECT user_id, name FROM users WHERE name_lower LIKE $1 ORDER BY name_lower LIMIT $2',
      [pattern, limit],
    );
    return rows.map((u) => ({ userId: u.user_id, name: u.name }));
  }

  async close(): Promise<void> {
    await this.backfill.stop();
    await this.pool.end();
  }

  /** One statement outside any transaction, once the schema is ready. */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    await this.ready();
    return (await this.pool.query<R>(sql, params)).rows;
  }

  /** Runs `body` in a transaction on one connection: COMMIT if it resolves, ROLLBACK if anything fails. */
  private async transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out connection that drops emits 'error' besides failing its
    // query; unheard, that event would crash the process.
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      client.release();
      client.removeListener('error', ignore);
      return result;
    } catch (err) {
      abandon(client, ignore);
      throw err;
    }
  }
}

/** A page as its reader sees it, from the rows of PAGE. */
function show(rows: readonly PageRow[], viewer: string | undefined): Message[] {
  const reactions: Array<{ target: number; emoji: string; userId: string; name: string }> = [];
  const originals = new Map<number, Message>();
  for (const r of rows) {
    for (const [emoji, userId, name] of r.reacted ?? []) reactions.push({ target: r.seq, emoji, userId, name });
    if (r.original) originals.set(r.original.seq, rowToEntry(r.original));
  }
  return decorate(rows.map(rowToEntry), reactions, originals, viewer);
}

/**
 * Rolls back a failed transaction in the background, so the caller's
 * rejection is not held up by a dead server: the connection returns to the
 * pool if ROLLBACK succeeds (a plain SQL error), and is destroyed otherwise
 * (PostgreSQL then rolls back when the connection closes).
 */
function abandon(client: pg.PoolClient, errorListener: () => void): void {
  client
    .query('ROLLBACK')
    .then(
      () => client.release(),
      (err: unknown) => client.release(err instanceof Error ? err : true),
    )
    .finally(() => client.removeListener('error', errorListener));
}
