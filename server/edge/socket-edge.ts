import { Socket as SocketIoSocket, type Server, type Socket } from 'socket.io';
import {
  fail,
  isSocketCommand,
  type Ack,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../shared/protocol.ts';
import type { SessionService } from '../accounts/session-service.ts';
import type { Identity, Subscriber } from '../rooms/types.ts';
import type { Caller, ChatEdge, Connection, JoinedRooms } from './chat-edge.ts';
import { writeAnswerDirect } from './answer-frames.ts';
import type { ConnectionCaps } from './connection-caps.ts';
import { clientAddressOf, compactConnection, sharedAnyListener, tagAckIds } from './engine-internals.ts';

export interface SocketData {
  identity: Identity;
  /** The client's address key (per-address caps and budgets). */
  address: string;
  /** Set once the handshake is accepted (then `data` is the connection itself). */
  conn: SocketConnection;
}

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SocketEdgeHooks {
  connected?(socket: ChatSocket): void;
  disconnected?(socket: ChatSocket, reason: string): void;
  /** A handler threw: a bug. The client still gets an ack. */
  handlerFailed?(event: string, error: unknown): void;
  /** A handshake was refused by a connection cap. */
  capped?(refused: 'address' | 'identity', address: string, identity: Identity): void;
  /** A command was refused because the connection had too many in flight. */
  overInFlight?(socket: ChatSocket): void;
}

/** What one connection may cost the server. */
export interface SocketBudget {
  /** Open connections per client address and per identity. */
  caps: ConnectionCaps;
  /** Commands one connection may have waiting for an answer. */
  maxInFlight: number;
  /**
   * Cuts a connection whose queued outbound bytes are over its budget (true
   * when it did). Checked before a command is served and after it is answered,
   * so a client that does not read its answers gets no more work.
   */
  cutIfOver(socket: ChatSocket): boolean;
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
    if (budget.cutIfOver(this)) return;
    if (!isSocketCommand(event)) {
      ack?.(fail('not_found', `unknown event "${event}"`));
      return;
    }
    if (conn.inFlight >= budget.maxInFlight) {
      hooks.overInFlight?.(this);
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
      budget.cutIfOver(this);
    };
    edge.call(event, conn.caller, args[0], respond).then(respond, (error: unknown) => {
      hooks.handlerFailed?.(event, error);
      respond(fail('unavailable', 'internal error, retry', 1000));
    });
  }

  function onDisconnect(this: ChatSocket, reason: string): void {
    budget.caps.release(this.data.address, this.data.identity.userId);
    hooks.disconnected?.(this, reason);
    void edge.disconnected(this.data.conn);
  }

  const listenToAll = sharedAnyListener(onEvent);
  io.on('connection', (socket: ChatSocket) => {
    // The connection is the socket's `data` too: one object instead of two.
    socket.data = new SocketConnection(socket, socket.data.identity, socket.data.address);
    // socket.io puts every socket in a room named by its id; nothing here
    // addresses a socket that way, and the room costs a Set per connection.
    void socket.leave(socket.id);
    // Nothing reads the handshake after the middleware above (identity and
    // address are in `data`); socket.io's own copy is four objects and a date
    // string per connection, and holds the token.
    (socket as { handshake: unknown }).handshake = RELEASED_HANDSHAKE;
    hooks.connected?.(socket);
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
 * The edge's view of one socket.io connection: its subscriber, its rooms and
 * the caller it is; also the socket's `data`. Methods live on the prototype,
 * not in per-connection closures.
 */
export class SocketConnection implements Connection, Subscriber, SocketData {
  readonly joined = new RoomList();
  joining = 0;
  /** Commands sent and not yet answered. */
  inFlight = 0;
  readonly id: string;

  constructor(
    private readonly socket: ChatSocket,
    readonly identity: Identity,
    readonly address: string,
  ) {
    this.id = socket.id;
  }

  get conn(): SocketConnection {
    return this;
  }

  get sub(): Subscriber {
    return this;
  }

  /** The caller this connection is, for every command it sends. */
  get caller(): Caller {
    return { identity: this.identity, conn: this, address: this.address };
  }

  subscribe(channel: string): void {
    void this.socket.join(channel);
  }

  unsubscribe(channel: string): void {
    void this.socket.leave(channel);
  }

  /** Lost access to a room: it is no longer one of this connection's rooms (the user is told by a notice). */
  removed(room: string): void {
    this.joined.delete(room);
  }
}

/**
 * A connection's rooms (at most `LIMITS.roomsPerConnection`) in an array of
 * exactly their number, replaced on each change: most connections are in one
 * or two rooms, where a `Set` costs its hash table (about 150 bytes) and an
 * array grown by `push` the room for 17.
 */
export class RoomList implements JoinedRooms {
  private rooms: readonly string[] = [];

  get size(): number {
    return this.rooms.length;
  }

  has(room: string): boolean {
    return this.rooms.includes(room);
  }

  add(room: string): void {
    if (!this.has(room)) this.rooms = [...this.rooms, room];
  }

  delete(room: string): boolean {
    const had = this.has(room);
    if (had) this.rooms = this.rooms.filter((r) => r !== room);
    return had;
  }

  clear(): void {
    this.rooms = [];
  }

  [Symbol.iterator](): Iterator<string> {
    return this.rooms[Symbol.iterator]();
  }
}
