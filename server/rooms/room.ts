import { randomUUID } from 'node:crypto';
import { LIMITS, TIMING, fail, type EventOf, type Message } from '../../shared/protocol.ts';
import type { Fiber } from '../fiber/index.ts';
import { Mailbox } from '../fiber/index.ts';
import type { Bus } from '../cluster/bus.ts';
import { logOf, type Draft, type Store } from '../store/store.ts';
import { Frame, type StreamEvent } from './frame.ts';
import { RoomGossip } from './gossip.ts';
import { pageAfter, pageAt, pageBefore, type PageSource } from './pages.ts';
import { resume, type Resume, type ResumeOptions } from './resume.ts';
import { Presence } from './presence.ts';
import type { RoomTail, TailCache } from './tail-cache.ts';
import type { EmptyOk, FailureKind, Identity, PeerNews, Reply, RoomCommand, Subscriber } from './types.ts';
import { TypingSet } from './typing.ts';

/** A room's tunables; their defaults and bounds are settings in server/config.ts. */
export interface RoomOptions {
  /** Commands a room may queue before answering `unavailable` (back-pressure). */
  mailboxCapacity: number;
  /** Most commands one turn drains; bounds a turn's latency and transaction size. */
  maxTurn: number;
  /** How long a room with no subscribers and no traffic lives before it retires. */
  idleMs: number;
  /** The same for a room that only served reads in its life (no join, no send): such rooms retire quickly. */
  readIdleMs: number;
  /** How long a dropped connection's user stays listed, so a reconnect does not flap presence. */
  presenceGraceMs: number;
}

/** Retry hint sent with `unavailable`: a full mailbox or a store hiccup clears within a few turns. */
export const BUSY_RETRY_MS = 250;

/** A catch-up reads the store in steps of at most this many messages (each a page in bytes too). */
const CATCH_UP_STEP = 1000;

/** What the room tells its owner (the registry) about its life. */
export interface RoomHooks {
  /** The room stopped accepting commands; a new one may be created for its name. */
  retired(room: Room): void;
  /** One turn committed `count` messages (metrics). */
  committed?(room: Room, count: number): void;
  /** One event went to `subscribers` connections of this node (metrics count the deliveries). */
  broadcast?(room: Room, frame: Frame, subscribers: number): void;
  /** The cluster's bus, when there are other nodes: hints, presence and typing go to them through it. */
  bus?: Bus;
  /** The process's cache of rooms' latest entries (absent: every page is read from the store). */
  tail?: TailCache;
  /** A store call failed; the clients concerned were answered `unavailable`. Logged and counted by the owner. */
  failed?(room: Room, kind: FailureKind, error: unknown): void;
  now?(): number;
}

type PendingSend = Extract<RoomCommand, { kind: 'send' }>;

/**
 * One chat room's fiber. Everything about the room (its delivered seq,
 * members, the subscription set) is touched only by this fiber, so commands
 * need no locks and the room has a total order for free.
 *
 * A turn drains everything queued. Consecutive sends are committed in one
 * store transaction, which assigns their seqs; only after the commit are
 * their senders acked and the batch broadcast, as one `messages` packet
 * encoded once for all subscribers. A join is served between runs of sends,
 * so its history page plus the subscription are one atomic step: no gap and
 * no overlap with the live stream.
 *
 * `lastSeq` is the highest seq this room has delivered to its subscribers.
 * The store is the source of order: when a commit's seqs do not follow
 * `lastSeq`, another writer committed meanwhile, and the room reads the
 * missing range back and delivers it first, so subscribers always see every
 * seq once and in order.
 */
