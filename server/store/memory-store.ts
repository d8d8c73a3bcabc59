import { MemoryFileRecords } from './file-records.ts';
import { MemoryModerationRecords } from './moderation-records.ts';
import { randomUUID } from 'node:crypto';
import type { Message, User } from '../../shared/protocol.ts';
import type { AccountStore, AuthoredCursor, AuthoredMessage } from './account-records.ts';
import { decorate, isMessage, plan } from './log-rules.ts';
import { MemoryAccounts } from './memory-accounts.ts';
import { matchesDoc, searchDoc } from './search-text.ts';
import {
  MY_ROOMS_CAP,
  UNREAD_CAP,
  type CommitResult,
  type Draft,
  type Membership,
  type Role,
  type RoomInfo,
  type RoomLog,
  type SearchHit,
  type SearchPage,
  type SearchSpec,
  type Store,
} from './store.ts';

interface MemoryRoom {
  epoch: string;
  info: RoomInfo;
  /** Index i holds seq i + 1, in its current state. */
  entries: Message[];
  /** seq → place in the newest-first order of search (send time × 1024, then the next free one, as SQLite's index). */
  positions: Map<number, number>;
  /** `authorId \0 clientId` → seq. */
  byClient: Map<string, number>;
  /** target seq → emoji → userId → name. */
  reactions: Map<number, Map<string, Map<string, string>>>;
}

interface Member {
  name: string;
  role: Role;
  lastRead: number;
  joinedAt: number;
}

/**
 * In-memory Store for unit tests and throwaway demos. Same contract as the
 * SQLite and PostgreSQL stores (see store.contract.test.ts), plus switches
 * that make calls fail, so tests can prove that a failed commit never
 * produces an ok ack and that every failure is reported.
 */
export class MemoryStore implements Store {
  readonly files = new MemoryFileRecords();
  readonly moderation = new MemoryModerationRecords();
  private readonly rooms = new Map<string, MemoryRoom>();
  private readonly membersOf = new Map<string, Map<string, Member>>();
  private readonly invites = new Map<string, string>();
  private readonly users = new Map<string, User>();
  /** When set, every commit rejects with this error. */
  failCommits: Error | undefined;
  /** When set, every read (roomLog, readAfter, readBefore) rejects with this error. */
  failReads: Error | undefined;
  commitCalls = 0;
  /** Join order (a counter, so two joins in one millisecond still have an order). */
  private joins = 0;
  private lastPosition = 0;
  private readonly acct = new MemoryAccounts();

  // ----- accounts and sessions (AccountStore) --------------------------------

  createAccount: AccountStore['createAccount'] = (a) => this.acct.createAccount(a);
  account: AccountStore['account'] = (id) => this.acct.account(id);
  accountByName: AccountStore['accountByName'] = (key) => this.acct.accountByName(key);
  setPassword: AccountStore['setPassword'] = (id, hash) => this.acct.setPassword(id, hash);
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

  async deleteAccount(userId: string, authorName?: string): Promise<string[]> {
    this.acct.forget(userId);
    for (const members of this.membersOf.values()) members.delete(userId);
    this.users.delete(userId);
    if (authorName === undefined) return [];
    const renamed: string[] = [];
    for (const [room, r] of this.rooms) {
      let changed = false;
      for (const e of r.entries) {
        if (e.authorId === userId) {
          e.author = authorName;
          changed = true;
        }
      }
      for (const emojis of r.reactions.values()) for (const who of emojis.values()) if (who.has(userId)) who.set(userId, authorName);
      if (changed) renamed.push(room);
    }
    return renamed.sort();
  }

