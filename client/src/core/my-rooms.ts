/**
 * The user's rooms and what is unread in them: the `myRooms` list (fetched
 * at each connect, on `invited`, and every few seconds on Ajax, which hears
 * only the open room), counted on from the live stream of every room the
 * connection is subscribed to, and the read position, which this tab moves
 * forward as messages are seen (`read`, at most once a second per room) and
 * other tabs move through the `read` event.
 */
import type { JoinOk, Message, MyRoom, User } from '../../../shared/protocol.ts';
import type { ChatStore } from './chat-store.ts';
import { errorText } from './error-text.ts';
import type { Link } from './link.ts';
import type { Timers } from './timers.ts';
import {
  applyEntries,
  applyRead,
  countsFromServer,
  isMessage,
  mentions,
  refreshCounts,
  shouldMarkRead,
  unreadOf,
  type RoomCounts,
  type UnreadView,
} from './unread.ts';

/** A read position goes to the server at most this often per room (the `signal` budget allows 5 a second). */
export const READ_THROTTLE_MS = 1000;
/** On Ajax, which polls only the open room, the list and its counts are fetched again this often. */
export const AJAX_REFRESH_MS = 5000;
/** After a read that covered only part of the server's count, the list is fetched again after this. */
export const PARTIAL_REFRESH_MS = 3000;

/** One of the user's rooms as the room list shows it. */
export interface MyRoomEntry extends Pick<MyRoom, 'room' | 'visibility' | 'title' | 'peer' | 'lastActivity'> {
  counts: RoomCounts;
  /** `unreadOf(counts)`, kept with it. */
  view: UnreadView;
}

export interface MyRoomsState {
  /** False until the first `myRooms` answer; the list is kept across reconnects. */
  loaded: boolean;
  /** Most recently active first, as the server orders them; rooms joined since come first. */
  rooms: readonly MyRoomEntry[];
}

/** The open room as it was when opened: the view puts its "New" divider after `lastRead`. */
export interface Arrival {
  room: string;
  /** The read position when the room was opened; null until the join answered, and for a first visit (no divider). */
  lastRead: number | null;
  /** The first join of this visit has answered (or cannot now): the view may place itself. */
  settled: boolean;
  /** Whether the room was in the user's list when opened; null when the list was not known yet. */
  member: boolean | null;
}

/** Something the user may want to hear about: a mention, or a direct message. */
export interface Alert {
  room: string;
  kind: 'mention' | 'direct';
  /** Who wrote it and what, when the message itself arrived (on Ajax the count rose instead). */
  from: User | null;
  text: string | null;
  seq: number | null;
  /** The room is the one open in this tab. */
  open: boolean;
}

export interface MyRoomsDeps {
  store: ChatStore;
  link: Link;
  timers: Timers;
  now: () => number;
  /** Socket transports: stay subscribed to these rooms, from these seqs, to count them. */
  subscribe: (rooms: ReadonlyArray<{ room: string; lastSeq: number }>) => void;
  /** The user left a room: end its subscription. */
  unsubscribe: (room: string) => void;
  alert?: ((a: Alert) => void) | undefined;
}

function entryOf(r: Pick<MyRoom, 'room' | 'visibility' | 'title' | 'peer' | 'lastActivity'>, counts: RoomCounts): MyRoomEntry {
  return { room: r.room, visibility: r.visibility, title: r.title, peer: r.peer, lastActivity: r.lastActivity, counts, view: unreadOf(counts) };
}

export class MyRooms {
  /** Highest seq waiting to be sent as a read position, per room. */
  private readonly pendingRead = new Map<string, number>();
  /** Highest seq sent as a read position, per room. */
  private readonly sentRead = new Map<string, number>();
  private readonly lastSentAt = new Map<string, number>();
  private refreshing = false;
  private refreshAgain = false;

  constructor(private readonly deps: MyRoomsDeps) {}

  private get state(): MyRoomsState {
    return this.deps.store.getSnapshot().myRooms;
  }

  private entry(room: string): MyRoomEntry | undefined {
    return this.state.rooms.find((r) => r.room === room);
  }

  private me(): string | null {
    return this.deps.store.getSnapshot().session?.userId ?? null;
  }

  private isAjax(): boolean {
    const c = this.deps.store.getSnapshot().connection;
    return c.status === 'online' && c.transport === 'ajax';
  }

