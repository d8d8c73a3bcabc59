import { randomUUID } from 'node:crypto';
import { LIMITS, fail, type JoinOk, type Message } from '../../shared/protocol.ts';
import type { Fiber} from '../fiber/index.ts';
import { Mailbox } from '../fiber/index.ts';
import type { Store } from '../store/store.ts';
import type { Broadcaster, Identity, Reply, RoomCommand, Subscriber } from './types.ts';

export interface RoomOptions {
  /** Commands a room may queue before answering `unavailable` (back-pressure). */
  mailboxCapacity: number;
  /** Most commands one turn drains; bounds a turn's latency and transaction size. */
  maxTurn: number;
  /** How long a room with no subscribers and no traffic lives before it retires. */
  idleMs: number;
  /** Retry hint sent with `unavailable` when the mailbox is full. */
  busyRetryMs: number;
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
  mailboxCapacity: 2048,
  maxTurn: 512,
  idleMs: 60_000,
  busyRetryMs: 250,
};

/** What the room tells its owner (the registry) about its life. */
export interface RoomHooks {
  /** The room stopped accepting commands; a new one may be created for its name. */
  retired(room: Room): void;
  /** One turn committed `count` messages (metrics). */
  committed?(room: Room, count: number): void;
  now?(): number;
}

type PendingSend = Extract<RoomCommand, { kind: 'send' }>;

/**
 * One chat room's fiber. Everything about the room (seq, members, the
 * subscription set) is touched only by this fiber, so commands need no locks
 * and the room has a total order for free.
 *
 * A turn drains everything queued. Consecutive sends are committed in one
 * store transaction; only after the commit are their senders acked and the
 * batch broadcast, as one `messages` packet encoded once for all subscribers.
 * A join is served between turns of sends, so its history page plus the
 * subscription are one atomic step: no gap and no overlap with the live stream.
 */
export class Room {
  readonly name: string;
  readonly channel: string;
  private readonly mailbox: Mailbox<RoomCommand>;
  private readonly store: Store;
  private readonly broadcaster: Broadcaster;
  private readonly opts: RoomOptions;
  private readonly hooks: RoomHooks;
  private readonly subs = new Map<string, Subscriber>();
  /** userId → connections in this room; a user with two tabs is one member. */
  private readonly members = new Map<string, { name: string; connections: number }>();
  private epoch = '';
  private lastSeq = 0;
  private lastActivity = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private loaded = false;
  readonly fiber: Fiber<void>;

  constructor(name: string, parent: Fiber<unknown>, store: Store, broadcaster: Broadcaster, hooks: RoomHooks, opts: RoomOptions) {
    this.name = name;
    this.channel = `room:${name}`;
    this.store = store;
    this.broadcaster = broadcaster;
    this.hooks = hooks;
    this.opts = opts;
    this.mailbox = new Mailbox<RoomCommand>({ capacity: opts.mailboxCapacity, policy: 'reject' });
    this.fiber = parent.spawn(`room:${name}`, (f) => this.run(f));
    // Registered before the body starts, so it runs even if the fiber is
    // cancelled before its first step.
    this.fiber.defer(() => this.finish());
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  get queued(): number {
    return this.mailbox.size;
  }

  /**
   * Queues a command. False when the room cannot take it (mailbox full, or the
   * room retired): the caller answers `unavailable` or asks the registry again.
   */
  offer(cmd: RoomCommand): boolean {
    return this.mailbox.offer(cmd);
  }

  /** Queues a command that must not be refused for lack of room (a disconnect's leave). */
  async offerEventually(cmd: RoomCommand): Promise<boolean> {
    try {
      await this.mailbox.put(cmd);
      return true;
    } catch {
      return false;
    }
  }

  /** A retired room takes no more commands; the registry creates a new one for its name. */
  get isRetired(): boolean {
    return this.mailbox.closed;
  }

  private now(): number {
    return this.hooks.now?.() ?? Date.now();
  }

  private async run(fiber: Fiber<void>): Promise<void> {
    // First sync: commands arriving while the log loads wait in the mailbox;
    // nobody is served from a half-loaded room.
    await this.load();
    for (;;) {
      const first = await this.mailbox.take(fiber.signal);
      const turn = [first, ...this.mailbox.drain(this.opts.maxTurn - 1)];
      if (turn.length === 1 && first.kind === 'idle-check') {
        if (this.shouldRetire()) return;
        this.armIdleTimer();
        continue;
      }
      this.lastActivity = this.now();
      await this.serve(turn);
    }
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    const log = await this.store.openRoom(this.name);
    this.epoch = log.epoch;
    this.lastSeq = log.lastSeq;
    this.loaded = true;
    this.lastActivity = this.now();
    this.armIdleTimer();
  }

  /**
   * Runs when the fiber ends, however it ends (idle, shutdown, failure, or
   * cancelled before its body began): stop taking commands, then serve what
   * was queued, so everything accepted is committed or answered.
   */
  private async finish(): Promise<void> {
    this.mailbox.close();
    clearTimeout(this.idleTimer);
    this.hooks.retired(this);
    const rest = this.mailbox.drain();
    if (rest.length === 0) return;
    try {
      await this.load();
    } catch {
      for (const cmd of rest) reject(cmd, 'unavailable', 'room is unavailable, retry', this.opts.busyRetryMs);
      return;
    }
    await this.serve(rest);
  }

  private shouldRetire(): boolean {
    return this.subs.size === 0 && this.mailbox.size === 0 && this.now() - this.lastActivity >= this.opts.idleMs;
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.mailbox.closed) return;
    // One timer per room. It only enqueues a check: the decision is made by
    // the fiber, in order with every other command.
    this.idleTimer = setTimeout(() => this.mailbox.offer({ kind: 'idle-check' }), this.opts.idleMs);
    this.idleTimer.unref();
  }

