import type { FileRecords } from './file-records.ts';
import type { ModerationRecords } from './moderation-records.ts';
import { createHash } from 'node:crypto';
import type { Attachment, EntryKind, Message, ModNote, User } from '../../shared/protocol.ts';
import type { AccountStore } from './account-records.ts';
import type { CompiledSearch } from './search-text.ts';

/** What the store knows of a room's log. */
export interface RoomLog {
  /** Identity of this log: changes only if the room's history is reset. */
  epoch: string;
  /** Highest committed seq; 0 for an empty room. */
  lastSeq: number;
}

/** An entry as a command asks for it: what it is, before the room gives it an id, an author and a time. */
export interface EntryDraft {
  kind: EntryKind;
  /** The sender's idempotency key: one stored entry per (authorId, clientId) in a room. */
  clientId: string;
  /** A message's text, or an edit's new text; empty otherwise. */
  text: string;
  /** A change: the seq of the message it changes. */
  target?: number | undefined;
  /** A reaction: which emoji, added or taken back. */
  emoji?: string | undefined;
  on?: boolean | undefined;
  /** A message that replies to another. */
  replyTo?: number | undefined;
  /** The userIds a message (or an edit) mentions. */
  mentions?: string[] | undefined;
  /** The files a message carries, as readers see them (the edge checked each is the sender's, uploaded to this room). */
  attachments?: Attachment[] | undefined;
  /** A `moderation` entry: what a moderator did (the edge checked they may). Since 2.7. */
  mod?: ModNote | undefined;
  /**
   * The author moderates the room (the edge read their role): a delete of
   * someone else's message is theirs to make, and its tombstone says
   * "removed by a moderator".
   */
  staff?: boolean | undefined;
}

/** An entry as the room hands it to the store: the draft with everything but its seq, which the store assigns. */
export interface Draft extends EntryDraft {
  /** Globally unique entry id, chosen by the room. */
  id: string;
  author: string;
  authorId: string;
  ts: number;
}

/**
 * The outcome of one draft: the stored entry and whether it had been stored
 * before (a retry), or `unchanged` (a reaction already as asked: `message`
 * is the target), or a refusal by the log's rules (see log-rules.ts), which
 * stores nothing.
 */
export type Committed =
  | { message: Message; duplicate: boolean; unchanged?: boolean }
  | { refused: 'not_found' | 'forbidden'; reason: string };

export interface CommitResult {
  /** The room's log right after the commit (its epoch, and the highest seq any writer committed). */
  log: RoomLog;
  /** One per draft, in the drafts' order. */
  results: Committed[];
}

/**
 * Told of a store transaction of room batches: how many rooms it held (more
 * than one when the store groups the commits of several rooms, see
 * SqliteStore), how many drafts, and how long its oldest commit waited for
 * the group to run (ms; 0 when each room commits alone).
 */
export type CommitListener = (rooms: number, drafts: number, waitedMs: number) => void;

export type Visibility = 'public' | 'private' | 'dm';
export type Role = 'owner' | 'member';

/** What the store keeps about a room besides its log. */
export interface RoomInfo {
  visibility: Visibility;
  /** A private room's title. */
  title?: string | undefined;
  /** Who may delete others' messages and manage members. */
  owner?: string | undefined;
}

/** One of a user's rooms, with the counts the room list shows. */
export interface Membership {
  room: string;
  visibility: Visibility;
  title?: string | undefined;
  /** A direct message: the other person. */
  peer?: User | undefined;
  lastSeq: number;
  lastRead: number;
  /** Messages by others after `lastRead`, at most `UNREAD_CAP`. */
  unread: number;
  /** Of those, the ones that mention the user. */
  mentions: number;
  lastActivity?: number | undefined;
}

/** A search as the store runs it: the query's patterns and filters, for one reader. */
export interface SearchSpec {
  compiled: CompiledSearch;
  /** Only these rooms (empty: every room the viewer may read). */
  rooms: readonly string[];
  /** Only these authors (undefined: anyone). */
  authorIds?: readonly string[] | undefined;
  /** Sent before / at or after (ms since the epoch). */
  before?: number | undefined;
  after?: number | undefined;
  /** Whose search: public rooms, and the rooms and direct messages this user is a member of now. */
  viewer: string;
  limit: number;
  /** Go on below this position (a previous page's `next`). */
  below?: number | undefined;
  /** Stop looking after about this long (ms), answering what was found and where to go on. */
  budgetMs: number;
}

/** A message a search found, in its current state. */
export interface SearchHit {
  room: string;
  seq: number;
  id: string;
  author: string;
  authorId: string;
  ts: number;
  text: string;
  /** A private room's title. */
  title?: string | undefined;
  /** Where it is in the store's newest-first order (a page ends at one). */
  position: number;
}

export interface SearchPage {
  hits: SearchHit[];
  /** More may follow below this position. */
  next?: number | undefined;
  /** The time ran out before the page was full (`next` goes on). */
  partial?: boolean;
}

/** Unread counts stop here: the room list says "999+", and counting costs at most this many rows. */
export const UNREAD_CAP = 999;
/** Rooms one user's list holds (see `Store.addMember` for what happens past it). */
export const MY_ROOMS_CAP = 200;

/**
 * Durable storage. The store, not the room, is the source of order: `commit`
 * assigns seqs inside one atomic write, so several writers (room fibers of
 * one room on several nodes) can never produce a gap or a duplicate. A room
 * fiber keeps its own `lastSeq` as a cache; when a commit's seqs do not follow
 * it, another writer committed meanwhile and the room reads the missing range
 * back.
 *
 * Nothing is written for a room until its first entry is committed (or it is
 * created private), so reading an unknown room costs a lookup and leaves
 * nothing behind.
 */