export class Room {
  readonly name: string;
  private readonly mailbox: Mailbox<RoomCommand>;
  private readonly store: Store;
  private readonly opts: RoomOptions;
  private readonly hooks: RoomHooks;
  private readonly subs = new Map<string, Subscriber>();
  private readonly presence = new Presence();
  private readonly typing = new TypingSet(TIMING.typingTtlMs);
  /** The log's epoch; for a room that has stored nothing yet, the one its first commit will write. */
  private epoch = '';
  private lastSeq = 0;
  private lastActivity = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private loaded = false;
  /**
   * Whether `lastSeq` is known to be where the store's log ends: only then
   * may the tail answer a read. Lost after a failed commit or catch-up
   * (PostgreSQL may have stored what failed) until a commit succeeds; in a
   * cluster, also at each turn's start (another node may have committed),
   * until this turn's refresh or commit confirms it.
   */
  private inSync = false;
  /** Whether this turn asked the store where the log ends (at most once a turn). */
  private refreshTried = false;
  /** This room's tail in the process's cache. */
  private readonly tail: RoomTail | undefined;
  /** Whether this room's life saw a join or a send; a room that only served reads retires sooner. */
  private servedWrite = false;
  /** In a cluster: what this room says to and hears from the other nodes. */
  private readonly gossip: RoomGossip | undefined;
  readonly fiber: Fiber<void>;

