/**
 * An in-memory tail of each live room's newest log entries, so a join's
 * latest page, a resume, a history page near the end and a REST poll are
 * answered without reading the store.
 *
 * Memory is bounded by one byte budget for the whole process: tails are kept
 * in least-recently-read order and whole tails are dropped from the least
 * recent end while the total exceeds it. Each tail is also capped at about
 * two pages (`MAX_ENTRIES`, `MAX_ROOM_BYTES`): its oldest entries are trimmed
 * as new ones arrive.
 *
 * The rules that keep an answer from the tail exactly what the store would
 * have answered:
 *
 * - A tail holds entries in the form a store read returns for viewer
 *   `undefined` (pages show messages as they are now: reactions, reply
 *   previews, edits, deletions), contiguous, ending at the room's `lastSeq`,
 *   for one epoch. It is used only while its last seq and epoch are the
 *   room's, and only while the room knows its `lastSeq` is where the store's
 *   log ends (the room checks that, see `Room.read`): in a cluster, after
 *   `refresh()` in the same turn.
 * - Fill: the first read of a room without a tail reads the newest
 *   `FILL_ENTRIES` from the store, as that read would for viewer `undefined`.
 * - Append: the room fiber hands over every entry it delivers, once and in
 *   order (its own commits, and ranges other nodes committed). A plain new
 *   message is appended, normalised to the store's form: the live entry
 *   carries the reply preview of the original as it was at commit, which is
 *   how it is now unless a later change says otherwise. A change entry
 *   (edit, delete, reaction) alters an earlier message and the previews of
 *   replies to it: it drops the whole tail, and the next read refills. So do
 *   a gap (an entry that is not last+1), another epoch, a failed commit
 *   (PostgreSQL may have stored it), and the room retiring.
 * - A reader other than `undefined` is served from the tail when every
 *   reaction on the served messages is decided for them: the reader is among
 *   the reactors listed (`mine: true`) or the list is complete (count equals
 *   the users listed). Otherwise the store answers, as it does for any read
 *   outside the tail.
 * - Cached messages are frozen and shared between answers (a message whose
 *   `mine` differs is a copy): code that mutated one would throw rather than
 *   corrupt the tail.
 *
 * A read the tail cannot answer whole throws `TAIL_MISS` from the source, and
 * the caller reruns the same read on the store (reads are pure, so rerunning
 * is safe): one algorithm (pages.ts) serves both.
 */
import { LIMITS, type Message, type ReactionSummary } from '../../shared/protocol.ts';
import { isMessage } from '../store/log-rules.ts';
import { messageBytes, type PageSource } from './pages.ts';

/** A tail keeps at most two of the largest pages a read asks for… */
export const MAX_ENTRIES = 2 * LIMITS.historyMaxPage;
/** …and at most two pages' worth of bytes (at least one entry), each entry counted as object and JSON (`entryBytes`). */
export const MAX_ROOM_BYTES = 2 * 2 * LIMITS.pageMaxBytes;
/** A fill reads the largest page a read asks for, so any latest page is in the tail. */
export const FILL_ENTRIES = LIMITS.historyMaxPage;

/** A read a tail cannot answer exactly; the caller reads the store instead. */
class TailMiss extends Error {
  override readonly name = 'TailMiss';
}
/** Thrown by a tail's source (one instance: a miss is routine and needs no stack). */
export const TAIL_MISS = new TailMiss('the tail does not hold this read');

export interface TailCacheEvents {
  /** A read was answered from a tail (`hit`) or needed the store (`miss`, a fill included). */
  read?(result: 'hit' | 'miss'): void;
  /** Tails dropped to keep the total within the budget. */
  evicted?(count: number): void;
}

interface Tail {
  owner: RoomTail;
  epoch: string;
  /** The seq of the last entry (0 for an empty log). */
  last: number;
  entries: Message[];
  bytes: number;
}

