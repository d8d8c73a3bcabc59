import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  PROTOCOL_VERSION,
  STREAM_TICKET_TTL_MS,
  StreamRooms,
  TIMING,
  fail,
  parseStreamId,
  type Ack,
  type EventOf,
  type OkInputOf,
} from '../../../shared/protocol.ts';
import type { SessionService } from '../../accounts/session-service.ts';
import type { RateLimiter } from '../../rate-limit.ts';
import type { Identity } from '../../rooms/types.ts';
import type { Store } from '../../store/store.ts';
import type { ChatEdge } from '../chat-edge.ts';
import { addressKey, canonicalAddress } from '../client-address.ts';
import type { ConnectionCaps } from '../connection-caps.ts';
import { sendError } from '../http-edge.ts';
import { SseLink } from './sse-link.ts';
import type { RefusalReason } from '../../../shared/refusals.ts';

export interface SseHooks {
  connected?(link: SseLink): void;
  disconnected?(link: SseLink): void;
  /** A stream was refused to protect others (`connection_cap_address`, `rate_stream_ticket`…). */
  refused?(reason: RefusalReason, address: string, identity: Identity | undefined): void;
  /** A stream was cut for holding more than its outbound budget. */
  evicted?(link: SseLink, bytes: number): void;
  /** The store failed under a ticket or a stream (logged and counted by the owner). */
  failed?(what: 'ticket' | 'stream', err: unknown): void;
}

export interface SseDeps {
  edge: ChatEdge;
  sessions: Pick<SessionService, 'authenticate'>;
  store: Pick<Store, 'saveChallenge' | 'takeChallenge' | 'session' | 'user'>;
  caps: ConnectionCaps;
  /** Tickets per identity (a ticket is a store write). */
  tickets: RateLimiter;
  maxOutboundBytes: number;
  now: () => number;
  hooks: SseHooks;
}

/** The Server-Sent Events carrier, as the rest of the server sees it. */
export interface SseCarrier {
  readonly size: number;
  closeAll(bye: EventOf<'bye'>): void;
  /** Stops the shared heartbeat. */
  stop(): void;
}

/**
 * The fourth carrier, through the same seam as socket.io's: Server-Sent
 * Events (`docs/PROTOCOL.md`, "Server-Sent Events").
 *
 * `POST /api/stream-ticket` (bearer token) answers a single-use ticket valid
 * for 30 s, kept in the store (any node redeems it: no sticky session), so
 * that no long-lived token goes into a URL. `GET /api/stream?ticket=…&rooms=a,b`
 * opens the stream: each room is joined through the edge (the same access
 * rules, room caps and join code as a socket's `join`), from the position
 * `Last-Event-ID` (or `lastEventId`) gives, and answered as a `joined` event;
 * then the rooms' live events follow as the rooms send them. Commands go over
 * the REST routes, as Ajax polling's do.
 *
 * A stream counts like a socket: against the connection caps per address and
 * identity, in the outbound byte budget (cut when over; the client resumes
 * from its last id), in the session's live connections (ended with it), and
 * on /metrics as transport `sse`. One timer writes every stream's heartbeat.
 */