  constructor(name: string, parent: Fiber<unknown>, store: Store, hooks: RoomHooks, opts: RoomOptions) {
    this.name = name;
    this.store = store;
    this.hooks = hooks;
    this.opts = opts;
    this.tail = hooks.tail?.open(name);
    this.mailbox = new Mailbox<RoomCommand>({
      capacity: opts.mailboxCapacity,
      policy: 'reject',
      // A burst of typing signals from one connection occupies one slot.
      coalesceKey: coalesceKey,
    });
    // Peer news goes through the mailbox like every command, so the fiber alone touches the room's state.
    this.gossip = hooks.bus && new RoomGossip(hooks.bus, name, () => this.now());
    this.gossip?.listen((cmd, mustArrive) => (mustArrive ? void this.offerEventually(cmd) : this.mailbox.offer(cmd)));
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
      // The room closed meanwhile: it has let go of every subscriber already.
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

  private failed(kind: FailureKind, error: unknown): void {
    this.hooks.failed?.(this, kind, error);
  }

  /** How many users are present (a directory listing reads it; a number, never the fiber's state). */
  get present(): number {
    return this.presence.size;
  }

  /** The highest seq this room has delivered to its subscribers. */
  get delivered(): number {
    return this.lastSeq;
  }

  private async run(fiber: Fiber<void>): Promise<void> {
    // First sync: commands arriving while the log loads wait in the mailbox;
    // nobody is served from a half-loaded room. A failed load fails the
    // fiber: the supervisor reports it and the room is made anew on next use.
    await this.load();
    // Peers answer a greeting with who is present and typing through them.
    this.gossip?.hello();
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
    const log = await logOf(this.store, this.name);
    this.epoch = log.epoch;
    this.lastSeq = log.lastSeq;
    this.inSync = true;
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
    // A new fiber may serve the room from now on; what is left here reads the store.
    this.tail?.close();
    clearTimeout(this.timer);
    this.gossip?.close();
    this.hooks.retired(this);
    const rest = this.mailbox.drain();
    if (rest.length === 0) return;
    try {
      await this.load();
    } catch (err) {
      this.failed('load', err);
      for (const cmd of rest) reject(cmd, 'room is unavailable, retry');
      return;
    }
    await this.serve(rest);
  }

  private shouldRetire(): boolean {
    return this.idleDeadline() <= this.now() && this.mailbox.size === 0;
  }

  /** When the room may retire: never while anyone is subscribed or still listed. */
  private idleDeadline(): number {
    if (this.subs.size > 0 || !this.presence.isEmpty) return Infinity;
    return this.lastActivity + (this.servedWrite ? this.opts.idleMs : this.opts.readIdleMs);
  }

  /**
   * One timer per room, armed for the earliest deadline (typing expiry,
   * presence grace or lease, retirement). It only enqueues a `tick`: every
   * decision is made by the fiber, in order with every other command.
   */
  private schedule(): void {
    const at = Math.min(
      this.typing.nextDeadline() ?? Infinity,
      this.presence.nextDeadline() ?? Infinity,
      this.idleDeadline(),
      this.gossip?.nextHeartbeat ?? Infinity,
    );
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
    if (this.gossip?.heartbeatDue(now)) this.tellPresence(true);
  }

  private async serve(cmds: RoomCommand[]): Promise<void> {
    let sends: PendingSend[] = [];
    // Another node may have committed since the last turn.
    if (this.gossip) this.inSync = false;
    this.refreshTried = false;
    for (const cmd of cmds) {
      if (cmd.kind === 'send') {
        sends.push(cmd);
        continue;
      }
      if (sends.length > 0) {
        await this.commit(sends);
        sends = [];
      }
      if (!this.refreshTried && (cmd.kind === 'join' || cmd.kind === 'page') && this.gossip) await this.refresh();
      await this.handle(cmd);
    }
    if (sends.length > 0) await this.commit(sends);
  }

  /**
   * In a cluster, before a join or a REST read answers: read where the log
   * ends and deliver what other nodes committed since the last hint. So an
   * answer reflects every commit acked before it was asked, on any node (a
   * send on one node is in the next poll on another, a resume on another
   * node gets exactly what was missed), whatever the bus delivered yet; a
   * hint or store check that comes later finds nothing left to do. One
   * primary-key read per turn that serves any; if it fails, the answer comes
   * from what this node has (the read that follows usually fails too).
   */
  private async refresh(): Promise<void> {
    this.refreshTried = true;
    let log;
    try {
      log = await this.store.roomLog(this.name);
    } catch (err) {
      this.failed('catch_up', err);
      return;
    }
    if (log) await this.catchUp(log.lastSeq, log.epoch, undefined);
    this.inSync = log ? this.lastSeq === log.lastSeq && this.epoch === log.epoch : this.lastSeq === 0;
  }

  /**
   * A page read, as `op` does it on a source: on the room's tail when it
   * answers exactly what the store would (tail-cache.ts), else on the store.
   * The tail answers only while this room's `lastSeq` is where the store's
   * log ends: in a cluster, once this turn has refreshed (a history page
   * refreshes for it); on one node, unless a commit or catch-up failed since
   * the last commit that succeeded.
   */
  private async read<T>(op: (source: PageSource) => Promise<T>): Promise<T> {
    const tail = this.tail;
    if (!tail) return op(this.store);
    if (!this.inSync && !this.refreshTried && this.gossip) await this.refresh();
    if (!this.inSync) return op(this.store);
    return tail.read(this.store, this.epoch, this.lastSeq, op);
  }

  private async handle(cmd: Exclude<RoomCommand, PendingSend>): Promise<void> {
    try {
      switch (cmd.kind) {
        case 'join':
          return await this.join(cmd);
        case 'leave':
          return this.leave(cmd.sub, cmd.disconnected === true, cmd.reply);
        case 'typing':
          return this.startTyping(cmd.who, cmd.sub, cmd.reply, cmd.stop === true);
        case 'history':
          cmd.reply({ ok: true, messages: await this.read((src) => pageAt(src, this.name, cmd.range, cmd.limit, cmd.viewer)) });
          return;
        case 'page':
          return await this.page(cmd);
        case 'info':
          cmd.reply({ ok: true, room: this.name, lastSeq: this.lastSeq, members: this.presence.size });
          return;
        case 'hint':
          return await this.catchUp(cmd.last, cmd.epoch, cmd.messages);
        case 'peer':
          return this.heard(cmd.news);
        case 'kick':
          return this.kick(cmd.userId);
        case 'tick':
          return this.expire(); // mixed into a busy turn
      }
    } catch (err) {
      if (err instanceof Reported) this.failed(err.kind, err.cause);
      else this.failed(cmd.kind === 'hint' ? 'catch_up' : 'read', err);
      reject(cmd, 'storage is unavailable, retry');
    }
  }

  /** The resume rule (resume.ts) on this room's log as it stands. */
  private resume(src: PageSource, since: number | undefined, epoch: string | undefined, opts: ResumeOptions): Promise<Resume> {
    return resume(src, { room: this.name, epoch: this.epoch, lastSeq: this.lastSeq }, since, epoch, opts);
  }

  /**
   * A join: the resume rule with the whole replay in one answer, the room in
   * the user's list, and presence: a subscriber's for as long as it stays,
   * an Ajax poller's for a poll lease its polls renew.
   */
  private async join(cmd: Extract<RoomCommand, { kind: 'join' }>) {
    const { sub, since, epoch, reply } = cmd;
    const identity = sub ? sub.identity : cmd.poller;
    const { messages, recovered } = await this.read((src) =>
      this.resume(src, since, epoch, {
        limit: LIMITS.replayMax,
        latest: LIMITS.joinPage,
        whole: true,
        viewer: identity.userId,
      }),
    );
    this.servedWrite = true;
    // The room goes in the user's list (a private room's members are there already), and the answer says how far they read.
    const lastRead = await labelled('membership', async () => {
      await this.store.addMember(this.name, { userId: identity.userId, name: identity.name }, 'member');
      return this.store.lastRead(this.name, identity.userId);
    });
    let presenceChanged: boolean;
    if (sub) {
      const isNew = !this.subs.has(sub.id);
      if (isNew) this.subs.set(sub.id, sub);
      presenceChanged = isNew && this.presence.add(sub.id, identity, this.now());
    } else {
      presenceChanged = this.presence.add(pollerId(identity), identity, this.now(), TIMING.pollLeaseMs);
    }
    reply({
      ok: true,
      room: this.name,
      epoch: this.epoch,
      lastSeq: this.lastSeq,
      messages,
      members: this.presence.names(),
      users: this.presence.users(),
      recovered,
      lastRead,
    });
    if (presenceChanged) this.broadcastPresence();
  }

  private async page(cmd: Extract<RoomCommand, { kind: 'page' }>): Promise<void> {
    const { before } = cmd;
    const resumed: Resume = await this.read(async (src) =>
      before !== undefined
        ? { messages: await pageBefore(src, this.name, before, cmd.limit, cmd.viewer), recovered: true }
        : await this.resume(src, cmd.after, cmd.epoch, { limit: cmd.limit, latest: cmd.limit, whole: false, viewer: cmd.viewer }),
    );
    // The latest page is how an Ajax client joins: the room goes in its list, as for a socket join.
    if (cmd.poller && cmd.after === undefined && cmd.before === undefined) {
      const poller = cmd.poller;
      await labelled('membership', () => this.store.addMember(this.name, { userId: poller.userId, name: poller.name }, 'member'));
    }
    if (cmd.poller && this.presence.add(pollerId(cmd.poller), cmd.poller, this.now(), TIMING.pollLeaseMs)) {
      this.broadcastPresence();
    }
    cmd.reply({
      ok: true,
      room: this.name,
      epoch: this.epoch,
      lastSeq: this.lastSeq,
      messages: resumed.messages,
      members: this.presence.names(),
      users: this.presence.users(),
      typing: this.typing.names(),
      typingUsers: this.typing.users(),
      recovered: resumed.recovered,
    });
  }

  private leave(sub: Subscriber, disconnected: boolean, reply: Reply<EmptyOk> | undefined): void {
    if (!this.subs.delete(sub.id)) {
      reply?.(fail('not_found', `not in room ${this.name}`));
      return;
    }
    // Cancel-on-disconnect: a connection that goes stops typing at once.
    if (this.typing.stop(sub.identity.userId)) this.broadcastTyping();
    const grace = disconnected ? this.opts.presenceGraceMs : 0;
    if (this.presence.remove(sub.id, sub.identity, this.now(), grace)) this.broadcastPresence();
    reply?.({ ok: true });
  }

  /**
   * A user lost access (removed from a private room, or gave it up): every
   * subscription of theirs on this node ends now, each connection is told,
   * and they leave presence and typing.
   */
  private kick(userId: string): void {
    for (const sub of [...this.subs.values()]) {
      if (sub.identity.userId !== userId) continue;
      this.subs.delete(sub.id);
      sub.removed?.(this.name);
      this.presence.remove(sub.id, sub.identity, this.now(), 0);
    }
    const poller = { userId, name: '' };
    this.presence.remove(pollerId(poller), poller, this.now(), 0);
    // Whatever other nodes said about this user here no longer counts either.
    this.presence.forgetUser(userId);
    if (this.typing.stop(userId)) this.broadcastTyping();
    this.broadcastPresence();
  }

  /** A socket must have joined; an Ajax client must hold a poll lease (it polled recently). */
  private startTyping(who: Identity, sub: Subscriber | undefined, reply: Reply<EmptyOk> | undefined, stop = false): void {
    // An Ajax client polled here, or (round-robined) through another node that says so.
    const inRoom = sub ? this.subs.has(sub.id) : this.presence.has(who.userId, pollerId(who)) || this.presence.hasUser(who.userId);
    if (!inRoom) {
      reply?.(fail('not_found', `join room ${this.name} before typing in it`));
      return;
    }
    if (stop) {
      if (this.typing.stop(who.userId)) this.broadcastTyping();
    } else if (this.typing.start(who, this.now())) this.broadcastTyping();
    // Peers hear each renewal too: their copy of a typer expires like ours unless renewed.
    else this.tellTyping(true);
    reply?.({ ok: true });
  }

  /**
   * Commits a run of sends as one transaction. The store assigns the seqs and
   * answers retries (same author and clientId) with the stored original.
   * Acks go out only after the commit, then the broadcast.
   */
  private async commit(sends: PendingSend[]): Promise<void> {
    this.servedWrite = true;
    const ts = this.now();
    const drafts: Draft[] = sends.map((s) => ({ ...s.entry, id: randomUUID(), author: s.author.name, authorId: s.author.userId, ts }));
    let committed;
    try {
      committed = await this.store.commit(this.name, drafts, this.epoch);
    } catch (err) {
      // Nothing was committed: refuse every send of the run, so each client
      // retries with its clientId. An ok ack never precedes the commit.
      this.failed('commit', err);
      // PostgreSQL may have stored it even so: this room no longer knows where the log ends.
      this.inSync = false;
      this.tail?.drop();
      for (const s of sends) reject(s, 'message not stored, retry');
      return;
    }
    const { log, results } = committed;
    // The log was created by another writer first (another node): its epoch wins.
    this.epoch = log.epoch;
    const fresh: Message[] = [];
    results.forEach((r, i) => {
      const s = sends[i] as PendingSend;
      if ('refused' in r) return s.reply(fail(r.refused, r.reason));
      const m = r.message;
      if (!r.duplicate && !r.unchanged) fresh.push(m);
      const extra = r.duplicate ? { duplicate: true } : r.unchanged ? { unchanged: true } : {};
      s.reply({ ok: true, seq: m.seq, id: m.id, ts: m.ts, ...extra });
    });
    if (fresh.length > 0) this.hooks.committed?.(this, fresh.length);
    await this.deliver(fresh, log.lastSeq);
    this.inSync = this.lastSeq === log.lastSeq;
    if (fresh.length > 0) this.gossip?.hint(this.epoch, fresh, log.lastSeq);
    // A sent message ends its author's typing.
    let typingChanged = false;
    for (const m of fresh) if (m.kind === undefined) typingChanged = this.typing.stop(m.authorId) || typingChanged;
    if (typingChanged) this.broadcastTyping();
  }

  /**
   * Broadcasts everything up to `upTo` that subscribers have not had, in seq
   * order, as one packet. `known` are this turn's own messages; anything else
   * in the range was committed by another writer and is read back first. If
   * that read fails, nothing is broadcast and `lastSeq` stays: subscribers
   * get the whole range later, in order (the next commit, hint, store check
   * or join reads it), never this turn's messages with a gap before them.
   */
  private async deliver(known: Message[], upTo: number): Promise<void> {
    if (upTo <= this.lastSeq) return;
    let batch = known;
    const contiguous = known.length === upTo - this.lastSeq && known[0]?.seq === this.lastSeq + 1;
    if (!contiguous) {
      try {
        batch = await this.store.readAfter(this.name, this.lastSeq, upTo - this.lastSeq);
      } catch (err) {
        this.failed('catch_up', err);
        return;
      }
      // Fewer rows than seqs: not all visible yet; the next read delivers them.
      if (!this.followsOn(batch) || batch.at(-1)?.seq !== upTo) return;
    }
    this.advance(batch);
  }

  /** Whether `batch` starts right after what this room delivered. */
  private followsOn(batch: Message[]): boolean {
    return batch[0]?.seq === this.lastSeq + 1;
  }

  /**
   * The one step that moves the room forward, whoever committed the entries
   * (this room, or another node's, read back or hinted): `batch` follows on
   * from `lastSeq` without a gap (every caller checks), so `lastSeq` moves to
   * its end, the tail cache keeps it, and subscribers get it as one packet.
   */
  private advance(batch: Message[]): void {
    const end = batch.at(-1)?.seq;
    if (end === undefined) return;
    this.lastSeq = end;
    this.tail?.append(this.epoch, batch);
    this.broadcast('messages', { room: this.name, messages: batch });
  }

  /**
   * The log reached `last` elsewhere. Deliver the hinted messages when they
   * follow on from what this room delivered, else read the missing range from
   * the store first: subscribers see every seq once, in order, whatever the
   * bus dropped or reordered. A read that fails leaves `lastSeq` where it was,
   * for the next hint or store check to retry.
   */
  private async catchUp(last: number, epoch: string | undefined, messages: Message[] | undefined): Promise<void> {
    // This node proposed an epoch for a room it had not seen stored; the store's (another node's first commit) wins.
    if (epoch !== undefined && epoch !== this.epoch && this.lastSeq === 0) this.epoch = epoch;
    if (last <= this.lastSeq) return;
    if (messages && this.followsOn(messages) && messages.at(-1)?.seq === last) return this.advance(messages);
    while (this.lastSeq < last) {
      let batch: Message[];
      try {
        batch = await pageAfter(this.store, this.name, this.lastSeq, Math.min(CATCH_UP_STEP, last - this.lastSeq));
      } catch (err) {
        this.failed('catch_up', err);
        this.inSync = false;
        return;
      }
      if (!this.followsOn(batch)) {
        this.inSync = false;
        return; // not visible yet: the next check retries
      }
      this.advance(batch);
    }
  }

  /** Presence or typing from another node, merged into this room's view. */
  private heard(news: PeerNews): void {
    const now = this.now();
    switch (news.type) {
      case 'presence':
        if (this.presence.setPeer(news.node, news.users, now, now + news.ttlMs)) this.broadcastPresence();
        return;
      case 'typing':
        if (this.typing.setPeer(news.node, news.users, now)) this.broadcastTyping();
        return;
      case 'hello':
        this.tellPresence(true);
        this.tellTyping(true);
        return;
    }
  }

  /** Tells peers who is present through this node (see RoomGossip). */
  private tellPresence(always = false): void {
    if (this.gossip) this.gossip.tellPresence(this.presence.localUsers(), always);
  }

  private tellTyping(always = false): void {
    if (this.gossip) this.gossip.tellTyping(this.typing.localUsers(), always);
  }

  /**
   * Sends one event to everyone in the room on this node: one frame, written
   * to each subscriber of the room's own list (the only record of who hears
   * it), each carrier encoding it once.
   */
  private broadcast<E extends StreamEvent>(event: E, payload: EventOf<E>): void {
    const frame = new Frame(event, payload);
    for (const sub of this.subs.values()) sub.write(frame);
    this.hooks.broadcast?.(this, frame, this.subs.size);
  }

  private broadcastPresence(): void {
    this.broadcast('presence', { room: this.name, members: this.presence.names(), users: this.presence.users() });
    this.tellPresence();
  }

  private broadcastTyping(): void {
    this.broadcast('typing', { room: this.name, typing: this.typing.names(), users: this.typing.users() });
    this.tellTyping();
  }
}

/** Commands that replace their own earlier copy in the mailbox instead of queueing twice. */
function coalesceKey(cmd: RoomCommand): string | undefined {
  switch (cmd.kind) {
    case 'typing':
      // A burst of typing signals from one connection occupies one slot.
      return `typing:${cmd.sub?.id ?? pollerId(cmd.who)}`;
    case 'peer':
      // Only the latest word of a node on presence (or typing) matters.
      return `peer:${cmd.news.node}:${cmd.news.type}`;
    default:
      return undefined;
  }
}

/** The presence key of an Ajax client: one lease per user and room, renewed by each poll. */
function pollerId(who: Identity): string {
  return `poll:${who.userId}`;
}

/** A failure whose kind is known where it happened (see `labelled`); `handle` counts it under that kind. */
class Reported extends Error {
  constructor(
    readonly kind: FailureKind,
    override readonly cause: unknown,
  ) {
    super(`${kind} failed`);
  }
}

/** Runs a store step whose failure is counted as `kind`, not as the read of the command around it. */
async function labelled<T>(kind: FailureKind, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw new Reported(kind, err);
  }
}

function reject(cmd: RoomCommand, message: string): void {
  if ('reply' in cmd && cmd.reply) cmd.reply(fail('unavailable', message, BUSY_RETRY_MS));
}
