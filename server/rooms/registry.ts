import { fail } from '../../shared/protocol.ts';
import type { Fiber } from '../fiber/index.ts';
import type { Store } from '../store/store.ts';
import { BUSY_RETRY_MS, Room, type RoomOptions } from './room.ts';
import type { Broadcaster, FailureKind, RoomCommand, Subscriber } from './types.ts';

export interface RegistryOptions extends RoomOptions {
  /** Most rooms alive at once; past it new rooms answer `unavailable`. */
  maxRooms: number;
}

export interface RegistryEvents {
  /** A room fiber crashed (it is made anew on next use). */
  roomFailed?(room: string, error: unknown): void;
  /** A store call failed inside a room; its clients were answered `unavailable`. */
  failed?(room: string, kind: FailureKind, error: unknown): void;
  committed?(room: string, count: number): void;
}

/**
 * Creates room fibers on first use, hands commands to them, and forgets them
 * when they retire. All room fibers live under one supervisor fiber: a room
 * that crashes is reported and replaced on next use, never taking the server
 * down; cancelling the supervisor drains every room into the store.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly supervisor: Fiber<void>;
  private readonly opts: RegistryOptions;

  constructor(
    parent: Fiber<unknown>,
    private readonly store: Store,
    private readonly broadcaster: Broadcaster,
    opts: RegistryOptions,
    private readonly events: RegistryEvents = {},
  ) {
    this.opts = opts;
    this.supervisor = parent.spawn('rooms', (f) => f.untilCancelled(), {
      onChildError: (error, child) => this.events.roomFailed?.(child.name, error),
    });
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

  /**
   * Hands a command to its room's fiber, creating the room when needed. A
   * command that cannot be queued is answered `unavailable` with a retry hint:
   * a busy room pushes back rather than growing without bound.
   */
  dispatch(name: string, cmd: RoomCommand): void {
    const room = this.room(name);
    if (room?.offer(cmd)) return;
    if ('reply' in cmd && cmd.reply) {
      const why = room ? `room ${name} is busy, retry` : 'server is at its room limit, retry';
      cmd.reply(fail('unavailable', why, BUSY_RETRY_MS));
    }
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

  private room(name: string): Room | undefined {
    const live = this.rooms.get(name);
    if (live && !live.isRetired) return live;
    if (this.rooms.size >= this.opts.maxRooms || this.supervisor.state !== 'running') return undefined;
    const room = new Room(
      name,
      this.supervisor,
      this.store,
      this.broadcaster,
      {
        retired: (r) => {
          if (this.rooms.get(r.name) === r) this.rooms.delete(r.name);
        },
        committed: (r, n) => this.events.committed?.(r.name, n),
        failed: (r, kind, err) => this.events.failed?.(r.name, kind, err),
      },
      this.opts,
    );
    this.rooms.set(name, room);
    return room;
  }
}