/**
 * What a cached entry costs: the object, i.e. its page bytes plus what
 * pages.ts does not count but memory holds (a reply's preview, reactions
 * with their listed users), twice: once an answer has carried the entry, its
 * JSON is kept beside it for as long as the entry lives (`messageJson` in
 * edge/answer-frames.ts), and JSON is no larger than the object's estimate.
 */
export function entryBytes(m: Message): number {
  let n = messageBytes(m);
  if (m.reply) n += 2 * (m.reply.text.length + m.reply.author.length) + 80;
  for (const r of m.reactions ?? []) {
    n += 2 * r.emoji.length + 48;
    for (const u of r.users) n += 2 * (u.userId.length + u.name.length) + 32;
  }
  if (m.mentions) for (const id of m.mentions) n += 2 * id.length + 16;
  return 2 * n;
}

/** One cache per server process: every live room's tail under one byte budget. */
export class TailCache {
  /** Room name → tail, least recently read first. */
  private readonly tails = new Map<string, Tail>();
  /** Room name → the handle of the room fiber that currently serves it. */
  private readonly owners = new Map<string, RoomTail>();
  private total = 0;
  /** Counts drops by fibers that no longer own their room (see `RoomTail.append`); a fill that spans one is not kept. */
  private invalidations = 0;

  constructor(
    readonly maxBytes: number,
    private readonly events: TailCacheEvents = {},
  ) {}

  /** Bytes held by every tail, as `entryBytes` counts them; never above `maxBytes`. */
  get bytes(): number {
    return this.total;
  }

  /** Rooms with a tail. */
  get rooms(): number {
    return this.tails.size;
  }

  /** The entries held for `room`, oldest first (tests and diagnostics; frozen, not to be changed). */
  held(room: string): readonly Message[] | undefined {
    return this.tails.get(room)?.entries;
  }

  /** A room fiber's handle on its room's tail. A newer handle for the same name supersedes this one. */
  open(room: string): RoomTail {
    this.owners.get(room)?.close();
    const handle = new RoomTail(this, room);
    this.owners.set(room, handle);
    return handle;
  }

  /** @internal */
  isOwner(handle: RoomTail): boolean {
    return this.owners.get(handle.room) === handle;
  }

  /** @internal */
  release(handle: RoomTail): void {
    if (this.owners.get(handle.room) === handle) this.owners.delete(handle.room);
  }

  /** @internal The room's tail, marked most recently read. */
  touch(room: string): Tail | undefined {
    const t = this.tails.get(room);
    if (t) {
      this.tails.delete(room);
      this.tails.set(room, t);
    }
    return t;
  }

  /** @internal */
  peek(room: string): Tail | undefined {
    return this.tails.get(room);
  }

  /** @internal */
  put(room: string, t: Tail): void {
    this.drop(room);
    this.tails.set(room, t);
    this.total += t.bytes;
    this.evict();
  }

  /** @internal Forgets a room's tail. */
  drop(room: string): void {
    const t = this.tails.get(room);
    if (!t) return;
    this.tails.delete(room);
    this.total -= t.bytes;
  }

  /** @internal A retired fiber changed its room's log: whatever tail a newer fiber holds or is filling may be stale. */
  invalidate(room: string): void {
    this.drop(room);
    this.invalidations += 1;
  }

  /** @internal */
  get generation(): number {
    return this.invalidations;
  }

  /** @internal A tail grew or shrank by `delta` bytes. */
  resized(delta: number): void {
    this.total += delta;
    this.evict();
  }

  /** @internal */
  counted(result: 'hit' | 'miss'): void {
    this.events.read?.(result);
  }

  /** Drops whole tails, least recently read first, until the total fits the budget. */
  private evict(): void {
    let n = 0;
    for (const [room, t] of this.tails) {
      if (this.total <= this.maxBytes) break;
      this.tails.delete(room);
      this.total -= t.bytes;
      n += 1;
    }
    if (n > 0) this.events.evicted?.(n);
  }
}

