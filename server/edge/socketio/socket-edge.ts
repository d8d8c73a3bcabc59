import { getDefaultHighWaterMark } from 'node:stream';
import { Socket as SocketIoSocket, type Server, type Socket } from 'socket.io';
import {
  fail,
  isSocketCommand,
  type Ack,
  type ClientToServerEvents,
  type EventOf,
  type ServerToClientEvents,
} from '../../../shared/protocol.ts';
import type { SessionService } from '../../accounts/session-service.ts';
import type { Frame } from '../../rooms/frame.ts';
import type { Identity, Subscriber } from '../../rooms/types.ts';
import type { Caller, Connection } from '../caller.ts';
import { RoomList } from '../room-list.ts';
import type { ChatEdge } from '../chat-edge.ts';
import type { Link } from '../link.ts';
import { writeAnswerDirect } from './answer-frames.ts';
import type { ConnectionCaps } from '../connection-caps.ts';
import { clientAddressOf, compactConnection, directWebSocket, transportOf, type SocketCarrier, forgetRoomTable, sharedAnyListener, tagAckIds } from './engine-internals.ts';
import { socketIoPacket, webSocketFrame } from './frames.ts';
import type { SlowConsumerGuard } from './slow-consumers.ts';

export interface SocketData {
  identity: Identity;
  /** The client's address key (per-address caps and budgets). */
  address: string;
  /** Set once the handshake is accepted (then `data` is the connection itself). */
  conn: SocketConnection;
}

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** What the socket edge tells its owner, in the carrier-neutral terms of `Link`. */
export interface SocketEdgeHooks {
  connected?(link: SocketConnection): void;
  /** A long-polling connection moved to WebSocket. */
  upgraded?(link: SocketConnection): void;
  /** `transport`: what carried the connection last. */
  disconnected?(link: SocketConnection, transport: SocketCarrier, reason: string): void;
  /** A handler threw: a bug. The client still gets an ack. */
  handlerFailed?(event: string, error: unknown): void;
  /** A handshake was refused by a connection cap. */
  capped?(refused: 'address' | 'identity', address: string, identity: Identity): void;
  /** A command was refused because the connection had too many in flight. */
  overInFlight?(link: SocketConnection): void;
}

/** What one connection may cost the server. */
export interface SocketBudget {
  /** Open connections per client address and per identity. */
  caps: ConnectionCaps;
  /** Commands one connection may have waiting for an answer. */
  maxInFlight: number;
  /**
   * Cuts a connection whose queued outbound bytes are over its budget. Checked
   * before a command is served and after it is answered, so a client that
   * does not read its answers gets no more work, and after every write.
   */
  guard: SlowConsumerGuard;
}

/**
 * Wires socket.io to the chat edge. Identity comes from the handshake token
 * only. Every socket command of the table is served the same way: the event
 * name is the command, its payload arrives as `unknown` and goes to the
 * edge, whose answer goes back through the ack callback. An event without a
 * callback is still served (bots may fire and forget); an unknown event is
 * answered `not_found`. With `frames` = `direct`, an answer that carries
 * messages is framed here and written to the WebSocket directly when it can
 * be (`answer-frames.ts`); `engine`: every answer through socket.io.
 */
export function attachSocketEdge(
  io: ChatServer,
  edge: ChatEdge,
  sessions: Pick<SessionService, 'authenticate' | 'expired'>,
  budget: SocketBudget,
  hooks: SocketEdgeHooks = {},
  frames: 'direct' | 'engine' = 'direct',
): void {
  const direct = frames === 'direct' && tagAckIds(SocketIoSocket);
  const out: Outbound = { direct: frames === 'direct', guard: budget.guard };
  io.use(async (socket, next) => {
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    const address = clientAddressOf(socket.conn);
    let identity: Identity | undefined;
    try {
      identity = await sessions.authenticate(token, address);
    } catch (err) {
      // The store could not say: not a refusal, so the client retries rather than signing out.
      hooks.handlerFailed?.('handshake', err);
      return next(new Error('unavailable'));
    }
    if (!identity) return next(new Error('unauthorized'));
    // Caps are counted from here to the disconnect, before the connection costs anything more.
    const cap = budget.caps.acquire(address, identity.userId);
    if (!cap.ok) {
      hooks.capped?.(cap.refused, address, identity);
      return next(new Error('too_many_connections'));
    }
    socket.data.identity = identity;
    socket.data.address = address;
    next();
  });

  // One connection costs an object and a Set beyond socket.io's own state: the
  // listeners below are shared by every socket (socket.io calls them with
  // `this` = the socket) instead of being closures made per connection.
  function onEvent(this: ChatSocket, event: string, ...args: unknown[]): void {
    const conn = this.data.conn;
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as (res: Ack<object>) => void) : undefined;
    // A connection outlives its token only until its next request. (Checked
    // per event: a timer for a 30-day token would overflow setTimeout.)
    if (sessions.expired(conn.identity)) {
      ack?.(fail('unauthorized', 'session expired, sign in again'));
      this.emit('bye', { reason: 'session_expired' });
      this.disconnect(true);
      return;
    }
    // A client that is not reading what it is sent gets no more work.
    if (budget.guard.cutIfOver(this)) return;
    if (!isSocketCommand(event)) {
      ack?.(fail('not_found', `unknown event "${event}"`));
      return;
    }
    if (conn.inFlight >= budget.maxInFlight) {
      hooks.overInFlight?.(conn);
      ack?.(fail('rate_limited', 'too many requests waiting for an answer', 100));
      return;
    }
    conn.inFlight++;
    // A room's answer is written the moment the room gives it (so it is
    // queued before the room's next broadcast); an answer from the edge
    // itself (a bad payload, a rate limit) when the call returns.
    let answered = false;
    const respond = (res: Ack<object>) => {
      if (answered) return;
      answered = true;
      conn.inFlight--;
      if (ack && !(direct && writeAnswerDirect(this.conn, ack, res))) ack(res);
      budget.guard.cutIfOver(this);
    };
    edge.call(event, conn.caller, args[0], respond).then(respond, (error: unknown) => {
      hooks.handlerFailed?.(event, error);
      respond(fail('unavailable', 'internal error, retry', 1000));
    });
  }

  function onDisconnect(this: ChatSocket, reason: string): void {
    budget.caps.release(this.data.address, this.data.identity.userId);
    hooks.disconnected?.(this.data.conn, transportOf(this.conn), reason);
    void edge.disconnected(this.data.conn);
  }

  const listenToAll = sharedAnyListener(onEvent);
  io.on('connection', (socket: ChatSocket) => {
    // The connection is the socket's `data` too: one object instead of two.
    socket.data = new SocketConnection(socket, socket.data.identity, socket.data.address, out);
    // socket.io puts every socket in a room named by its id, and keeps a Set
    // of each socket's rooms; nothing here uses socket.io's rooms (a room's
    // subscribers are the room fiber's own list), so both go.
    forgetRoomTable(socket);
    // Nothing reads the handshake after the middleware above (identity and
    // address are in `data`); socket.io's own copy is four objects and a date
    // string per connection, and holds the token.
    (socket as { handshake: unknown }).handshake = RELEASED_HANDSHAKE;
    hooks.connected?.(socket.data.conn);
    // Only a long-polling connection can upgrade; a WebSocket one carries no listener for it.
    if (hooks.upgraded && transportOf(socket.conn) === 'long-polling') socket.conn.once('upgrade', () => hooks.upgraded?.(socket.data.conn));
    listenToAll(socket);
    compactConnection(socket);
    socket.on('disconnect', onDisconnect);
  });
}