  private setRooms(rooms: readonly MyRoomEntry[], loaded = this.state.loaded): void {
    this.deps.store.set({ myRooms: { loaded, rooms } });
  }

  private updateCounts(room: string, fn: (c: RoomCounts) => RoomCounts): void {
    const rooms = this.state.rooms;
    const i = rooms.findIndex((r) => r.room === room);
    const e = rooms[i];
    if (!e) return;
    const counts = fn(e.counts);
    if (counts === e.counts) return;
    this.setRooms(rooms.map((r, j) => (j === i ? entryOf(r, counts) : r)));
  }

  // ----- connection ---------------------------------------------------------

  /** A new connection: fetch the list, then subscribe; read positions not yet sent go now. */
  connected(): void {
    void this.refresh();
    for (const room of this.pendingRead.keys()) this.flushRead(room);
  }

  disconnected(): void {
    this.deps.timers.clear('my-rooms');
    this.deps.timers.clearPrefix('read:');
  }

  /** A room was added to the user's list by someone else (an invitation, a direct message). */
  invited(): void {
    void this.refresh();
  }

  /** Fetches `myRooms`; the server's counts replace ours up to its `lastSeq`. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    const live = this.deps.link();
    if (!live) return;
    this.refreshing = true;
    try {
      const res = await live.transport.request('myRooms', {});
      if (res.ok && this.deps.link()?.transport === live.transport) this.merge(res.rooms);
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) {
        this.refreshAgain = false;
        void this.refresh();
      } else if (this.isAjax()) {
        this.deps.timers.set('my-rooms', AJAX_REFRESH_MS, () => void this.refresh());
      }
    }
  }

  private merge(fresh: readonly MyRoom[]): void {
    const first = !this.state.loaded;
    const active = this.deps.store.getSnapshot().activeRoom;
    const before = new Map(this.state.rooms.map((r) => [r.room, r]));
    const rooms = fresh.map((r) => {
      const prev = before.get(r.room);
      const next = entryOf(r, prev ? refreshCounts(prev.counts, r) : countsFromServer(r));
      if (!first) this.alertOnRise(prev, next);
      return next;
    });
    // The open room may have been joined after the server read the list.
    const openEntry = active === null ? undefined : before.get(active);
    if (openEntry && !rooms.some((r) => r.room === active)) rooms.unshift(openEntry);
    this.setRooms(rooms, true);
    if (!this.isAjax()) this.deps.subscribe(rooms.map((r) => ({ room: r.room, lastSeq: r.counts.baseSeq })));
  }

  /** A count the server knows and the stream did not bring (Ajax, or a room not subscribed). */
  private alertOnRise(prev: MyRoomEntry | undefined, next: MyRoomEntry): void {
    const was = prev?.view ?? { unread: 0, mentions: 0 };
    const open = this.deps.store.getSnapshot().activeRoom === next.room;
    if (next.view.mentions > was.mentions) this.deps.alert?.({ room: next.room, kind: 'mention', from: null, text: null, seq: null, open });
    else if (next.visibility === 'dm' && next.view.unread > was.unread) {
      this.deps.alert?.({ room: next.room, kind: 'direct', from: null, text: null, seq: null, open });
    }
  }

  // ----- the stream -----------------------------------------------------------

  /**
   * A join answered: the room is in the user's list now (joining a public
   * room puts it there), its read position is the answer's, and what the
   * answer replayed is counted (without alerts: it is not news).
   */
  joined(room: string, ack: JoinOk): void {
    const me = this.me() ?? '';
    const existing = this.entry(room);
    if (!existing) {
      const lastRead = ack.lastRead ?? 0;
      const counted = applyEntries({ lastRead, baseSeq: lastRead, baseUnread: 0, baseMentions: 0, live: [], seen: lastRead }, ack.messages, me);
      const entry = entryOf({ room, visibility: ack.visibility ?? 'public', title: ack.title, peer: undefined, lastActivity: this.deps.now() }, counted);
      this.setRooms([entry, ...this.state.rooms]);
      // The page may not reach back to the read position: the server's count is exact.
      if (ack.messages.length > 0 && (ack.messages[0]?.seq ?? 0) > lastRead + 1) void this.refresh();
      return;
    }
    this.updateCounts(room, (c) => applyEntries(ack.lastRead === undefined ? c : applyRead(c, ack.lastRead), ack.messages, me));
  }

