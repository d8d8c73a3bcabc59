import { TIMING, fail, type Ack, type Message } from '../../shared/protocol.ts';
import type { Fiber } from '../fiber/index.ts';
import type { Bus } from '../cluster/bus.ts';
import { logOf, type RoomLog, type Store } from '../store/store.ts';
import { pageAt, type PageRange } from './pages.ts';
import { BUSY_RETRY_MS, Room, type RoomOptions } from './room.ts';
import type { TailCache } from './tail-cache.ts';
import type { Frame } from './frame.ts';
import type { FailureKind, RoomCommand, Subscriber } from './types.ts';

export interface RegistryOptions extends RoomOptions {
  /** Most rooms alive at once; past it new rooms answer `unavailable`. */
  maxRooms: number;
  /** Live rooms one identity may have started (see `Starter`). */
  maxRoomsPerIdentity: number;
  /** Live rooms one client address may have started, all its identities together. */
  maxRoomsPerAddress: number;
  /** Other nodes: the bus their hints, presence and typing travel on (absent on a single process). */
  bus?: Bus | undefined;
  /** In a cluster, how often every live room's log end is checked in the store (the backstop for lost hints). */
  storeCheckMs?: number;
  /** The process's cache of live rooms' latest entries (absent: pages are read from the store). */
  tailCache?: TailCache | undefined;
}

/**
 * Who caused a room fiber to start. Each live room counts against the
 * identity and the address that started it until it retires, so no one
 * client can fill the room table (`MAX_ROOMS`) and lock everyone else out of
 * opening a room.
 */
export interface Starter {
  userId: string;
  address: string;
}

export interface RegistryEvents {
  /** A room fiber crashed (it is made anew on next use). */
  roomFailed?(room: string, error: unknown): void;
  /** A store call failed inside a room; its clients were answered `unavailable`. */
  failed?(room: string, kind: FailureKind, error: unknown): void;
  committed?(room: string, count: number): void;
  /** A room sent one event to `subscribers` connections on this node. */
  broadcast?(room: string, frame: Frame, subscribers: number): void;
  /** A room was not started because its starter had too many live rooms. */
  startRefused?(room: string): void;
}