  async authored(userId: string, after: AuthoredCursor | undefined, limit: number): Promise<AuthoredMessage[]> {
    const out: AuthoredMessage[] = [];
    for (const room of [...this.rooms.keys()].sort()) {
      if (after && room < after.room) continue;
      for (const e of (this.rooms.get(room) as MemoryRoom).entries) {
        if (after && room === after.room && e.seq <= after.seq) continue;
        if (e.authorId !== userId || !isMessage(e) || e.deleted) continue;
        out.push({
          room,
          seq: e.seq,
          ts: e.ts,
          text: e.text,
          ...(e.editedAt === undefined ? {} : { editedAt: e.editedAt }),
          ...(e.replyTo === undefined ? {} : { replyTo: e.replyTo }),
        });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async roomLog(room: string): Promise<RoomLog | undefined> {
    this.checkRead();
    const r = this.rooms.get(room);
    return r && { epoch: r.epoch, lastSeq: r.entries.length };
  }

  /** One MemoryStore is one database. */
  private readonly instance = randomUUID();

  async instanceId(): Promise<string> {
    return this.instance;
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
    this.commitCalls++;
    if (this.failCommits) throw this.failCommits;
    const existing = this.rooms.get(room);
    const r: MemoryRoom = existing ?? {
      epoch: epochIfNew,
      info: { visibility: 'public', owner: drafts[0]?.authorId },
      entries: [],
      positions: new Map(),
      byClient: new Map(),
      reactions: new Map(),
    };
    const p = plan(room, drafts, {
      byClient: (authorId, clientId) => {
        const seq = r.byClient.get(`${authorId}\u0000${clientId}`);
        return seq === undefined ? undefined : r.entries[seq - 1];
      },
      entry: (seq) => r.entries[seq - 1],
      hasReaction: (target, emoji, userId) => r.reactions.get(target)?.get(emoji)?.has(userId) ?? false,
      lastSeq: () => r.entries.length,
    });
    if (p.ops.length > 0 && !existing) this.rooms.set(room, r);
    for (const op of p.ops) {
      switch (op.op) {
        case 'insert': {
          // A reply's preview belongs to its live form; pages show the original as it is when read.
          const { reply: _preview, ...stored } = op.entry;
          r.entries.push(stored);
          if (stored.attachments) this.files.attachNow(stored.attachments.map((a) => a.id), stored.room, stored.seq);
          this.lastPosition = Math.max(stored.ts * 1024, this.lastPosition + 1);
          r.positions.set(stored.seq, this.lastPosition);
          if (op.entry.clientId) r.byClient.set(`${op.entry.authorId}\u0000${op.entry.clientId}`, op.entry.seq);
          break;
        }
        case 'edit': {
          const t = r.entries[op.target - 1] as Message;
          t.text = op.text;
          t.editedAt = op.editedAt;
          if (op.mentions) t.mentions = op.mentions;
          break;
        }
        case 'delete': {
          const t = r.entries[op.target - 1] as Message;
          t.text = '';
          t.deleted = true;
          delete t.mentions;
          delete t.attachments;
          delete t.editedAt;
          if (op.moderated) t.mod = { action: 'delete' };
          for (const e of r.entries) if (e.kind === 'edit' && e.target === op.target) e.text = '';
          r.reactions.delete(op.target);
          break;
        }
        case 'react': {
          let emojis = r.reactions.get(op.target);
          if (!emojis) r.reactions.set(op.target, (emojis = new Map()));
          const who = emojis.get(op.emoji) ?? new Map<string, string>();
          if (op.on) who.set(op.user.userId, op.user.name);
          else who.delete(op.user.userId);
          if (who.size > 0) emojis.set(op.emoji, who);
          else emojis.delete(op.emoji);
          break;
        }
      }
    }
    return { log: { epoch: r.epoch, lastSeq: r.entries.length }, results: p.results };
  }

  async readAfter(room: string, after: number, limit: number, viewer?: string): Promise<Message[]> {
    this.checkRead();
    const r = this.rooms.get(room);
    return r ? this.show(r, r.entries.slice(after, after + limit), viewer) : [];
  }

  async readBefore(room: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    this.checkRead();
    const r = this.rooms.get(room);
    if (!r) return [];
    const end = Math.max(0, Math.min(before - 1, r.entries.length));
    return this.show(r, r.entries.slice(Math.max(0, end - limit), end), viewer);
  }

  async roomInfo(room: string): Promise<RoomInfo | undefined> {
    const r = this.rooms.get(room);
    return r && { ...r.info };
  }

  async createRoom(room: string, info: RoomInfo & { visibility: 'private' | 'dm' }, epoch: string): Promise<boolean> {
    if (this.rooms.has(room)) return false;
    this.rooms.set(room, { epoch, info: { ...info }, entries: [], positions: new Map(), byClient: new Map(), reactions: new Map() });
    return true;
  }

  async addMember(room: string, user: User, role: Role): Promise<boolean> {
    const existing = this.membersOf.get(room)?.get(user.userId);
    if (!existing && this.countRooms(user.userId) >= MY_ROOMS_CAP && !this.forgetUnread(user.userId)) return false;
    let m = this.membersOf.get(room);
    if (!m) this.membersOf.set(room, (m = new Map()));
    m.set(user.userId, { name: user.name, role: existing?.role === 'owner' ? 'owner' : role, lastRead: existing?.lastRead ?? 0, joinedAt: existing?.joinedAt ?? ++this.joins });
    return true;
  }

  async removeMember(room: string, userId: string): Promise<boolean> {
    return this.membersOf.get(room)?.delete(userId) ?? false;
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    return this.membersOf.get(room)?.has(userId) ?? false;
  }

  async members(room: string): Promise<Array<User & { role: Role }>> {
    return [...(this.membersOf.get(room) ?? [])]
      .map(([userId, m]) => ({ userId, name: m.name, role: m.role }))
      .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'owner' ? -1 : 1));
  }

  async memberships(userId: string): Promise<Membership[]> {
    const out: Membership[] = [];
    for (const [room, members] of this.membersOf) {
      const me = members.get(userId);
      if (!me) continue;
      const r = this.rooms.get(room);
      const entries = r?.entries ?? [];
      let unread = 0;
      let mentions = 0;
      for (let i = me.lastRead; i < entries.length && unread < UNREAD_CAP; i++) {
        const e = entries[i] as Message;
        if (!isMessage(e) || e.deleted || e.authorId === userId) continue;
        unread++;
        if (e.mentions?.includes(userId)) mentions++;
      }
      const visibility = r?.info.visibility ?? 'public';
      const peer = visibility === 'dm' ? [...members].find(([id]) => id !== userId) : undefined;
      out.push({
        room,
        visibility,
        title: r?.info.title,
        peer: peer ? { userId: peer[0], name: peer[1].name } : undefined,
        lastSeq: entries.length,
        lastRead: me.lastRead,
        unread,
        mentions,
        lastActivity: entries.at(-1)?.ts,
      });
    }
    return out.sort((a, b) => (b.lastActivity ?? 0) - (a.lastActivity ?? 0) || a.room.localeCompare(b.room));
  }

  async setRead(room: string, userId: string, seq: number): Promise<number> {
    const m = this.membersOf.get(room)?.get(userId);
    if (!m) return 0;
    const end = this.rooms.get(room)?.entries.length ?? 0;
    m.lastRead = Math.max(m.lastRead, Math.min(seq, end));
    return m.lastRead;
  }

  async lastRead(room: string, userId: string): Promise<number> {
    return this.membersOf.get(room)?.get(userId)?.lastRead ?? 0;
  }

  async directory(q: string | undefined, limit: number) {
    const needle = q?.toLowerCase() ?? '';
    const out: Array<{ room: string; lastSeq: number; lastActivity?: number }> = [];
    for (const [room, r] of this.rooms) {
      if (r.info.visibility !== 'public' || !room.includes(needle) || r.entries.length === 0) continue;
      out.push({ room, lastSeq: r.entries.length, lastActivity: r.entries.at(-1)?.ts });
    }
    return out.sort((a, b) => (b.lastActivity ?? 0) - (a.lastActivity ?? 0)).slice(0, limit);
  }

  async search(spec: SearchSpec): Promise<SearchPage> {
    this.checkRead();
    const found: SearchHit[] = [];
    for (const [room, r] of this.rooms) {
      if (spec.rooms.length > 0 && !spec.rooms.includes(room)) continue;
      if (r.info.visibility !== 'public' && !this.membersOf.get(room)?.has(spec.viewer)) continue;
      for (const e of r.entries) {
        if (!isMessage(e) || e.deleted || e.text === '') continue;
        const position = r.positions.get(e.seq) as number;
        if (spec.below !== undefined && position >= spec.below) continue;
        if (spec.authorIds && !spec.authorIds.includes(e.authorId)) continue;
        if ((spec.before !== undefined && e.ts >= spec.before) || (spec.after !== undefined && e.ts < spec.after)) continue;
        if (!matchesDoc(spec.compiled, searchDoc(e.text))) continue;
        found.push({ room, seq: e.seq, id: e.id, author: e.author, authorId: e.authorId, ts: e.ts, text: e.text, title: r.info.title, position });
      }
    }
    found.sort((a, b) => b.position - a.position);
    const hits = found.slice(0, spec.limit);
    return found.length > spec.limit ? { hits, next: hits[hits.length - 1]?.position } : { hits };
  }

  async createInvite(room: string, token: string): Promise<void> {
    this.invites.set(token, room);
  }

  async revokeInvite(room: string, token: string): Promise<boolean> {
    if (this.invites.get(token) !== room) return false;
    return this.invites.delete(token);
  }

  async inviteRoom(token: string): Promise<string | undefined> {
    return this.invites.get(token);
  }

  async saveUser(user: User): Promise<void> {
    this.users.set(user.userId, { ...user });
  }

  async user(userId: string): Promise<User | undefined> {
    const u = this.users.get(userId);
    return u && { ...u };
  }

  async findUsers(prefix: string, limit: number): Promise<User[]> {
    const p = prefix.toLowerCase();
    return [...this.users.values()]
      .filter((u) => u.name.toLowerCase().startsWith(p))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, limit)
      .map((u) => ({ ...u }));
  }

