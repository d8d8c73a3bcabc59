/**
 * Keeps rooms in step with the server: join and re-join with the resume
 * point, merge pushed messages, fill gaps, page in older history, and track
 * presence and typing.
 *
 * On socket transports the connection stays subscribed to every room in the
 * user's list (at most `LIMITS.roomsPerConnection`), so their messages are
 * counted as they arrive: a room the user has not opened is joined from the
 * `lastSeq` the list gave (nothing is replayed), one opened before resumes
 * from its own copy. Ajax polls only the open room.
 */
import { LIMITS, TIMING, type JoinOk, type Message, type User } from '../../../shared/protocol.ts';
import type { ChatStore } from './chat-store.ts';
import type { Link } from './link.ts';
import type { OutboxSender } from './outbox-sender.ts';
import { errorText } from './error-text.ts';
import { isChange } from './log-entries.ts';
import { applyAround, applyHistory, applyJoin, applyLive, applyNewer, backToLive, emptyRoom, newerAfter, olderBefore, type RoomState } from './room-log.ts';
import type { Timers } from './timers.ts';
import { TypingThrottle } from './typing-throttle.ts';

/** Page size for scrollback: large enough that a reader rarely waits. */
export const HISTORY_PAGE = 100;
/** Pause before retrying a join the server refused for a transient reason. */
export const JOIN_RETRY_MS = 2000;

/** What a person reads when a room cannot be opened: it is private, or it does not exist. */
export const ROOM_NOT_FOUND_TEXT = "This room is private or doesn't exist.";

export interface RoomSyncDeps {
  store: ChatStore;
  link: Link;
  outbox: OutboxSender;
  timers: Timers;
  now: () => number;
  /** Every join answer, the open room's and background ones (read positions, counts). */
  joined?: ((room: string, ack: JoinOk) => void) | undefined;
}

export class RoomSync {
  private readonly typingThrottle = new TypingThrottle();
  /** When a typing signal last went out per room, so "stopped typing" is sent only after one. */
  private readonly typingSent = new Map<string, number>();
  /** Rooms this connection is subscribed to (or joining). */
  private readonly subscribed = new Set<string>();
  /** Background joins still to do on this connection, in order: room and the seq to resume from. */
  private backlog: Array<{ room: string; lastSeq: number }> = [];
  private draining = false;

  constructor(private readonly deps: RoomSyncDeps) {}

  private room(name: string): RoomState | undefined {
    return this.deps.store.getSnapshot().rooms[name];
  }

  private onSockets(): boolean {
    const c = this.deps.store.getSnapshot().connection;
    return c.status === 'online' && c.transport !== 'ajax';
  }

  /** Shows `name`, joining it; on Ajax the previous room stops being polled. */
  open(name: string): void {
    const { store } = this.deps;
    const snap = store.getSnapshot();
    if (snap.activeRoom === name) return;
    const prev = snap.activeRoom;
    const live = this.deps.link();
    // Offline, a room held from before shows at once; otherwise the first join decides where the view opens.
    const held = snap.rooms[name]?.loaded ?? false;
    const member = snap.myRooms.loaded ? snap.myRooms.rooms.some((r) => r.room === name) : null;
    store.set({
      activeRoom: name,
      rooms: snap.rooms[name] ? snap.rooms : { ...snap.rooms, [name]: emptyRoom(name) },
      arrival: { room: name, lastRead: null, settled: !live && held, member },
    });
    if (prev !== null && live && !this.keepSubscribed(prev)) this.unsubscribe(prev);
    if (live) {
      this.makeRoom();
      void this.join(name);
    }
  }

  /** A room left behind stays subscribed on sockets while it is one of the user's rooms. */
  private keepSubscribed(room: string): boolean {
    return this.onSockets() && this.deps.store.getSnapshot().myRooms.rooms.some((r) => r.room === room);
  }

  /** Ends this connection's subscription to `room` (not the open room). */
  unsubscribe(room: string): void {
    const live = this.deps.link();
    if (this.deps.store.getSnapshot().activeRoom === room) return;
    this.backlog = this.backlog.filter((b) => b.room !== room);
    if (live && this.subscribed.delete(room)) void live.transport.request('leave', { room });
    this.deps.store.updateRoom(room, (r) => ({ ...r, status: 'idle', typing: [] }));
  }

  /** At the per-connection limit, the least recently active background room makes way for the open one. */
  private makeRoom(): void {
    if (this.subscribed.size < LIMITS.roomsPerConnection) return;
    const { myRooms, activeRoom } = this.deps.store.getSnapshot();
    const victim = [...myRooms.rooms].reverse().find((r) => r.room !== activeRoom && this.subscribed.has(r.room));
    if (victim) this.unsubscribe(victim.room);
  }

  /** After (re)connecting: re-join the open room from where it left off. */
  connected(): void {
    const active = this.deps.store.getSnapshot().activeRoom;
    if (active !== null) void this.join(active);
  }

