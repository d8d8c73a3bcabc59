/**
 * The cluster's message bus: Redis pub/sub, one channel per room
 * (`fc:room:<room>`). It carries hints, never the truth: the store orders
 * every message, and a node that misses a hint reads the store (the room
 * fibers' catch-up and the registry's periodic check). So the bus may drop,
 * reorder or be down, and nothing is lost:
 *
 * - `enableOfflineQueue: false`: while Redis is away a publish fails at once
 *   instead of queueing without bound; nodes fall back to polling the store.
 * - at most `MAX_PENDING_PUBLISHES` publishes wait for Redis's reply; past
 *   that, new ones are dropped. Until the client notices that Redis died or
 *   the network parted (a partition can take minutes to surface on TCP),
 *   each publish is written and waits for an answer that never comes.
 *   Healthy, a reply comes in well under a millisecond, so few ever wait.
 * - subscriptions are re-made for every live room whenever the subscriber
 *   connection is ready again (ioredis forgets channels whose SUBSCRIBE
 *   failed while it was disconnected).
 *
 * Inbound payloads are validated like any other input.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { EVENTS, Message, User } from '../../shared/protocol.ts';

export const PeerMessage = z.discriminatedUnion('type', [
  /** Messages committed on `node`: the room's log reached `last` (the batch itself when small). */
  z.object({ type: z.literal('hint'), node: z.string(), epoch: z.string(), last: z.number().int().min(0), messages: z.array(Message).optional() }),
  /** The users present through `node`'s own connections, valid for `ttlMs`. */
  z.object({ type: z.literal('presence'), node: z.string(), users: z.array(User), ttlMs: z.number().int().min(0) }),
  /** The users typing through `node`'s own connections. */
  z.object({ type: z.literal('typing'), node: z.string(), users: z.array(User) }),
  /** `node` just started serving the room: peers answer with their presence and typing. */
  z.object({ type: z.literal('hello'), node: z.string() }),
  /** A user lost access to the room: every node ends their subscriptions at once. */
  z.object({ type: z.literal('kick'), node: z.string(), userId: z.string() }),
]);
export type PeerMessage = z.infer<typeof PeerMessage>;

const noticeOf = <E extends string, P extends z.ZodType>(event: E, payload: P) =>
  z.object({ node: z.string(), userId: z.string(), event: z.literal(event), payload });

/**
 * An event for one user, wherever their connections are: a read position,
 * an invitation or a removal (the user's own socket events, with their
 * schemas), or sessions that ended (every node closes their connections).
 * Each is checked against its schema on arrival.
 */
export const UserNotice = z.discriminatedUnion('event', [
  noticeOf('read', EVENTS.read),
  noticeOf('removed', EVENTS.removed),
  noticeOf('invited', EVENTS.invited),
  noticeOf('reported', EVENTS.reported),
  /** A room's moderation state changed (`userId`: who changed it): every node drops its copy. */
  noticeOf('moderation_changed', z.object({ room: z.string().max(64) })),
  noticeOf('sessions_ended', z.object({ sessions: z.array(z.string().max(64)).max(1000) })),
]);
export type UserNotice = z.infer<typeof UserNotice>;

export interface Bus {
  readonly node: string;
  /** Starts delivering the room's peer messages (from other nodes) to `deliver`. */
  subscribe(room: string, deliver: (msg: PeerMessage) => void): void;
  unsubscribe(room: string): void;
  /** Best effort: a message that cannot be sent now is dropped (the store catches everyone up). */
  publish(room: string, msg: PeerMessage): void;
  /** Sends a notice to every node (each delivers it to the user's connections there, if any). */
  notify(notice: UserNotice): void;
  /** Receives the notices other nodes send (every handler given hears every notice). */
  onNotice(deliver: (notice: UserNotice) => void): void;
  close(): Promise<void>;
}

export interface RedisBusEvents {
  /** The bus lost or regained Redis (metrics, logs). */
  state?(up: boolean, error?: Error): void;
  /** A payload on a room channel did not parse. */
  malformed?(room: string): void;
  /** A Redis call failed (the message is dropped; the store catches everyone up): logged and counted. */
  failed?(op: 'subscribe' | 'unsubscribe' | 'publish', error: unknown): void;
}

