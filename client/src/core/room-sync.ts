/**
 * Keeps the open room in step with the server: join and re-join with the
 * resume point, merge pushed messages, fill gaps, page in older history,
 * and track presence and typing.
 */
import { TIMING, type Message, type User } from '../../../shared/protocol.ts';
import type { ChatStore } from './chat-store.ts';
import type { Link } from './link.ts';
import type { OutboxSender } from './outbox-sender.ts';
import { errorText } from './error-text.ts';
import { applyHistory, applyJoin, applyLive, emptyRoom, hasOlder, type RoomState } from './room-log.ts';
import type { Timers } from './timers.ts';
import { TypingThrottle } from './typing-throttle.ts';

/** Page size for scrollback: large enough that a reader rarely waits. */
export const HISTORY_PAGE = 100;
/** Pause before retrying a join the server refused for a transient reason. */
export const JOIN_RETRY_MS = 2000;

export interface RoomSyncDeps {
  store: ChatStore;
  link: Link;
  outbox: OutboxSender;
  timers: Timers;
  now: () => number;
}

export class RoomSync {
  private readonly typingThrottle = new TypingThrottle();

  constructor(private readonly deps: RoomSyncDeps) {}

  private room(name: string): RoomState | undefined {
    return this.deps.store.getSnapshot().rooms[name];
  }

  /** Shows `name`, joining it and leaving the previous room. */
  open(name: string): void {
    const { store } = this.deps;
    const snap = store.getSnapshot();
    if (snap.activeRoom === name) return;
    const prev = snap.activeRoom;
    store.set({ activeRoom: name, rooms: snap.rooms[name] ? snap.rooms : { ...snap.rooms, [name]: emptyRoom(name) } });
    const live = this.deps.link();
    if (prev !== null && live) {
      void live.transport.request('leave', { room: prev });
      store.updateRoom(prev, (r) => ({ ...r, status: 'idle', typing: [] }));
    }
    if (live) void this.join(name);
  }

  /** After (re)connecting: re-join the open room from where it left off. */
  connected(): void {
    const active = this.deps.store.getSnapshot().activeRoom;
    if (active !== null) void this.join(active);
  }

  /**
   * The server's log for `name` was reset (new epoch): join again; the answer
   * says `recovered: false` and the room reloads its recent history.
   */
  reload(name: string): void {
    if (this.deps.store.getSnapshot().activeRoom === name) void this.join(name);
  }

  /** The connection is gone: rooms need a new join; typing indicators are stale. */
  disconnected(): void {
    const { store, timers } = this.deps;
    const rooms: Record<string, RoomState> = {};
    for (const [name, r] of Object.entries(store.getSnapshot().rooms)) rooms[name] = { ...r, status: 'idle', typing: [] };
    store.set({ rooms });
    timers.clearPrefix('join:');
    timers.clearPrefix('typing:');
  }

  private async join(name: string): Promise<void> {
    const { store, timers, link, outbox } = this.deps;
    const live = link();
    const room = this.room(name);
    if (!live || !room) return;
    timers.clear(`join:${name}`);
    store.updateRoom(name, (r) => ({ ...r, status: 'joining' }));
    const resume = room.epoch !== null ? { since: room.lastSeq, epoch: room.epoch } : {};
    const res = await live.transport.request('join', { room: name, ...resume });
    if (link()?.transport !== live.transport || store.getSnapshot().activeRoom !== name) return;
    if (res.ok) {
      outbox.settle(res.messages);
      store.updateRoom(name, (r) => applyJoin(r, res));
      return;
    }
    store.updateRoom(name, (r) => ({ ...r, status: 'error', error: errorText(res.error) }));
    if (res.error.code === 'unavailable' || res.error.code === 'rate_limited') {
      timers.set(`join:${name}`, Math.max(JOIN_RETRY_MS, res.error.retryAfterMs ?? 0), () => void this.join(name));
    }
  }

  /** Pushed messages: merge, settle our queued copies, and re-join if a seq is missing. */
  receiveMessages(name: string, messages: readonly Message[]): void {
    this.deps.outbox.settle(messages);
    const room = this.room(name);
    if (!room) return;
    const { room: next, gap } = applyLive(room, messages);
    this.deps.store.updateRoom(name, () => next);
    if (gap && next.status === 'joined' && this.deps.store.getSnapshot().activeRoom === name) void this.join(name);
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
    const first = room?.messages[0];
    if (!live || !room || !first || !hasOlder(room) || room.olderState === 'loading') return;
    this.deps.store.updateRoom(name, (r) => ({ ...r, olderState: 'loading' }));
    const res = await live.transport.request('history', { room: name, before: first.seq, limit: HISTORY_PAGE });
    this.deps.store.updateRoom(name, (r) => {
      // The list was replaced meanwhile: this page no longer joins onto it.
      if (r.generation !== room.generation || !res.ok) return { ...r, olderState: 'idle' };
      return applyHistory(r, res);
    });
  }

  /** Call on each keystroke; signals at most once per interval. */
  notifyTyping(name: string): void {
    const live = this.deps.link();
    if (live && this.typingThrottle.shouldSend(name, this.deps.now())) void live.transport.request('typing', { room: name });
  }

  /** After sending, the next keystroke may signal again at once. */
  resetTyping(name: string): void {
    this.typingThrottle.reset(name);
  }
}