  private async serve(cmds: RoomCommand[]): Promise<void> {
    let sends: PendingSend[] = [];
    for (const cmd of cmds) {
      if (cmd.kind === 'send') {
        sends.push(cmd);
        continue;
      }
      if (sends.length > 0) {
        await this.commit(sends);
        sends = [];
      }
      await this.handle(cmd);
    }
    if (sends.length > 0) await this.commit(sends);
  }

  private async handle(cmd: Exclude<RoomCommand, PendingSend>): Promise<void> {
    try {
      switch (cmd.kind) {
        case 'join':
          return await this.join(cmd.sub, cmd.since, cmd.epoch, cmd.reply);
        case 'leave':
          return this.leave(cmd.sub, cmd.reply);
        case 'history':
          cmd.reply({ ok: true, messages: await this.store.readBefore(this.name, cmd.before, cmd.limit) });
          return;
        case 'read': {
          const messages =
            cmd.before !== undefined
              ? await this.store.readBefore(this.name, cmd.before, cmd.limit)
              : cmd.after !== undefined
                ? await this.store.readAfter(this.name, cmd.after, cmd.limit)
                : await this.store.readBefore(this.name, this.lastSeq + 1, cmd.limit);
          cmd.reply({ ok: true, room: this.name, epoch: this.epoch, lastSeq: this.lastSeq, messages });
          return;
        }
        case 'idle-check':
          return; // mixed into a busy turn: the room is not idle
      }
    } catch {
      reject(cmd, 'unavailable', 'storage is unavailable, retry', this.opts.busyRetryMs);
    }
  }

  private async join(sub: Subscriber, since: number | undefined, epoch: string | undefined, reply: Reply<JoinOk>) {
    let messages: Message[];
    let recovered = true;
    const behind = since === undefined ? 0 : this.lastSeq - since;
    if (since !== undefined && (epoch === undefined || epoch === this.epoch) && behind >= 0 && behind <= LIMITS.replayMax) {
      messages = behind === 0 ? [] : await this.store.readAfter(this.name, since, behind);
    } else {
      // First join, or a resume we cannot replay exactly (another epoch, a
      // seq from the future, or too far behind): the latest page, flagged.
      recovered = since === undefined;
      messages = await this.store.readBefore(this.name, this.lastSeq + 1, LIMITS.joinPage);
    }
    const isNew = !this.subs.has(sub.id);
    if (isNew) {
      this.subs.set(sub.id, sub);
      sub.subscribe(this.channel);
    }
    const presenceChanged = isNew && this.addMember(sub.identity);
    reply({ ok: true, room: this.name, epoch: this.epoch, lastSeq: this.lastSeq, messages, members: this.memberNames(), recovered });
    if (presenceChanged) this.broadcastPresence();
  }