  /**
   * Socket transports: subscribe to the user's rooms not yet joined, one at
   * a time (joins draw on a rate budget), each from the given seq, or from
   * its own copy's resume point if it was opened before.
   */
  subscribeAll(rooms: ReadonlyArray<{ room: string; lastSeq: number }>): void {
    if (!this.onSockets()) return;
    const queued = new Set(this.backlog.map((b) => b.room));
    const room = this.deps.store.getSnapshot().activeRoom;
    for (const r of rooms) {
      if (this.subscribed.size + this.backlog.length >= LIMITS.roomsPerConnection) break;
      if (r.room !== room && !this.subscribed.has(r.room) && !queued.has(r.room)) this.backlog.push(r);
    }
    void this.drainBacklog();
  }

  private async drainBacklog(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.backlog.shift(); next !== undefined; next = this.backlog.shift()) {
        if (this.subscribed.has(next.room)) continue;
        const retryAfter = await this.join(next.room, next.lastSeq);
        if (retryAfter !== null) {
          this.backlog.unshift(next);
          this.deps.timers.set('subscribe', retryAfter, () => void this.drainBacklog());
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * The server's log for `name` was reset (new epoch): join again; the answer
   * says `recovered: false` and the room reloads its recent history.
   */
  reload(name: string): void {
    if (this.subscribed.has(name) || this.deps.store.getSnapshot().activeRoom === name) void this.join(name);
  }

  /** The connection is gone: rooms need a new join; typing indicators are stale. */
  disconnected(): void {
    const { store, timers } = this.deps;
    const snap = store.getSnapshot();
    const rooms: Record<string, RoomState> = {};
    for (const [name, r] of Object.entries(snap.rooms)) rooms[name] = { ...r, status: 'idle', typing: [] };
    // A room opened while the connection was going shows what it holds.
    const arrival = snap.arrival && !snap.arrival.settled ? { ...snap.arrival, settled: true } : snap.arrival;
    store.set({ rooms, arrival });
    this.subscribed.clear();
    this.backlog = [];
    this.typingSent.clear();
    timers.clear('subscribe');
    timers.clearPrefix('join:');
    timers.clearPrefix('typing:');
  }

  /**
   * Joins `name`: the open room from its own resume point, a background room
   * (`since` given) from there unless this tab holds a copy. Resolves with a
   * pause to wait before joining more rooms (rate limited), else null.
   */
  private async join(name: string, since?: number): Promise<number | null> {
    const { store, timers, link, outbox } = this.deps;
    const live = link();
    const room = this.room(name);
    const background = since !== undefined;
    if (!live || (!room && !background)) return null;
    timers.clear(`join:${name}`);
    this.subscribed.add(name);
    if (room) store.updateRoom(name, (r) => ({ ...r, status: 'joining' }));
    const resume = room && room.epoch !== null ? { since: room.lastSeq, epoch: room.epoch } : background ? { since } : {};
    const res = await live.transport.request('join', { room: name, ...resume });
    if (link()?.transport !== live.transport) return null;
    const active = store.getSnapshot().activeRoom === name;
    if (res.ok && !active && !background && !this.onSockets()) {
      // Ajax: the user moved on while this room's first read was on its way; stop polling it.
      this.subscribed.delete(name);
      void live.transport.request('leave', { room: name });
      return null;
    }
    if (res.ok) {
      outbox.settle(res.messages);
      if (this.room(name)) store.updateRoom(name, (r) => applyJoin(r, res));
      this.deps.joined?.(name, res);
      if (active) this.settle(name, res.lastRead);
      return null;
    }
    this.subscribed.delete(name);
    const retry = res.error.code === 'unavailable' || res.error.code === 'rate_limited';
    const error = res.error.code === 'not_found' ? ROOM_NOT_FOUND_TEXT : errorText(res.error);
    store.updateRoom(name, (r) => ({ ...r, status: 'error', error: active ? error : r.error }));
    if (active) this.settle(name, undefined);
    const pause = Math.max(JOIN_RETRY_MS, res.error.retryAfterMs ?? 0);
    if (retry && active) timers.set(`join:${name}`, pause, () => void this.join(name));
    return retry && background ? pause : null;
  }

  /**
   * The open room's first join of this visit answered: the view can place
   * its "New" divider. A room the user was not in before (a first visit)
   * has no news to point at, only its latest messages: no divider.
   */
  private settle(name: string, lastRead: number | undefined): void {
    const { store } = this.deps;
    const { arrival, myRooms } = store.getSnapshot();
    if (arrival?.room !== name || arrival.lastRead !== null) return;
    // Ajax joins are REST reads without a read position: the list's is the same.
    const known = lastRead ?? myRooms.rooms.find((r) => r.room === name)?.counts.lastRead ?? null;
    // Opened before the list was known (a page load): having read something there means having been there.
    const member = arrival.member ?? (known !== null && known > 0);
    store.set({ arrival: { ...arrival, lastRead: member ? known : null, settled: true } });
  }

  /** Pushed messages: merge, settle our queued copies, and re-join if a seq is missing. */
  receiveMessages(name: string, messages: readonly Message[]): void {
    this.deps.outbox.settle(messages);
    const room = this.room(name);
    if (!room) return;
    const { room: next, gap } = applyLive(room, messages);
    this.deps.store.updateRoom(name, () => next);
    if (gap && next.status === 'joined' && this.subscribed.has(name)) void this.join(name);
  }

  receivePresence(name: string, members: readonly User[]): void {
    this.deps.store.updateRoom(name, (r) => ({ ...r, members }));
  }

  /** Who is typing; this user is left out by id (another user may share the name). */
  receiveTyping(name: string, typing: readonly User[]): void {
    const { store, timers } = this.deps;
    const own = store.getSnapshot().session?.userId;
    store.updateRoom(name, (r) => ({ ...r, typing: typing.filter((u) => u.userId !== own) }));
    // A typing indicator disappears if the server does not refresh it within its TTL.
    timers.set(`typing:${name}`, TIMING.typingTtlMs, () => store.updateRoom(name, (r) => ({ ...r, typing: [] })));
  }

  /** Loads the page before the oldest message held (scrollback). */
  async loadOlder(name: string): Promise<void> {
    const live = this.deps.link();
    const room = this.room(name);
    const before = room ? olderBefore(room) : null;
    if (!live || !room || before === null || room.olderState === 'loading') return;
    this.deps.store.updateRoom(name, (r) => ({ ...r, olderState: 'loading' }));
    const res = await live.transport.request('history', { room: name, before, limit: HISTORY_PAGE });
    this.deps.store.updateRoom(name, (r) => {
      // The list was replaced meanwhile: this page no longer joins onto it.
      if (r.generation !== room.generation || !res.ok) return { ...r, olderState: 'idle' };
      return applyHistory(r, res);
    });
  }

  /**
   * Shows the page around message `seq` (a search result far back): true
   * once it is held. A page that does not hold it (the message is gone)
   * leaves the view as it was.
   */
  async loadAround(name: string, seq: number): Promise<boolean> {
    const live = this.deps.link();
    const room = this.room(name);
    if (!live || !room?.loaded) return false;
    const res = await live.transport.request('history', { room: name, around: seq, limit: HISTORY_PAGE });
    if (!res.ok || !res.messages.some((m) => m.seq === seq && !isChange(m))) return false;
    let shown = false;
    this.deps.store.updateRoom(name, (r) => {
      // A page read across a reset log (or before a re-join replaced the list) would mix two copies.
      if (r.generation !== room.generation || r.epoch !== room.epoch) return r;
      shown = true;
      return applyAround(r, res, seq);
    });
    return shown;
  }

  /** Loads the page after an older stretch on show (scrolling down toward the live tail). */
  async loadNewer(name: string): Promise<void> {
    const live = this.deps.link();
    const room = this.room(name);
    const after = room ? newerAfter(room) : null;
    if (!live || !room || after === null) return;
    const loading = (r: RoomState, state: 'idle' | 'loading'): RoomState => (r.detached ? { ...r, detached: { ...r.detached, newerState: state } } : r);
    this.deps.store.updateRoom(name, (r) => loading(r, 'loading'));
    const res = await live.transport.request('history', { room: name, after, limit: HISTORY_PAGE });
    this.deps.store.updateRoom(name, (r) => {
      if (r.generation !== room.generation || r.epoch !== room.epoch || !res.ok) return loading(r, 'idle');
      return applyNewer(r, res);
    });
  }

  /** Leaves an older stretch for the room's live tail. */
  backToLive(name: string): void {
    this.deps.store.updateRoom(name, backToLive);
  }

  /** Call on each keystroke; signals at most once per interval. */
  notifyTyping(name: string): void {
    const live = this.deps.link();
    if (live && this.typingThrottle.shouldSend(name, this.deps.now())) {
      this.typingSent.set(name, this.deps.now());
      void live.transport.request('typing', { room: name });
    }
  }

  /**
   * The composer was emptied: others stop seeing "is typing" at once rather
   * than when the signal runs out. Sent only if a signal is still running.
   */
  stopTyping(name: string): void {
    const live = this.deps.link();
    const since = this.typingSent.get(name);
    this.typingThrottle.reset(name);
    this.typingSent.delete(name);
    if (live && since !== undefined && this.deps.now() - since < TIMING.typingTtlMs) {
      void live.transport.request('typing', { room: name, stop: true });
    }
  }

  /** After sending, the next keystroke may signal again at once. */
  resetTyping(name: string): void {
    this.typingThrottle.reset(name);
    this.typingSent.delete(name);
  }
}