export function registerSse(app: FastifyInstance, deps: SseDeps): SseCarrier {
  const links = new Set<SseLink>();
  const heartbeat = setInterval(() => {
    for (const link of links) link.heartbeat();
  }, TIMING.heartbeatIntervalMs);
  heartbeat.unref();
  const out = {
    maxBytes: deps.maxOutboundBytes,
    evicted: (link: SseLink, bytes: number) => deps.hooks.evicted?.(link, bytes),
  };

  app.post('/api/stream-ticket', async (req, res) => {
    const address = addressOf(req);
    const identity = await bearer(req, deps.sessions, address).catch((err: unknown) => {
      deps.hooks.failed?.('ticket', err);
      return 'failed' as const;
    });
    if (identity === 'failed') return sendError(res, fail('unavailable', 'the server could not check the session; try again', 1000).error);
    if (!identity) return sendError(res, fail('unauthorized', 'a valid session token is required').error);
    const wait = deps.tickets.take(`u:${identity.userId}`);
    if (wait > 0) {
      deps.hooks.refused?.('rate_stream_ticket', address, identity);
      return sendError(res, fail('rate_limited', 'too many stream tickets; wait', wait).error);
    }
    if (identity.sessionId === undefined) return sendError(res, fail('unauthorized', 'this token is too old for streams; sign in again').error);
    const ticket = `${identity.sessionId}.${randomBytes(24).toString('base64url')}`;
    const expiresAt = deps.now() + STREAM_TICKET_TTL_MS;
    try {
      await deps.store.saveChallenge({ challenge: ticket, purpose: 'stream', userId: identity.userId, expiresAt });
    } catch (err) {
      deps.hooks.failed?.('ticket', err);
      return sendError(res, fail('unavailable', 'the server could not issue a ticket; try again', 1000).error);
    }
    return res.code(200).header('cache-control', 'no-store').send({ ticket, expiresAt });
  });

  app.get('/api/stream', async (req, res) => {
    const address = addressOf(req);
    const query = req.query as Record<string, unknown>;
    const accept = req.headers.accept ?? '';
    if (!accept.includes('text/event-stream')) return sendError(res, fail('bad_request', 'a stream is read with Accept: text/event-stream (EventSource)').error);
    const rooms = StreamRooms.safeParse(query.rooms);
    if (!rooms.success) return sendError(res, fail('bad_request', `rooms: ${rooms.error.issues[0]?.message ?? 'invalid'}`).error);
    let identity: Identity | undefined;
    try {
      identity = await redeem(deps, query.ticket);
    } catch (err) {
      deps.hooks.failed?.('stream', err);
      return sendError(res, fail('unavailable', 'the server could not check the ticket; try again', 1000).error);
    }
    if (!identity) return sendError(res, fail('unauthorized', 'the ticket is not valid (used, expired, or its session ended); get a new one').error);
    const cap = deps.caps.acquire(address, identity.userId);
    if (!cap.ok) {
      deps.hooks.refused?.(`connection_cap_${cap.refused}`, address, identity);
      return sendError(res, fail('rate_limited', 'too many connections open; close one', 5000).error);
    }
    const lastId = typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : typeof query.lastEventId === 'string' ? query.lastEventId : undefined;
    open(req, res, identity, address, rooms.data, parseStreamId(lastId));
  });

  function open(req: FastifyRequest, res: FastifyReply, identity: Identity, address: string, rooms: string[], from: ReturnType<typeof parseStreamId>): void {
    res.hijack();
    const raw = res.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      // nginx and its kin hold a response back to buffer it unless told not to.
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    raw.socket?.setNoDelay(true);
    const link = new SseLink(`sse:${randomBytes(9).toString('base64url')}`, identity, address, raw, out);
    links.add(link);
    deps.hooks.connected?.(link);
    let closed = false;
    req.raw.socket.once('close', () => {
      if (closed) return;
      closed = true;
      links.delete(link);
      deps.caps.release(address, identity.userId);
      deps.hooks.disconnected?.(link);
      void deps.edge.disconnected(link);
    });
    // The browser reconnects on its own only after `retry`; the client makes a new ticket first, so keep it long.
    raw.write('retry: 3600000\n\n');
    link.control('ready', { protocol: PROTOCOL_VERSION, heartbeatMs: TIMING.heartbeatIntervalMs, rooms });
    void joinAll(link, rooms, from);
  }

  /** Joins the rooms one after another, as a client's joins would come, each from its position. */
  async function joinAll(link: SseLink, rooms: string[], from: ReturnType<typeof parseStreamId>): Promise<void> {
    for (const room of rooms) {
      if (!link.open) return;
      const at = from.get(room);
      const request = at ? { room, since: at.seq, epoch: at.epoch } : { room };
      let answered = false;
      // Written the moment the room answers, before anything the room sends after the join.
      const respond = (ack: Ack<OkInputOf<'join'>>) => {
        if (answered) return;
        answered = true;
        if (ack.ok) link.joinedRoom(ack);
        else link.control('refused', { room, error: ack.error });
      };
      respond(await deps.edge.call('join', link.caller, request, respond));
    }
  }

  return {
    get size() {
      return links.size;
    },
    closeAll(bye) {
      for (const link of [...links]) link.close(bye);
    },
    stop() {
      clearInterval(heartbeat);
    },
  };
}

/**
 * The identity a stream ticket stands for: taken from the store (single use,
 * on any node), then its session checked as a token's would be. Undefined
 * for a ticket that was never issued, was used, expired, or whose session
 * ended meanwhile. The ticket names its session: `<sessionId>.<nonce>`.
 */
async function redeem(deps: Pick<SseDeps, 'store' | 'now'>, ticket: unknown): Promise<Identity | undefined> {
  if (typeof ticket !== 'string' || ticket.length > 512) return undefined;
  const dot = ticket.indexOf('.');
  if (dot <= 0) return undefined;
  const now = deps.now();
  const record = await deps.store.takeChallenge(ticket, 'stream', now);
  if (!record?.userId) return undefined;
  const session = await deps.store.session(ticket.slice(0, dot), now);
  if (!session || session.userId !== record.userId) return undefined;
  const user = await deps.store.user(session.userId);
  if (!user) return undefined;
  return { userId: user.userId, name: user.name, sessionId: session.id, expiresAt: session.expiresAt };
}

function addressOf(req: FastifyRequest): string {
  return addressKey(canonicalAddress(req.ip));
}

async function bearer(req: FastifyRequest, sessions: SseDeps['sessions'], address: string): Promise<Identity | undefined> {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !h.startsWith('Bearer ')) return undefined;
  return sessions.authenticate(h.slice('Bearer '.length).trim(), address);
}