  /** Pushed entries: counted, and a new mention or direct message raises an alert. */
  received(room: string, messages: readonly Message[]): void {
    const e = this.entry(room);
    const me = this.me();
    if (!e || me === null) return;
    const next = applyEntries(e.counts, messages, me);
    if (next === e.counts) return;
    const counted = new Set(e.counts.live.map((m) => m.seq));
    this.updateCounts(room, () => next);
    const open = this.deps.store.getSnapshot().activeRoom === room;
    for (const c of next.live) {
      if (counted.has(c.seq)) continue;
      const m = messages.find((x) => x.seq === c.seq && isMessage(x));
      if (!m || !(c.mention || e.visibility === 'dm')) continue;
      this.deps.alert?.({
        room,
        kind: mentions(m, me) ? 'mention' : 'direct',
        from: { userId: m.authorId, name: m.author },
        text: m.text,
        seq: m.seq,
        open,
      });
    }
  }

  // ----- read positions -------------------------------------------------------

  /** Another tab or device moved the read position (the `read` event). */
  readElsewhere(room: string, seq: number): void {
    this.updateCounts(room, (c) => applyRead(c, seq));
  }

  /**
   * The view showed `seq` (the highest message on screen in a visible tab).
   * The count drops at once; the server hears at most once a second per
   * room, never a position behind one it has.
   */
  seen(room: string, seq: number): void {
    const known = Math.max(this.entry(room)?.counts.lastRead ?? 0, this.arrivalRead(room));
    if (!shouldMarkRead(known, Math.max(this.sentRead.get(room) ?? 0, this.pendingRead.get(room) ?? 0), seq)) return;
    const partial = (this.entry(room)?.counts.baseSeq ?? 0) > seq && (this.entry(room)?.counts.baseUnread ?? 0) > 0;
    this.updateCounts(room, (c) => applyRead(c, seq));
    this.pendingRead.set(room, seq);
    const wait = (this.lastSentAt.get(room) ?? -Infinity) + READ_THROTTLE_MS - this.deps.now();
    if (wait <= 0) this.flushRead(room);
    else this.deps.timers.set(`read:${room}`, wait, () => this.flushRead(room));
    if (partial) this.deps.timers.set('my-rooms-partial', PARTIAL_REFRESH_MS, () => void this.refresh());
  }

  private arrivalRead(room: string): number {
    const a = this.deps.store.getSnapshot().arrival;
    return a?.room === room ? (a.lastRead ?? 0) : 0;
  }

  private flushRead(room: string): void {
    const seq = this.pendingRead.get(room);
    const live = this.deps.link();
    if (seq === undefined || !live) return;
    this.pendingRead.delete(room);
    this.sentRead.set(room, seq);
    this.lastSentAt.set(room, this.deps.now());
    void live.transport.request('read', { room, seq }).then((res) => {
      if (res.ok) return this.updateCounts(room, (c) => applyRead(c, res.lastRead));
      // Not stored: try again with the next connection or the next thing seen.
      if (this.sentRead.get(room) === seq) this.sentRead.delete(room);
      if (res.error.code === 'unavailable' || res.error.code === 'rate_limited') {
        this.pendingRead.set(room, Math.max(seq, this.pendingRead.get(room) ?? 0));
      }
    });
  }

  // ----- the list -------------------------------------------------------------

  /** "Leave room": the room leaves the list and the subscription ends. Resolves with an error text, or null. */
  async part(room: string): Promise<string | null> {
    const live = this.deps.link();
    if (!live) return errorText({ code: 'unavailable', message: '' });
    const res = await live.transport.request('part', { room });
    if (!res.ok && res.error.code !== 'not_found') return errorText(res.error);
    this.setRooms(this.state.rooms.filter((r) => r.room !== room));
    this.pendingRead.delete(room);
    this.deps.unsubscribe(room);
    return null;
  }

  /** Public rooms for the "Browse rooms" dialog. */
  async directory(q: string): Promise<{ ok: true; rooms: Array<{ room: string; members: number; lastSeq: number; lastActivity?: number | undefined }> } | { ok: false; message: string }> {
    const live = this.deps.link();
    if (!live) return { ok: false, message: 'Not connected. The list shows once the connection is back.' };
    const query = q.trim().toLowerCase().replace(/^#/, '');
    const res = await live.transport.request('directory', query === '' ? {} : { q: query });
    return res.ok ? { ok: true, rooms: res.rooms } : { ok: false, message: errorText(res.error) };
  }
}