  async close(): Promise<void> {}

  private show(r: MemoryRoom, entries: Message[], viewer: string | undefined): Message[] {
    const rows: Array<{ target: number; emoji: string; userId: string; name: string }> = [];
    const originals = new Map<number, Message>();
    for (const e of entries) {
      for (const [emoji, who] of r.reactions.get(e.seq) ?? []) for (const [userId, name] of who) rows.push({ target: e.seq, emoji, userId, name });
      if (e.replyTo !== undefined) {
        const o = r.entries[e.replyTo - 1];
        if (o) originals.set(o.seq, o);
      }
    }
    return decorate(
      entries.map((e) => ({ ...e })),
      rows,
      originals,
      viewer,
    );
  }

  /** Forgets the user's oldest room never read in (not one they own); false when there is none. */
  private forgetUnread(userId: string): boolean {
    let oldest: { room: string; joinedAt: number } | undefined;
    for (const [room, members] of this.membersOf) {
      const m = members.get(userId);
      if (m && m.lastRead === 0 && m.role !== 'owner' && (!oldest || m.joinedAt < oldest.joinedAt)) oldest = { room, joinedAt: m.joinedAt };
    }
    return oldest ? (this.membersOf.get(oldest.room)?.delete(userId) ?? false) : false;
  }

  private countRooms(userId: string): number {
    let n = 0;
    for (const m of this.membersOf.values()) if (m.has(userId)) n++;
    return n;
  }

  private checkRead(): void {
    if (this.failReads) throw this.failReads;
  }
}
