import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Message, User } from '../../shared/protocol.ts';
import type { AccountStore } from './account-records.ts';
import { GroupCommitter, type Outcome } from './group-commit.ts';
import { decorate, plan, type PlanOp } from './log-rules.ts';
import { ENTRY_COLUMNS, rowToEntry, type EntryRow } from './rows.ts';
import { sqliteAccounts } from './sqlite-accounts.ts';
import {
  MY_ROOMS_CAP,
  UNREAD_CAP,
  type CommitListener,
  type CommitResult,
  type Draft,
  type Membership,
  type Role,
  type RoomInfo,
  type RoomLog,
  type Store,
  type Visibility,
} from './store.ts';

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteStoreOptions {
  /** Database file; created with its folder when missing. */
  file: string;
  /**
   * NORMAL (default): in WAL mode a commit survives a crash or SIGKILL of the
   * process; the last commits may be lost on power failure. FULL: also
   * survives power loss, at the cost of an fsync per batch.
   */
  synchronous?: SqliteSynchronous;
  /**
   * Checkpoint the WAL on a worker thread every this many ms instead of inside
   * commits (SQLite's default auto-checkpoint runs in whichever commit crosses
   * 1000 pages, stalling the event loop). 0 keeps SQLite's auto-checkpoint.
   */
  checkpointEveryMs?: number;
  /**
   * On (default): the commits of all rooms issued in one event-loop turn
   * share one transaction (group-commit.ts), each room's part in its own
   * savepoint. Off: one transaction per room's commit.
   */
  groupCommit?: boolean;
  /** How long a commit may wait for others to join its group (ms); GROUP_MAX_WAIT_MS by default. */
  groupMaxWaitMs?: number;
}

/**
 * A group holds at most this many drafts (but always one room's whole
 * batch): about one full room turn (ROOM_MAX_TURN's default), so a flush
 * holds the event loop no longer than one busy room's commit already does.
 */
export const GROUP_MAX_DRAFTS = 512;

/**
 * A commit waits at most about this long (ms) for others to join its group:
 * on a loaded server one poll phase can last far longer, and the ack and
 * broadcast wait for the commit.
 */
export const GROUP_MAX_WAIT_MS = 2;

interface CommitJob {
  room: string;
  drafts: readonly Draft[];
  epochIfNew: string;
}