/** One room fiber's access to its tail (see the module comment for the rules). */
export class RoomTail {
  private closed = false;

  constructor(
    private readonly cache: TailCache,
    readonly room: string,
  ) {}

  /**
   * Runs the read `op` on this room's tail when it can answer it exactly,
   * else on `store`. The caller vouches that `last` is where the store's log
   * ends now, in `epoch`. A room without a tail fills it first.
   */
  async read<T>(store: PageSource, epoch: string, last: number, op: (source: PageSource) => Promise<T>): Promise<T> {
    const held = await this.tail(store, epoch, last);
    if (held) {
      try {
        const answer = await op(new TailSource(held.tail));
        this.cache.counted(held.filled ? 'miss' : 'hit');
        return answer;
      } catch (err) {
        if (err !== TAIL_MISS) throw err;
      }
    }
    this.cache.counted('miss');
    return op(store);
  }

  /**
   * The room delivered `entries` (ascending, following what it delivered
   * before) in `epoch`: plain messages extend the tail; anything else drops it.
   */
  append(epoch: string, entries: readonly Message[]): void {
    if (entries.length === 0) return;
    if (!this.owns()) {
      // A retired fiber that still serves its last commands: whatever tail a newer one holds may be stale now.
      this.cache.invalidate(this.room);
      return;
    }
    const t = this.cache.peek(this.room);
    if (!t) return;
    if (t.epoch !== epoch) return this.cache.drop(this.room);
    let added = 0;
    for (const e of entries) {
      // Entries read back from the store come decorated for viewer `undefined`, as a fill would have them.
      if (e.seq !== t.last + 1 || !isMessage(e)) return this.cache.drop(this.room);
      const m = stored(e);
      t.entries.push(m);
      t.last = e.seq;
      added += entryBytes(m);
    }
    t.bytes += added;
    added -= trim(t);
    this.cache.resized(added);
  }

  /** Forgets this room's tail (a failed commit: the store may hold what the room has not delivered). */
  drop(): void {
    if (this.owns()) this.cache.drop(this.room);
    else this.cache.invalidate(this.room);
  }

  /** The room retires: its tail goes, and this handle no longer reads or fills it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.cache.peek(this.room)?.owner === this) this.cache.drop(this.room);
    this.cache.release(this);
  }

  private owns(): boolean {
    return !this.closed && this.cache.isOwner(this);
  }

  private async tail(store: PageSource, epoch: string, last: number): Promise<{ tail: Tail; filled: boolean } | undefined> {
    if (!this.owns()) return undefined;
    const held = this.cache.touch(this.room);
    if (held && held.owner === this && held.epoch === epoch && held.last === last) return { tail: held, filled: false };
    if (held) this.cache.drop(this.room);
    const generation = this.cache.generation;
    const rows = last === 0 ? [] : await store.readBefore(this.room, last + 1, FILL_ENTRIES, undefined);
    // Only a contiguous read ending at `last` is the room's tail; and only while this fiber still serves the room.
    if (rows.length > 0 && (rows.at(-1)?.seq !== last || (rows[0] as Message).seq !== last - rows.length + 1)) return undefined;
    if (!this.owns() || this.cache.peek(this.room) || this.cache.generation !== generation) return undefined;
    const t: Tail = { owner: this, epoch, last, entries: [], bytes: 0 };
    for (const row of rows) {
      const m = stored(row);
      t.entries.push(m);
      t.bytes += entryBytes(m);
    }
    trim(t);
    this.cache.put(this.room, t);
    return { tail: t, filled: true };
  }
}

/** Drops a tail's oldest entries past its caps; answers the bytes dropped. */
function trim(t: Tail): number {
  let cut = 0;
  let bytes = 0;
  while (t.entries.length - cut > MAX_ENTRIES || (t.bytes - bytes > MAX_ROOM_BYTES && t.entries.length - cut > 1)) {
    bytes += entryBytes(t.entries[cut] as Message);
    cut += 1;
  }
  if (cut > 0) {
    t.entries.splice(0, cut);
    t.bytes -= bytes;
  }
  return bytes;
}

/**
 * A tail as the store's read interface, for the range it holds. Seqs are
 * gap-free from 1, so the entries a store read returns are known by seq: a
 * read wholly inside [first, last] is answered; anything reaching below the
 * tail throws `TAIL_MISS`. Nothing lies above `last` (the caller vouched).
 */
class TailSource implements PageSource {
  private readonly first: number;