  private leave(sub: Subscriber, reply: Reply<object> | undefined): void {
    if (!this.subs.delete(sub.id)) {
      reply?.(fail('not_found', `not in room ${this.name}`));
      return;
    }
    sub.unsubscribe(this.channel);
    const changed = this.removeMember(sub.identity);
    reply?.({ ok: true });
    if (changed) this.broadcastPresence();
    if (this.subs.size === 0) this.armIdleTimer();
  }

  /**
   * Commits a run of sends as one transaction. Retries (same author and
   * clientId) are answered with the stored original and not stored again.
   */
  private async commit(sends: PendingSend[]): Promise<void> {
    let existing: Map<string, Message>;
    try {
      existing = await this.findExisting(sends);
    } catch {
      for (const s of sends) reject(s, 'unavailable', 'storage is unavailable, retry', this.opts.busyRetryMs);
      return;
    }
    const batch: Message[] = [];
    const acks: Array<() => void> = [];
    const ts = this.now();
    for (const s of sends) {
      const key = clientKey(s.author, s.clientId);
      const original = existing.get(key);
      if (original) {
        acks.push(() => s.reply({ ok: true, seq: original.seq, id: original.id, ts: original.ts, duplicate: true }));
        continue;
      }
      const m: Message = {
        room: this.name,
        seq: this.lastSeq + batch.length + 1,
        id: randomUUID(),
        clientId: s.clientId,
        author: s.author.name,
        authorId: s.author.userId,
        text: s.text,
        ts,
      };
      existing.set(key, m); // the same clientId twice in one turn is stored once
      batch.push(m);
      acks.push(() => s.reply({ ok: true, seq: m.seq, id: m.id, ts: m.ts }));
    }
    if (batch.length > 0) {
      try {
        await this.store.append(this.name, batch);
      } catch {
        // Nothing was committed: refuse every send of the run, so each client
        // retries with its clientId. An ok ack never precedes the commit.
        for (const s of sends) reject(s, 'unavailable', 'message not stored, retry', this.opts.busyRetryMs);
        return;
      }
      this.lastSeq += batch.length;
      this.hooks.committed?.(this, batch.length);
    }
    for (const ack of acks) ack();
    if (batch.length > 0) this.broadcaster.emit(this.channel, 'messages', { room: this.name, messages: batch });
  }

  private async findExisting(sends: PendingSend[]): Promise<Map<string, Message>> {
    const byAuthor = new Map<string, string[]>();
    for (const s of sends) {
      const ids = byAuthor.get(s.author.userId) ?? [];
      ids.push(s.clientId);
      byAuthor.set(s.author.userId, ids);
    }
    const found = new Map<string, Message>();
    for (const [authorId, clientIds] of byAuthor) {
      for (const m of await this.store.findByClientIds(this.name, authorId, clientIds)) {
        found.set(`${m.authorId}\u0000${m.clientId}`, m);
      }
    }
    return found;
  }

  private addMember(who: Identity): boolean {
    const m = this.members.get(who.userId);
    if (m) {
      m.connections++;
      return false;
    }
    this.members.set(who.userId, { name: who.name, connections: 1 });
    return true;
  }

  private removeMember(who: Identity): boolean {
    const m = this.members.get(who.userId);
    if (!m) return false;
    if (--m.connections > 0) return false;
    this.members.delete(who.userId);
    return true;
  }

  private memberNames(): string[] {
    return [...this.members.values()].map((m) => m.name).sort((a, b) => a.localeCompare(b));
  }

  private broadcastPresence(): void {
    this.broadcaster.emit(this.channel, 'presence', { room: this.name, members: this.memberNames() });
  }
}

function clientKey(author: Identity, clientId: string): string {
  return `${author.userId}\u0000${clientId}`;
}

function reject(cmd: RoomCommand, code: 'unavailable', message: string, retryAfterMs: number): void {
  if ('reply' in cmd && cmd.reply) cmd.reply(fail(code, message, retryAfterMs));
}
