import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Message, User } from '../../shared/protocol.ts';
import type { AccountStore } from './account-records.ts';
import { decorate } from './log-rules.ts';
import { ENTRY_COLUMNS, rowToEntry, type EntryRow } from './rows.ts';
import { sqliteAccounts } from './sqlite-accounts.ts';
import { sqliteFiles } from './sqlite-files.ts';
import { sqliteModeration } from './sqlite-moderation.ts';
import type { ModerationRecords } from './moderation-records.ts';
import type { FileRecords } from './file-records.ts';
import { SqliteCommitter, type CommitOptions } from './sqlite-commit.ts';
import { createPrivately, migrate } from './sqlite-schema.ts';
import { SearchBackfill, SqliteSearchIndex, type BackfillLog } from './sqlite-search.ts';
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
  type SearchPage,
  type SearchSpec,
  type Store,
  type Visibility,
} from './store.ts';

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteStoreOptions extends CommitOptions {
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
  /** Told how indexing a database from before the search index goes (it runs in the background at start). */
  log?: BackfillLog;
  /** Entries the search backfill reads per transaction (default `BACKFILL_BATCH`). */
  searchBackfillBatch?: number;
}

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
 * share one transaction (group commit, in sqlite-commit.ts), each room in
 * its own savepoint; the schema and its migrations are in sqlite-schema.ts.
 * Event-loop delay under load is reported by the bench.
 *
 * The data folder is created 0700 and the database 0600 (SQLite gives its
 * WAL and shared-memory files the database's mode): messages and the session
 * secret are nobody else's business on a shared machine.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly q;
  private readonly checkpointer: Worker | undefined;
  private readonly committer: SqliteCommitter;
  private readonly acct: AccountStore;
  private readonly index: SqliteSearchIndex;
  private readonly backfill: SearchBackfill;
  /** Resolves once messages stored before the search index are indexed (at once for a new database). */
  readonly indexed: Promise<void>;
  readonly files: FileRecords;
  readonly moderation: ModerationRecords;

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
    migrate(this.db);
    if (opts.checkpointEveryMs) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
        workerData: { file: opts.file, everyMs: opts.checkpointEveryMs },
      });
      this.checkpointer.unref();
    }
    const db = this.db;
    this.acct = sqliteAccounts(db);
    this.files = sqliteFiles(db);
    this.moderation = sqliteModeration(db);
    this.q = {
      room: db.prepare<[string], RoomRow>('SELECT epoch, visibility, title, owner_id FROM rooms WHERE name = ?'),
      insertRoom: db.prepare<[string, string, number, string, string | null, string | null]>(
        'INSERT INTO rooms (name, epoch, created_at, visibility, title, owner_id) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      lastSeq: db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM messages WHERE room = ?'),
      entry: db.prepare<[string, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq = ?`),
      after: db.prepare<[string, number, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`),
      before: db.prepare<[string, number, number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
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
    this.index = new SqliteSearchIndex(db);
    this.committer = new SqliteCommitter(db, this.index, opts);
    this.backfill = new SearchBackfill(db, this.index, opts.log, opts.searchBackfillBatch);
    this.indexed = this.backfill.run();
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
    return this.committer.commit(room, drafts, epochIfNew);
  }

  observeCommits(listener: CommitListener): void {
    this.committer.observe(listener);
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

  async search(spec: SearchSpec): Promise<SearchPage> {
    return this.index.search(spec);
  }

  async close(): Promise<void> {
    this.backfill.stop();
    // Commits already asked for are committed (or refused) before the file closes.
    if (this.db.open) this.committer.flushAll();
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

}

