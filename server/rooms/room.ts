import { randomUUID } from 'node:crypto';
import { LIMITS, fail, type JoinOk, type Message } from '../../shared/protocol.ts';
import type { Fiber} from '../fiber/index.ts';
import { Mailbox } from '../fiber/index.ts';
import type { Store } from '../store/store.ts';
import { Presence } from './presence.ts';
import type { Broadcaster, Identity, Reply, RoomCommand, Subscriber } from './types.ts';
import { TypingSet } from './typing.ts';

export interface RoomOptions {
  /** Commands a room may queue before answering `unavailable` (back-pressure). */
  mailboxCapacity: number;
  /** Most commands one turn drains; bounds a turn's latency and transaction size. */
  maxTurn: number;
  /** How long a room with no subscribers and no traffic lives before it retires. */
  idleMs: number;
  /** How long a dropped connection's user stays listed, so a reconnect does not flap presence. */
  presenceGraceMs: number;
  /** How long one Ajax poll keeps its user present (a few poll intervals). */
  pollLeaseMs: number;
  /** How long one typing signal lasts unless renewed (clients renew every ~2 s). */
  typingTtlMs: number;
  /** Retry hint sent with `unavailable` when the mailbox is full. */
  busyRetryMs: number;
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
  mailboxCapacity: 2048,
  maxTurn: 512,
  idleMs: 60_000,
  presenceGraceMs: 5_000,
  pollLeaseMs: 30_000,
  typingTtlMs: 6_000,
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
  private readonly presence = new Presence();
  private readonly typing: TypingSet;
  private epoch = '';
  private lastSeq = 0;
  private lastActivity = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private loaded = false;
  readonly fiber: Fiber<void>;

  constructor(name: string, parent: Fiber<unknown>, store: Store, broadcaster: Broadcaster, hooks: RoomHooks, opts: RoomOptions) {
    this.name = name;
    this.channel = `room:${name}`;
    this.store = store;
    this.broadcaster = broadcaster;
    this.hooks = hooks;
    this.opts = opts;
    this.typing = new TypingSet(opts.typingTtlMs);
    this.mailbox = new Mailbox<RoomCommand>({
      capacity: opts.mailboxCapacity,
      policy: 'reject',
      // A burst of typing signals from one connection occupies one slot.
      coalesceKey: (cmd) => (cmd.kind === 'typing' ? `typing:${cmd.sub.id}` : undefined),
    });
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
      if (turn.length === 1 && first.kind === 'tick') {
        this.expire();
        if (this.shouldRetire()) return;
      } else {
        this.lastActivity = this.now();
        await this.serve(turn);
      }
      this.schedule();
    }
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    const log = await this.store.openRoom(this.name);
    this.epoch = log.epoch;
    this.lastSeq = log.lastSeq;
    this.loaded = true;
    this.lastActivity = this.now();
    this.schedule();
  }

  /**
   * Runs when the fiber ends, however it ends (idle, shutdown, failure, or
   * cancelled before its body began): stop taking commands, then serve what
   * was queued, so everything accepted is committed or answered.
   */
  private async finish(): Promise<void> {
    this.mailbox.close();
    clearTimeout(this.timer);
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
    return this.idleDeadline() <= this.now() && this.mailbox.size === 0;
  }

  /** When the room may retire: never while anyone is subscribed or still listed. */
  private idleDeadline(): number {
    return this.subs.size === 0 && this.presence.isEmpty ? this.lastActivity + this.opts.idleMs : Infinity;
  }

  /**
   * One timer per room, armed for the earliest deadline (typing expiry,
   * presence grace or lease, retirement). It only enqueues a `tick`: every
   * decision is made by the fiber, in order with every other command.
   */
  private schedule(): void {
    const at = Math.min(this.typing.nextDeadline() ?? Infinity, this.presence.nextDeadline() ?? Infinity, this.idleDeadline());
    if (at === this.timerAt || this.mailbox.closed) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.mailbox.offer({ kind: 'tick' });
    }, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private expire(): void {
    const now = this.now();
    if (this.typing.expire(now)) this.broadcastTyping();
    if (this.presence.expire(now)) this.broadcastPresence();
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
          return this.leave(cmd.sub, cmd.disconnected === true, cmd.reply);
        case 'typing':
          return this.startTyping(cmd.sub, cmd.reply);
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
          if (cmd.poller && this.presence.add(`poll:${cmd.poller.userId}`, cmd.poller, this.now(), this.opts.pollLeaseMs)) {
            this.broadcastPresence();
          }
          const members = this.presence.names();
          const typing = this.typing.names();
          cmd.reply({ ok: true, room: this.name, epoch: this.epoch, lastSeq: this.lastSeq, messages, members, typing });
          return;
        }
        case 'tick':
          return this.expire(); // mixed into a busy turn
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
    const presenceChanged = isNew && this.presence.add(sub.id, sub.identity, this.now());
    reply({ ok: true, room: this.name, epoch: this.epoch, lastSeq: this.lastSeq, messages, members: this.presence.names(), recovered });
    if (presenceChanged) this.broadcastPresence();
  }

  private leave(sub: Subscriber, disconnected: boolean, reply: Reply<object> | undefined): void {
    if (!this.subs.delete(sub.id)) {
      reply?.(fail('not_found', `not in room ${this.name}`));
      return;
    }
    sub.unsubscribe(this.channel);
    // Cancel-on-disconnect: a connection that goes stops typing at once.
    if (this.typing.stop(sub.identity.userId)) this.broadcastTyping();
    const grace = disconnected ? this.opts.presenceGraceMs : 0;
    if (this.presence.remove(sub.id, sub.identity, this.now(), grace)) this.broadcastPresence();
    reply?.({ ok: true });
  }

  private startTyping(sub: Subscriber, reply: Reply<object> | undefined): void {
    if (!this.subs.has(sub.id)) {
      reply?.(fail('not_found', `join room ${this.name} before typing in it`));
      return;
    }
    if (this.typing.start(sub.identity, this.now())) this.broadcastTyping();
    reply?.({ ok: true });
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
    if (batch.length === 0) return;
    this.broadcaster.emit(this.channel, 'messages', { room: this.name, messages: batch });
    // A sent message ends its author's typing.
    let typingChanged = false;
    for (const m of batch) typingChanged = this.typing.stop(m.authorId) || typingChanged;
    if (typingChanged) this.broadcastTyping();
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

  private broadcastPresence(): void {
    this.broadcaster.emit(this.channel, 'presence', { room: this.name, members: this.presence.names() });
  }

  private broadcastTyping(): void {
    this.broadcaster.emit(this.channel, 'typing', { room: this.name, typing: this.typing.names() });
  }
}

function clientKey(author: Identity, clientId: string): string {
  return `${author.userId}\u0000${clientId}`;
}

function reject(cmd: RoomCommand, code: 'unavailable', message: string, retryAfterMs: number): void {
  if ('reply' in cmd && cmd.reply) cmd.reply(fail(code, message, retryAfterMs));
}