/**
 * Creates room fibers on first use, hands commands to them, and forgets them
 * when they retire. All room fibers live under one supervisor fiber: a room
 * that crashes is reported and replaced on next use, never taking the server
 * down; cancelling the supervisor drains every room into the store.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  /** `u:<userId>` / `a:<address>` → live rooms that identity or address started. */
  private readonly started = new Map<string, number>();
  private readonly supervisor: Fiber<void>;
  private readonly opts: RegistryOptions;

  constructor(
    parent: Fiber<unknown>,
    private readonly store: Store,
    opts: RegistryOptions,
    private readonly events: RegistryEvents = {},
  ) {
    this.opts = opts;
    this.supervisor = parent.spawn('rooms', (f) => f.untilCancelled(), {
      onChildError: (error, child) => this.events.roomFailed?.(child.name, error),
    });
    if (opts.bus) {
      const timer = setInterval(() => void this.checkStore(), opts.storeCheckMs ?? 1000);
      timer.unref();
      this.supervisor.defer(() => clearInterval(timer));
    }
  }

  private checking = false;

  /**
   * The backstop of the cluster: the bus may drop or delay a hint, so every
   * live room's log end is read from the store (one query for all of them)
   * and a room behind it is told to catch up. Delivery to this node's
   * subscribers therefore lags another node's commit by at most one check.
   */
  private async checkStore(): Promise<void> {
    if (this.checking || this.rooms.size === 0) return;
    this.checking = true;
    try {
      const logs = await this.store.roomLogs([...this.rooms.keys()]);
      for (const [name, log] of logs) {
        const room = this.live(name);
        if (room && log.lastSeq > room.delivered) room.offer({ kind: 'hint', last: log.lastSeq, epoch: log.epoch });
      }
    } catch (err) {
      this.events.failed?.('*', 'catch_up', err);
    } finally {
      this.checking = false;
    }
  }

  get size(): number {
    return this.rooms.size;
  }

  /** Mailbox depth of every live room (metrics). */
  queued(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.queued;
    return n;
  }

  /** Commands waiting in the fullest one room mailbox (metrics). */
  deepest(): number {
    let n = 0;
    for (const r of this.rooms.values()) n = Math.max(n, r.queued);
    return n;
  }

  /** Every live room's subscribers and mailbox depth (the operations page reads them once a second). */
  *roomStats(): IterableIterator<{ name: string; subscribers: number; queued: number }> {
    for (const r of this.rooms.values()) yield { name: r.name, subscribers: r.subscriberCount, queued: r.queued };
  }

  /**
   * Hands a command to its room's fiber, creating the room when needed. A
   * command that cannot be queued is answered `unavailable` with a retry hint:
   * a busy room pushes back rather than growing without bound.
   *
   * What needs no room state starts no fiber: scrollback of a room that is not
   * live is read from the store directly (a room that never stored a message
   * answers an empty page and leaves nothing behind), a typing signal or a
   * summary for a room that is not live is refused, and a leave is done. A
   * new fiber is charged to `starter`.
   */
  dispatch(name: string, cmd: RoomCommand, starter?: Starter): void {
    const live = this.live(name);
    if (live) {
      if (!live.offer(cmd)) answer(cmd, fail('unavailable', `room ${name} is busy, retry`, BUSY_RETRY_MS));
      return;
    }
    switch (cmd.kind) {
      case 'history':
        return void this.readDirect(name, cmd.range, cmd.limit, cmd.viewer, (messages) => cmd.reply({ ok: true, messages }), cmd.reply);
      case 'page':
        if (cmd.before !== undefined && !cmd.poller) {
          const { before, limit, viewer, reply } = cmd;
          return void this.readDirect(name, { before }, limit, viewer, (messages, log) => reply({ ok: true, ...this.idlePage(name, log), messages }), reply);
        }
        break;
      case 'typing':
        return answer(cmd, fail('not_found', `join room ${name} before typing in it`));
      case 'info':
        return answer(cmd, fail('not_found', `not in room ${name}`));
      case 'leave':
        return answer(cmd, { ok: true });
      case 'tick':
      case 'hint':
      case 'peer':
      case 'kick':
        return;
    }
    const refused = this.startRefusal(starter);
    if (refused) {
      this.events.startRefused?.(name);
      return answer(cmd, refused);
    }
    const room = this.create(name, starter);
    if (!room?.offer(cmd)) answer(cmd, fail('unavailable', room ? `room ${name} is busy, retry` : 'server is at its room limit, retry', BUSY_RETRY_MS));
  }

  /**
   * A user lost access to a room: their subscriptions end now, on this node
   * and (through the bus) on every other.
   */
  kick(name: string, userId: string): void {
    void this.live(name)?.offerEventually({ kind: 'kick', userId });
    const bus = this.opts.bus;
    bus?.publish(name, { type: 'kick', node: bus.node, userId });
  }

  /** People present in a room (0 when no fiber serves it here). */
  present(name: string): number {
    return this.live(name)?.present ?? 0;
  }

  /** Rooms started by this identity and by this address that are still live. */
  startedBy(starter: Starter): { identity: number; address: number } {
    return { identity: this.started.get(`u:${starter.userId}`) ?? 0, address: this.started.get(`a:${starter.address}`) ?? 0 };
  }

  /**
   * Removes a dropped connection from its rooms (presence keeps the user for a
   * grace period); never refused for lack of room in a mailbox.
   */
  async leaveAll(sub: Subscriber, names: Iterable<string>): Promise<void> {
    await Promise.all(
      [...names].map((name) => this.rooms.get(name)?.offerEventually({ kind: 'leave', sub, disconnected: true })),
    );
  }

  /** Cancels every room fiber; each serves what it had queued before it ends. */
  async shutdown(): Promise<void> {
    await this.supervisor.cancel('shutdown');
  }

  private live(name: string): Room | undefined {
    const room = this.rooms.get(name);
    return room && !room.isRetired ? room : undefined;
  }

  private startRefusal(starter: Starter | undefined) {
    if (!starter) return undefined;
    const n = this.startedBy(starter);
    if (n.identity < this.opts.maxRoomsPerIdentity && n.address < this.opts.maxRoomsPerAddress) return undefined;
    // A room that only served reads retires readIdleMs after its last reader's poll lease ends: the soonest a slot frees up.
    return fail('rate_limited', 'too many rooms opened at once; close some and retry', TIMING.pollLeaseMs + this.opts.readIdleMs);
  }

  private create(name: string, starter: Starter | undefined): Room | undefined {
    if (this.rooms.size >= this.opts.maxRooms || this.supervisor.state !== 'running') return undefined;
    const keys = starter ? [`u:${starter.userId}`, `a:${starter.address}`] : [];
    for (const k of keys) this.started.set(k, (this.started.get(k) ?? 0) + 1);
    const room = new Room(
      name,
      this.supervisor,
      this.store,
      {
        retired: (r) => {
          if (this.rooms.get(r.name) !== r) return;
          this.rooms.delete(r.name);
          for (const k of keys) {
            const left = (this.started.get(k) ?? 1) - 1;
            if (left > 0) this.started.set(k, left);
            else this.started.delete(k);
          }
        },
        committed: (r, n) => this.events.committed?.(r.name, n),
        broadcast: (r, frame, n) => this.events.broadcast?.(r.name, frame, n),
        failed: (r, kind, err) => this.events.failed?.(r.name, kind, err),
        ...(this.opts.bus ? { bus: this.opts.bus } : {}),
        ...(this.opts.tailCache ? { tail: this.opts.tailCache } : {}),
      },
      this.opts,
    );
    this.rooms.set(name, room);
    return room;
  }

  /** Scrollback of a room that is not live, straight from the store; `viewer`'s reactions count as `mine`, as in a live room. */
  private async readDirect<T>(
    name: string,
    range: PageRange,
    limit: number,
    viewer: string | undefined,
    done: (messages: Message[], log: RoomLog) => void,
    reply: (ack: Ack<T>) => void,
  ): Promise<void> {
    let messages: Message[];
    let log: RoomLog;
    try {
      log = await logOf(this.store, name);
      messages = log.lastSeq > 0 ? await pageAt(this.store, name, range, limit, viewer) : [];
    } catch (err) {
      this.events.failed?.(name, 'read', err);
      reply(fail('unavailable', 'storage is unavailable, retry', BUSY_RETRY_MS));
      return;
    }
    done(messages, log);
  }

  /**
   * The fields of a REST page from a room without a live fiber: nobody is
   * present or typing; a room that never stored a message has no epoch yet.
   */
  private idlePage(name: string, log: RoomLog) {
    return { room: name, epoch: log.epoch, lastSeq: log.lastSeq, members: [], users: [], typing: [], typingUsers: [], recovered: true };
  }
}

function answer(cmd: RoomCommand, ack: Ack<never> | { ok: true }): void {
  if ('reply' in cmd && cmd.reply) (cmd.reply as (a: typeof ack) => void)(ack);
}