const PREFIX = 'fc:room:';
/** One channel for all user notices: every node hears each and delivers to its own connections of that user. */
const NOTICES = 'fc:users';

/** Publishes waiting for Redis's reply at most (a hint is at most ~16 KiB: a few MiB held, at worst). */
export const MAX_PENDING_PUBLISHES = 256;

export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly rooms = new Map<string, (msg: PeerMessage) => void>();
  private readonly noticeHandlers: Array<(notice: UserNotice) => void> = [];

  constructor(
    url: string,
    readonly node: string,
    private readonly events: RedisBusEvents = {},
  ) {
    const opts = {
      enableOfflineQueue: false,
      // Reconnect forever, backing off to 2 s: the store carries the cluster while Redis is away.
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
      maxRetriesPerRequest: 0,
      lazyConnect: false,
    };
    this.pub = new Redis(url, opts);
    this.sub = new Redis(url, opts);
    for (const client of [this.pub, this.sub]) {
      client.on('error', (err: Error) => this.events.state?.(false, err));
      // Down from the moment a connection closes, not only once a reconnect fails: an outage shorter than the
      // first retry raises no error, and the bus must not be reported up while a client is still reconnecting.
      client.on('close', () => {
        if (!this.closed) this.events.state?.(false);
      });
      // Up only when both are: hints published while the publisher reconnects are dropped.
      client.on('ready', () => {
        if (this.pub.status === 'ready' && this.sub.status === 'ready') this.events.state?.(true);
      });
    }
    this.sub.on('ready', () => {
      this.sub.subscribe(NOTICES).catch(this.failedTo('subscribe'));
      for (const room of this.rooms.keys()) this.sub.subscribe(PREFIX + room).catch(this.failedTo('subscribe'));
    });
    this.sub.on('message', (channel: string, raw: string) => this.receive(channel, raw));
  }

  subscribe(room: string, deliver: (msg: PeerMessage) => void): void {
    this.rooms.set(room, deliver);
    if (this.sub.status === 'ready') this.sub.subscribe(PREFIX + room).catch(this.failedTo('subscribe'));
  }

  unsubscribe(room: string): void {
    if (!this.rooms.delete(room)) return;
    if (this.sub.status === 'ready') this.sub.unsubscribe(PREFIX + room).catch(this.failedTo('unsubscribe'));
  }

  private pending = 0;

  publish(room: string, msg: PeerMessage): void {
    this.send(PREFIX + room, msg);
  }

  notify(notice: UserNotice): void {
    this.send(NOTICES, notice);
  }

  /** Best effort, bounded: dropped while Redis is away or while too many publishes wait for its reply. */
  private send(channel: string, payload: PeerMessage | UserNotice): void {
    if (this.pub.status !== 'ready' || this.pending >= MAX_PENDING_PUBLISHES) return;
    this.pending++;
    this.pub
      .publish(channel, JSON.stringify(payload))
      .catch(this.failedTo('publish'))
      .finally(() => this.pending--);
  }

  /** A rejection handler that reports the failure instead of letting it vanish. */
  private failedTo(op: 'subscribe' | 'unsubscribe' | 'publish'): (err: unknown) => void {
    return (err) => this.events.failed?.(op, err);
  }

  onNotice(deliver: (notice: UserNotice) => void): void {
    this.noticeHandlers.push(deliver);
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    this.rooms.clear();
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private receive(channel: string, raw: string): void {
    if (channel === NOTICES) return this.receiveNotice(raw);
    if (!channel.startsWith(PREFIX)) return;
    const room = channel.slice(PREFIX.length);
    const deliver = this.rooms.get(room);
    if (!deliver) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return this.events.malformed?.(room);
    }
    const msg = PeerMessage.safeParse(parsed);
    if (!msg.success) return this.events.malformed?.(room);
    if (msg.data.node !== this.node) deliver(msg.data);
  }

  private receiveNotice(raw: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return this.events.malformed?.(NOTICES);
    }
    const notice = UserNotice.safeParse(parsed);
    if (!notice.success) return this.events.malformed?.(NOTICES);
    if (notice.data.node !== this.node) for (const deliver of this.noticeHandlers) deliver(notice.data);
  }
}