/** What `socket.handshake` is once the connection is accepted: one frozen object shared by every socket. */
const RELEASED_HANDSHAKE: ChatSocket['handshake'] = Object.freeze({
  headers: Object.freeze({}),
  time: '',
  address: '',
  xdomain: false,
  secure: false,
  issued: 0,
  url: '',
  query: Object.freeze({}),
  auth: Object.freeze({}),
});

/**
 * How a connection's outbound bytes are written and kept in budget; one
 * object shared by every connection. `direct`: a frame goes straight to the
 * WebSocket's TCP socket whenever engine.io holds nothing back for it (see
 * `directWebSocket`); otherwise, and always with `direct` false, the packet
 * goes through engine.io's queue.
 */
export interface Outbound {
  readonly direct: boolean;
  readonly guard: SlowConsumerGuard;
}

/** Node's default high-water mark of a TCP socket (the server sets none). */
const SOCKET_HIGH_WATER_MARK = getDefaultHighWaterMark(false);

/**
 * The edge's view of one socket.io connection: a room's subscriber, the
 * rooms it is in and the caller it is; also the socket's `data`. Methods
 * live on the prototype, not in per-connection closures.
 */
export class SocketConnection implements Connection, Subscriber, Link, SocketData {
  readonly joined = new RoomList();
  joining = 0;
  /** Commands sent and not yet answered. */
  inFlight = 0;
  readonly id: string;

  constructor(
    private readonly socket: ChatSocket,
    readonly identity: Identity,
    readonly address: string,
    private readonly out: Outbound,
  ) {
    this.id = socket.id;
  }

  get conn(): SocketConnection {
    return this;
  }

  get sub(): Subscriber {
    return this;
  }

  get open(): boolean {
    return this.socket.connected;
  }

  get transport(): SocketCarrier {
    return transportOf(this.socket.conn);
  }

  /** The caller this connection is, for every command it sends. */
  get caller(): Caller {
    return { identity: this.identity, conn: this, address: this.address };
  }

  /**
   * One event of a room's stream (or a notice). On an open WebSocket with
   * nothing queued in engine.io, the frame's WebSocket bytes (built once per
   * broadcast, shared by every such subscriber) are written to the TCP
   * socket: what engine.io handed over before (the sender's ack, written
   * inside the same room turn) is already in that socket's buffer and so
   * goes first. Anything else (long-polling, an upgrade in progress, a
   * WebSocket with packets behind an unfinished write) gets the encoded
   * packet through engine.io, behind what it queued, as socket.io's adapter
   * would hand it over.
   *
   * Every byte counts in the connection's budget: written directly, the
   * WebSocket's `bufferedAmount` is all it holds, checked at once when the
   * TCP socket is past its high-water mark (or the budget is below that
   * mark); through engine.io, the guard checks it within its window.
   */
  write(frame: Frame): void {
    const ws = this.out.direct ? directWebSocket(this.socket.conn) : undefined;
    if (ws) {
      const below = ws._socket.write(frame.encoded(webSocketFrame));
      const { guard } = this.out;
      if ((!below || guard.maxBytes < SOCKET_HIGH_WATER_MARK) && ws.bufferedAmount > guard.maxBytes) guard.cutIfOver(this.socket);
      return;
    }
    if (!this.socket.connected) return;
    this.socket.conn.write(frame.encoded(socketIoPacket));
    this.out.guard.watch(this.socket);
  }

  /** Tells the client why, then closes the connection. */
  close(bye: EventOf<'bye'>): void {
    this.socket.emit('bye', bye);
    this.socket.disconnect(true);
  }

  /** Lost access to a room: it is no longer one of this connection's rooms (the user is told by a notice). */
  removed(room: string): void {
    this.joined.delete(room);
  }
}