export interface Store extends AccountStore {
  /** The room's log, or undefined when the room has never stored a message. Writes nothing. */
  roomLog(room: string): Promise<RoomLog | undefined>;
  /**
   * A random id of this database, made once when it was created. Every node
   * on one database derives the same first epoch for a room that has not
   * stored anything yet (`firstEpoch`), so clients that joined such a room
   * through different nodes hold the same epoch when its first message is
   * stored. A restore from backup changes it (see docs/DEPLOY.md).
   */
  instanceId(): Promise<string>;
  /**
   * The logs of several rooms in one call (rooms never stored are absent).
   * A cluster node checks its live rooms with it every second, so a hint the
   * bus dropped delays delivery by at most that long.
   */
  roomLogs(rooms: readonly string[]): Promise<Map<string, RoomLog>>;
  /**
   * Commits a batch atomically: all of it or none of it (the promise rejects).
   * Retries (same author and clientId, already stored or earlier in the batch)
   * are answered with the stored original and `duplicate: true`; the log's
   * rules (log-rules.ts) refuse what may not be done; every other draft gets
   * the next seq. A public room's row is created with its first entry, with
   * `epochIfNew` as its epoch and the first author as its owner.
   */
  commit(room: string, drafts: readonly Draft[], epochIfNew: string): Promise<CommitResult>;
  /**
   * Tells `listener` of every transaction that committed room batches (or
   * tried to). Optional: a store without it is not observed.
   */
  observeCommits?(listener: CommitListener): void;
  /**
   * Up to `limit` entries with seq > `after`, ascending. Messages come in
   * their current state, with reactions as `viewer` sees them and the
   * originals of replies.
   */
  readAfter(room: string, after: number, limit: number, viewer?: string): Promise<Message[]>;
  /** The `limit` entries just below `before`, ascending, as `readAfter` shows them. */
  readBefore(room: string, before: number, limit: number, viewer?: string): Promise<Message[]>;

  /** A room's kind, title and owner; undefined for a room with no row (public until created otherwise). */
  roomInfo(room: string): Promise<RoomInfo | undefined>;
  /** Creates a private room or a direct message (with `epoch`); false when the name is taken. */
  createRoom(room: string, info: RoomInfo & { visibility: 'private' | 'dm' }, epoch: string): Promise<boolean>;
  /**
   * Adds (or renames) a member; for a public room, puts it in the user's list.
   * A full list (MY_ROOMS_CAP) makes room by forgetting its oldest room the
   * user never read anything in (an unwanted invitation, a room glanced at
   * once), so nobody can lock a user out by filling their list; false only
   * when every room in it has been read.
   */
  addMember(room: string, user: User, role: Role): Promise<boolean>;
  /** Removes a member; true when there was one. */
  removeMember(room: string, userId: string): Promise<boolean>;
  isMember(room: string, userId: string): Promise<boolean>;
  /** A room's members, owner first. */
  members(room: string): Promise<Array<User & { role: Role }>>;
  /** A user's rooms with read positions and unread counts, most recently active first. */
  memberships(userId: string): Promise<Membership[]>;
  /** Moves a read position forward (never back, never past the log's end); answers where it is now. */
  setRead(room: string, userId: string, seq: number): Promise<number>;
  /** The read position (0 when none). */
  lastRead(room: string, userId: string): Promise<number>;
  /** Public rooms that stored messages, whose name contains `q`, most recently active first. */
  directory(q: string | undefined, limit: number): Promise<Array<{ room: string; lastSeq: number; lastActivity?: number | undefined }>>;

  /**
   * Messages matching a search, newest first: only public rooms and rooms the
   * viewer is a member of at the time of the search; deleted messages never,
   * edited ones by their current text.
   */
  search(spec: SearchSpec): Promise<SearchPage>;

  /** What each uploaded file is (file-records.ts); its bytes are a blob (server/files/). */
  readonly files: FileRecords;

  /** Moderators, mutes, bans, room rules, reports and the audit log (moderation-records.ts). */
  readonly moderation: ModerationRecords;

  /** Remembers an invite link token for a room. */
  createInvite(room: string, token: string, by: string): Promise<void>;
  /** Forgets a token; true when it existed for this room. */
  revokeInvite(room: string, token: string): Promise<boolean>;
  /** The room an unrevoked token opens. */
  inviteRoom(token: string): Promise<string | undefined>;

  /** Remembers a user's current name (so others can find them to invite or to message). */
  saveUser(user: User): Promise<void>;
  user(userId: string): Promise<User | undefined>;
  /** Users whose name starts with `prefix` (case-insensitive). */
  findUsers(prefix: string, limit: number): Promise<User[]>;

  close(): Promise<void>;
}

/**
 * Where a room's log stands, for any reader: its stored row, or for a room
 * that has stored nothing, the epoch its first commit will write (the one
 * every node of this database derives for it, so joins before that, through
 * any node, see the one it will have) at seq 0. The one place a reader
 * derives `firstEpoch`.
 */
export async function logOf(store: Pick<Store, 'roomLog' | 'instanceId'>, room: string): Promise<RoomLog> {
  return (await store.roomLog(room)) ?? { epoch: firstEpoch(await store.instanceId(), room), lastSeq: 0 };
}

/** The epoch a room's log gets when it is first stored: the same on every node of one database. */
export function firstEpoch(instanceId: string, room: string): string {
  return createHash('sha256').update(`${instanceId}\u0000${room}`).digest('base64url').slice(0, 22);
}