/** Schema migrations, applied in order; `PRAGMA user_version` records the last one applied. Never edit one: append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     name TEXT PRIMARY KEY,
     epoch TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE messages (
     room TEXT NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     client_id TEXT,
     author TEXT NOT NULL,
     author_id TEXT NOT NULL,
     text TEXT NOT NULL,
     ts INTEGER NOT NULL,
     PRIMARY KEY (room, seq)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX messages_client ON messages (room, client_id, author_id) WHERE client_id IS NOT NULL;`,
  // Protocol 2.0: changes are entries of the log; rooms have owners, members and read positions.
  `ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
   ALTER TABLE rooms ADD COLUMN title TEXT;
   ALTER TABLE rooms ADD COLUMN owner_id TEXT;
   ALTER TABLE rooms ADD COLUMN last_ts INTEGER;
   ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';
   ALTER TABLE messages ADD COLUMN target INTEGER;
   ALTER TABLE messages ADD COLUMN emoji TEXT;
   ALTER TABLE messages ADD COLUMN on_flag INTEGER;
   ALTER TABLE messages ADD COLUMN edited_at INTEGER;
   ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN reply_to INTEGER;
   ALTER TABLE messages ADD COLUMN mentions TEXT;
   CREATE INDEX messages_target ON messages (room, target) WHERE target IS NOT NULL;
   CREATE TABLE reactions (
     room TEXT NOT NULL, target INTEGER NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL,
     PRIMARY KEY (room, target, emoji, user_id)
   );
   CREATE TABLE members (
     room TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
     last_read INTEGER NOT NULL DEFAULT 0, joined_at INTEGER NOT NULL,
     PRIMARY KEY (room, user_id)
   ) WITHOUT ROWID;
   CREATE INDEX members_user ON members (user_id);
   CREATE TABLE invites (token TEXT PRIMARY KEY, room TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_lower TEXT NOT NULL, seen_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX users_name ON users (name_lower);`,
  // The database's own random id: rooms not yet stored get their first epoch from it.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(16))));`,
  // Protocol 2.1: accounts, sessions, passkeys (queries in sqlite-accounts.ts).
  `CREATE TABLE accounts (
     user_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, password_hash TEXT, created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE sessions (
     id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL, user_agent TEXT, address TEXT
   ) WITHOUT ROWID;
   CREATE INDEX sessions_user ON sessions (user_id);
   CREATE INDEX sessions_expiry ON sessions (expires_at);
   CREATE TABLE passkeys (
     id TEXT PRIMARY KEY, user_id TEXT NOT NULL, public_key BLOB NOT NULL, counter INTEGER NOT NULL,
     transports TEXT, label TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX passkeys_user ON passkeys (user_id);
   CREATE TABLE auth_challenges (challenge TEXT PRIMARY KEY, purpose TEXT NOT NULL, user_id TEXT, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   -- A user's messages (export, deleting an account), read by index rather than by scanning every room.
   CREATE INDEX messages_author ON messages (author_id, room, seq);`,
  // Every new challenge drops the expired ones: by index, so that costs the expired rows, not every
  // challenge outstanding (anyone may ask for a login challenge).
  'CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);',
];

interface RoomRow {
  epoch: string;
  visibility: Visibility;
  title: string | null;
  owner_id: string | null;
}

/**
 * The default Store: one SQLite file in WAL mode through better-sqlite3.
 * Calls are synchronous under the hood; they stay short because the room
 * fiber commits a whole turn's entries in one transaction and every read is
 * an index range scan. Commits of many rooms issued in one event-loop turn
 * share one transaction (group commit), each room in its own savepoint.
 * Event-loop delay under load is reported by the bench.
 *
 * The data folder is created 0700 and the database 0600 (SQLite gives its
 * WAL and shared-memory files the database's mode): messages and the session
 * secret are nobody else's business on a shared machine.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly q;
  private readonly commitTx: Database.Transaction<(room: string, drafts: readonly Draft[], epochIfNew: string) => CommitResult>;
  private readonly checkpointer: Worker | undefined;
  private readonly group: GroupCommitter<CommitJob, CommitResult> | undefined;
  private readonly listeners: Array<CommitListener> = [];
  private readonly acct: AccountStore;

  // ----- accounts and sessions (AccountStore, in ./sqlite-accounts.ts) -------------------------

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

  constructor(opts: SqliteStoreOptions) {
    createPrivately(opts.file);
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    if (opts.checkpointEveryMs) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
        workerData: { file: opts.file, everyMs: opts.checkpointEveryMs },
      });
      this.checkpointer.unref();
    }
    const db = this.db;
    this.acct = sqliteAccounts(db);
    this.q = {
      room: db.prepare<[string], RoomRow>('SELECT epoch, visibility, title, owner_id FROM rooms WHERE name = ?'),
      insertRoom: db.prepare<[string, string, number, string, string | null, string | null]>(
        'INSERT INTO rooms (name, epoch, created_at, visibility, title, owner_id) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      touchRoom: db.prepare<[number, string]>('UPDATE rooms SET last_ts = ? WHERE name = ?'),
      lastSeq: db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM messages WHERE room = ?'),
      insert: db.prepare<[string, number, string, string | null, string, string, string, number, string, number | null, string | null, number | null, number | null, string | null]>(
        'INSERT INTO messages (room, seq, id, client_id, author, author_id, text, ts, kind, target, emoji, on_flag, reply_to, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      entry: db.prepare<[string, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq = ?`),
      after: db.prepare<[string, number, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`),
      before: db.prepare<[string, number, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      byClient: db.prepare<[string, string, string], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND client_id = ? AND author_id = ?`),
      edit: db.prepare<[string, number, string | null, string, number]>('UPDATE messages SET text = ?, edited_at = ?, mentions = coalesce(?, mentions) WHERE room = ? AND seq = ?'),
      tombstone: db.prepare<[string, number]>('UPDATE messages SET text = \'\', deleted = 1, mentions = NULL, edited_at = NULL WHERE room = ? AND seq = ?'),
      wipeEdits: db.prepare<[string, number]>("UPDATE messages SET text = '' WHERE room = ? AND target = ? AND kind = 'edit'"),
      dropReactions: db.prepare<[string, number]>('DELETE FROM reactions WHERE room = ? AND target = ?'),
      hasReaction: db.prepare<[string, number, string, string], { x: number }>('SELECT 1 AS x FROM reactions WHERE room = ? AND target = ? AND emoji = ? AND user_id = ?'),
      addReaction: db.prepare<[string, number, string, string, string]>('INSERT OR IGNORE INTO reactions (room, target, emoji, user_id, user_name) VALUES (?, ?, ?, ?, ?)'),
      removeReaction: db.prepare<[string, number, string, string]>('DELETE FROM reactions WHERE room = ? AND target = ? AND emoji = ? AND user_id = ?'),
      reactionsIn: db.prepare<[string, number, number], { target: number; emoji: string; user_id: string; user_name: string }>(
        // rowid order: who reacted first is listed first.
        'SELECT target, emoji, user_id, user_name FROM reactions WHERE room = ? AND target BETWEEN ? AND ? ORDER BY rowid',
      ),
      member: db.prepare<[string, string], { role: Role; last_read: number; user_name: string }>('SELECT role, last_read, user_name FROM members WHERE room = ? AND user_id = ?'),
      countMine: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM members WHERE user_id = ?'),
      upsertMember: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO members (room, user_id, user_name, role, joined_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name,
           role = CASE WHEN members.role = 'owner' THEN 'owner' ELSE excluded.role END`,
      ),
      removeMember: db.prepare<[string, string]>('DELETE FROM members WHERE room = ? AND user_id = ?'),
      forgetUnread: db.prepare<[string, string]>(
        `DELETE FROM members WHERE user_id = ? AND room = (
           SELECT room FROM members WHERE user_id = ? AND last_read = 0 AND role <> 'owner' ORDER BY joined_at, room LIMIT 1)`,
      ),
      members: db.prepare<[string], { user_id: string; user_name: string; role: Role }>(
        "SELECT user_id, user_name, role FROM members WHERE room = ? ORDER BY role = 'owner' DESC, user_name",
      ),
      mine: db.prepare<[string], { room: string; last_read: number; visibility: Visibility | null; title: string | null; last_ts: number | null }>(
        'SELECT m.room, m.last_read, r.visibility, r.title, r.last_ts FROM members m LEFT JOIN rooms r ON r.name = m.room WHERE m.user_id = ?',
      ),
      peer: db.prepare<[string, string], { user_id: string; user_name: string }>('SELECT user_id, user_name FROM members WHERE room = ? AND user_id <> ? LIMIT 1'),
      unread: db.prepare<[string, string, number, string], { n: number; mentions: number | null }>(
        `SELECT COUNT(*) AS n, SUM(mine) AS mentions FROM (
           SELECT (mentions IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(mentions) WHERE value = ?)) AS mine
           FROM messages WHERE room = ? AND seq > ? AND kind = 'message' AND deleted = 0 AND author_id <> ?
           LIMIT ${UNREAD_CAP})`,
      ),
      setRead: db.prepare<[number, string, string]>('UPDATE members SET last_read = max(last_read, ?) WHERE room = ? AND user_id = ?'),
      directory: db.prepare<[string, number], { name: string; last_ts: number | null }>(
        "SELECT name, last_ts FROM rooms WHERE visibility = 'public' AND last_ts IS NOT NULL AND instr(name, ?) > 0 ORDER BY last_ts DESC LIMIT ?",
      ),
      insertInvite: db.prepare<[string, string, string, number]>('INSERT INTO invites (token, room, created_by, created_at) VALUES (?, ?, ?, ?)'),
      deleteInvite: db.prepare<[string, string]>('DELETE FROM invites WHERE token = ? AND room = ?'),
      invite: db.prepare<[string], { room: string }>('SELECT room FROM invites WHERE token = ?'),
      upsertUser: db.prepare<[string, string, string, number]>(
        'INSERT INTO users (user_id, name, name_lower, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, seen_at = excluded.seen_at',
      ),
      user: db.prepare<[string], { user_id: string; name: string }>('SELECT user_id, name FROM users WHERE user_id = ?'),
      findUsers: db.prepare<[string, string, number], { user_id: string; name: string }>(
        'SELECT user_id, name FROM users WHERE name_lower >= ? AND name_lower < ? ORDER BY name_lower LIMIT ?',
      ),
    };
    // One synchronous transaction: the plan's lookups and its writes see one snapshot.
    this.commitTx = db.transaction((room: string, drafts: readonly Draft[], epochIfNew: string) => this.commitIn(room, drafts, epochIfNew));
    if (opts.groupCommit ?? true) {
      const groupTx = db.transaction((jobs: readonly CommitJob[]) => jobs.map((j) => this.commitInGroup(j)));
      this.group = new GroupCommitter<CommitJob, CommitResult>({
        run: (jobs) => groupTx.immediate(jobs),
        weight: (j) => j.drafts.length,
        maxWeight: GROUP_MAX_DRAFTS,
        maxWaitMs: opts.groupMaxWaitMs ?? GROUP_MAX_WAIT_MS,
        onGroup: (rooms, drafts, waitedMs) => this.told(rooms, drafts, waitedMs),
      });
    }
  }

  /**
   * One room's part of a group: its own savepoint (commitTx nests), so a
   * room whose statements fail is rolled back alone and the others commit.
   */
  private commitInGroup(j: CommitJob): Outcome<CommitResult> {
    // Some errors (disk full, I/O) make SQLite roll back the whole
    // transaction: the rest of the group must not run outside it, each in
    // its own autocommit. Throwing fails the group, so every room refuses.
    if (!this.db.inTransaction) throw new Error('the group transaction was rolled back');
    try {
      return { ok: true, value: this.commitTx(j.room, j.drafts, j.epochIfNew) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private told(rooms: number, drafts: number, waitedMs: number): void {
    for (const l of this.listeners) l(rooms, drafts, waitedMs);
  }

  /** The commit's body, inside the transaction. */
  private commitIn(room: string, drafts: readonly Draft[], epochIfNew: string): CommitResult {
    const q = this.q;
    const info = q.room.get(room);
    const p = plan(room, drafts, {
      byClient: (authorId, clientId) => {
        const row = q.byClient.get(room, clientId, authorId);
        return row && rowToEntry(row);
      },
      entry: (seq) => {
        const row = q.entry.get(room, seq);
        return row && rowToEntry(row);
      },
      hasReaction: (target, emoji, userId) => q.hasReaction.get(room, target, emoji, userId) !== undefined,
      owner: () => info?.owner_id ?? undefined,
      lastSeq: () => q.lastSeq.get(room)?.s ?? 0,
    });
    let epoch = info?.epoch;
    if (p.ops.length > 0 && epoch === undefined) {
      epoch = epochIfNew;
      q.insertRoom.run(room, epoch, Date.now(), 'public', null, drafts[0]?.authorId ?? null);
    }
    let lastTs: number | undefined;
    for (const op of p.ops) lastTs = this.apply(room, op) ?? lastTs;
    if (lastTs !== undefined) q.touchRoom.run(lastTs, room);
    return { log: { epoch: epoch ?? epochIfNew, lastSeq: p.lastSeq }, results: p.results };
  }

  /** Performs one operation of a plan; answers the ts of an inserted entry. */
  private apply(room: string, op: PlanOp): number | undefined {
    const q = this.q;
    switch (op.op) {
      case 'insert': {
        const e = op.entry;
        q.insert.run(
          room,
          e.seq,
          e.id,
          e.clientId ?? null,
          e.author,
          e.authorId,
          e.text,
          e.ts,
          e.kind ?? 'message',
          e.target ?? null,
          e.emoji ?? null,
          e.on === undefined ? null : e.on ? 1 : 0,
          e.replyTo ?? null,
          e.mentions ? JSON.stringify(e.mentions) : null,
        );
        return e.ts;
      }
      case 'edit':
        q.edit.run(op.text, op.editedAt, op.mentions ? JSON.stringify(op.mentions) : null, room, op.target);
        return undefined;
      case 'delete':
        q.tombstone.run(room, op.target);
        q.wipeEdits.run(room, op.target);
        q.dropReactions.run(room, op.target);
        return undefined;
      case 'react':
        if (op.on) q.addReaction.run(room, op.target, op.emoji, op.user.userId, op.user.name);
        else q.removeReaction.run(room, op.target, op.emoji, op.user.userId);
        return undefined;
    }
  }

  async roomLog(room: string): Promise<RoomLog | undefined> {
    const epoch = this.q.room.get(room)?.epoch;
    if (epoch === undefined) return undefined;
    return { epoch, lastSeq: this.q.lastSeq.get(room)?.s ?? 0 };
  }

  async instanceId(): Promise<string> {
    return (this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'instance'").get() as { value: string }).value;
  }

  async roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>> {
    const out = new Map<string, RoomLog>();
    for (const room of rooms) {
      const log = await this.roomLog(room);
      if (log) out.set(room, log);
    }
    return out;
  }

  async commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult> {
    if (this.group) return this.group.submit({ room, drafts, epochIfNew });
    this.told(1, drafts.length, 0);
    return this.commitTx.immediate(room, drafts, epochIfNew);
  }

  observeCommits(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  async readAfter(room: string, after: number, limit: number, viewer?: string): Promise<Message[]> {
    return this.show(room, this.q.after.all(room, after, limit).map(rowToEntry), viewer);
  }

  async readBefore(room: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    return this.show(room, this.q.before.all(room, before, limit).map(rowToEntry).reverse(), viewer);
  }

  async roomInfo(room: string): Promise<RoomInfo | undefined> {
    const r = this.q.room.get(room);
    return r && { visibility: r.visibility, title: r.title ?? undefined, owner: r.owner_id ?? undefined };
  }

  async createRoom(room: string, info: RoomInfo & { visibility: 'private' | 'dm' }, epoch: string): Promise<boolean> {
    if (this.q.room.get(room)) return false;
    this.q.insertRoom.run(room, epoch, Date.now(), info.visibility, info.title ?? null, info.owner ?? null);
    return true;
  }

  async addMember(room: string, user: User, role: Role): Promise<boolean> {
    const listed = this.q.member.get(room, user.userId);
    // A returning member, listed as they are: nothing to write (an upsert that changes nothing still writes its page).
    if (listed && listed.user_name === user.name && (listed.role === role || listed.role === 'owner')) return true;
    if (!listed && (this.q.countMine.get(user.userId)?.n ?? 0) >= MY_ROOMS_CAP) {
      // A full list makes room by forgetting its oldest room never read in.
      if (this.q.forgetUnread.run(user.userId, user.userId).changes === 0) return false;
    }
    this.q.upsertMember.run(room, user.userId, user.name, role, Date.now());
    return true;
  }

  async removeMember(room: string, userId: string): Promise<boolean> {
    return this.q.removeMember.run(room, userId).changes > 0;
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    return this.q.member.get(room, userId) !== undefined;
  }

  async members(room: string): Promise<Array<User & { role: Role }>> {
    return this.q.members.all(room).map((m) => ({ userId: m.user_id, name: m.user_name, role: m.role }));
  }

  async memberships(userId: string): Promise<Membership[]> {
    const out: Membership[] = [];
    for (const m of this.q.mine.all(userId)) {
      const u = this.q.unread.get(userId, m.room, m.last_read, userId);
      const visibility = m.visibility ?? 'public';
      const peer = visibility === 'dm' ? this.q.peer.get(m.room, userId) : undefined;
      out.push({
        room: m.room,
        visibility,
        title: m.title ?? undefined,
        peer: peer && { userId: peer.user_id, name: peer.user_name },
        lastSeq: this.q.lastSeq.get(m.room)?.s ?? 0,
        lastRead: m.last_read,
        unread: u?.n ?? 0,
        mentions: u?.mentions ?? 0,
        lastActivity: m.last_ts ?? undefined,
      });
    }
    return out.sort((a, b) => (b.lastActivity ?? 0) - (a.lastActivity ?? 0) || a.room.localeCompare(b.room));
  }

  async setRead(room: string, userId: string, seq: number): Promise<number> {
    const end = this.q.lastSeq.get(room)?.s ?? 0;
    this.q.setRead.run(Math.min(seq, end), room, userId);
    return this.q.member.get(room, userId)?.last_read ?? 0;
  }

  async lastRead(room: string, userId: string): Promise<number> {
    return this.q.member.get(room, userId)?.last_read ?? 0;
  }

  async directory(q: string | undefined, limit: number) {
    return this.q.directory.all(q?.toLowerCase() ?? '', limit).map((r) => ({
      room: r.name,
      lastSeq: this.q.lastSeq.get(r.name)?.s ?? 0,
      lastActivity: r.last_ts ?? undefined,
    }));
  }

  async createInvite(room: string, token: string, by: string): Promise<void> {
    this.q.insertInvite.run(token, room, by, Date.now());
  }

  async revokeInvite(room: string, token: string): Promise<boolean> {
    return this.q.deleteInvite.run(token, room).changes > 0;
  }

  async inviteRoom(token: string): Promise<string | undefined> {
    return this.q.invite.get(token)?.room;
  }

  async saveUser(user: User): Promise<void> {
    this.q.upsertUser.run(user.userId, user.name, user.name.toLowerCase(), Date.now());
  }

  async user(userId: string): Promise<User | undefined> {
    const u = this.q.user.get(userId);
    return u && { userId: u.user_id, name: u.name };
  }

  async findUsers(prefix: string, limit: number): Promise<User[]> {
    const p = prefix.toLowerCase();
    // [p, p + U+10FFFF): every name starting with p (SQLite compares UTF-8 bytes, and no character sorts after the last one), through the index.
    return this.q.findUsers.all(p, `${p}\u{10FFFF}`, limit).map((u) => ({ userId: u.user_id, name: u.name }));
  }

  async close(): Promise<void> {
    // Commits already asked for are committed (or refused) before the file closes.
    if (this.db.open) this.group?.flushAll();
    if (this.checkpointer) {
      const worker = this.checkpointer;
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      });
      await worker.terminate();
    }
    if (this.db.open) this.db.close();
  }

  /** A page as its reader sees it: reactions on its messages, and the originals of its replies. */
  private show(room: string, entries: Message[], viewer: string | undefined): Message[] {
    const first = entries[0]?.seq;
    const last = entries.at(-1)?.seq;
    if (first === undefined || last === undefined) return entries;
    const reactions = this.q.reactionsIn.all(room, first, last).map((r) => ({ target: r.target, emoji: r.emoji, userId: r.user_id, name: r.user_name }));
    const originals = new Map<number, Message>();
    for (const e of entries) {
      if (e.replyTo === undefined || originals.has(e.replyTo)) continue;
      const row = this.q.entry.get(room, e.replyTo);
      if (row) originals.set(e.replyTo, rowToEntry(row));
    }
    return decorate(entries, reactions, originals, viewer);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }
}

/** Creates the database's folder (0700) and file (0600) when missing, before SQLite opens it. */
function createPrivately(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode is filtered by the umask
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
}