  constructor(private readonly t: Tail) {
    this.first = t.last - t.entries.length + 1;
  }

  async readBefore(_room: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    const hi = Math.min(before - 1, this.t.last);
    return this.range(Math.max(1, hi - limit + 1), hi, viewer);
  }

  async readAfter(_room: string, after: number, limit: number, viewer?: string): Promise<Message[]> {
    return this.range(after + 1, Math.min(after + limit, this.t.last), viewer);
  }

  private range(lo: number, hi: number, viewer: string | undefined): Message[] {
    if (hi < lo) return [];
    if (lo < this.first) throw TAIL_MISS;
    const slice = this.t.entries.slice(lo - this.first, hi - this.first + 1);
    return viewer === undefined ? slice : forViewer(slice, viewer);
  }
}

/**
 * The slice as `viewer` sees it: `mine` set where they reacted. Throws
 * `TAIL_MISS` where that is unknown (they are not among the reactors listed
 * and the list is not complete).
 */
function forViewer(slice: Message[], viewer: string): Message[] {
  for (let i = 0; i < slice.length; i++) {
    const m = slice[i] as Message;
    if (!m.reactions) continue;
    let mine: ReactionSummary[] | undefined;
    m.reactions.forEach((r, j) => {
      const reacted = r.users.some((u) => u.userId === viewer);
      if (!reacted && r.count > r.users.length) throw TAIL_MISS;
      if (reacted) (mine ??= [...(m.reactions as ReactionSummary[])])[j] = { ...r, mine: true };
    });
    if (mine) slice[i] = { ...m, reactions: mine };
  }
  return slice;
}

/**
 * A message as a store read returns it for viewer `undefined`, as a fresh
 * frozen copy: the fields in the order the SQL stores build them, then the
 * reactions and the reply preview as `decorate` adds them.
 */
export function stored(e: Message): Message {
  const m: Message = { room: e.room, seq: e.seq, id: e.id, author: e.author, authorId: e.authorId, text: e.text, ts: e.ts };
  if (e.clientId !== undefined) m.clientId = e.clientId;
  if (e.kind !== undefined && e.kind !== 'message') m.kind = e.kind;
  if (e.target !== undefined) m.target = e.target;
  if (e.emoji !== undefined) m.emoji = e.emoji;
  if (e.on !== undefined) m.on = e.on;
  if (e.editedAt !== undefined) m.editedAt = e.editedAt;
  if (e.deleted) m.deleted = true;
  if (e.replyTo !== undefined) m.replyTo = e.replyTo;
  if (e.mentions && e.mentions.length > 0) m.mentions = Object.freeze([...e.mentions]) as string[];
  if (e.attachments) m.attachments = Object.freeze(e.attachments.map((a) => Object.freeze({ ...a }))) as Message['attachments'];
  if (e.mod) m.mod = Object.freeze({ ...e.mod, ...(e.mod.user ? { user: Object.freeze({ ...e.mod.user }) } : {}) });
  if (e.reactions) {
    m.reactions = Object.freeze(
      e.reactions.map((r) => Object.freeze({ ...r, users: Object.freeze(r.users.map((u) => Object.freeze({ ...u }))) as ReactionSummary['users'] })),
    ) as ReactionSummary[];
  }
  if (e.reply) m.reply = Object.freeze({ ...e.reply });
  return Object.freeze(m);
}
