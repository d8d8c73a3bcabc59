import type { Server, Socket } from 'socket.io';
import { fail, type Ack, type ClientToServerEvents, type ServerToClientEvents } from '../../shared/protocol.ts';
import type { Sessions } from '../auth.ts';
import type { Identity, Subscriber } from '../rooms/types.ts';
import type { ChatEdge, Connection } from './chat-edge.ts';

export interface SocketData {
  identity: Identity;
  /** Set once the handshake is accepted. */
  conn: Connection;
}

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

type Handler = (conn: Connection, payload: unknown, respond: (ack: Ack<object>) => void) => Promise<Ack<object>>;

export interface SocketEdgeHooks {
  connected?(socket: ChatSocket): void;
  disconnected?(socket: ChatSocket, reason: string): void;
  /** A handler threw: a bug. The client still gets an ack. */
  handlerFailed?(event: string, error: unknown): void;
}

/**
 * Wires socket.io to the chat edge. Identity comes from the handshake token
 * only. Each event's payload arrives as `unknown` and goes to the edge, whose
 * answer goes back through the ack callback; an event without a callback is
 * still served (bots may fire and forget), an unknown event is answered
 * `not_found`.
 */
export function attachSocketEdge(io: ChatServer, edge: ChatEdge, sessions: Sessions, hooks: SocketEdgeHooks = {}): void {
  io.use((socket, next) => {
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    const identity = sessions.verify(token);
    if (!identity) return next(new Error('unauthorized'));
    socket.data.identity = identity;
    // The connection holds the verified identity; it need not hold the token too.
    socket.handshake.auth = {};
    next();
  });

  // Keyed by the event map, so a renamed event fails the build here too.
  const handlers: { [E in keyof ClientToServerEvents]: Handler } = {
    join: (conn, p, r) => edge.join(conn, p, r),
    leave: (conn, p, r) => edge.leave(conn, p, r),
    send: (conn, p, r) => edge.send(conn.sub.identity, p, conn.sub.id, r),
    history: (conn, p, r) => edge.history(conn.sub.identity, p, r),
    typing: (conn, p, r) => edge.typing(conn, p, r),
    ping: (_conn, p) => edge.ping(p),
  };

  // One connection costs an object and a Set beyond socket.io's own state: the
  // listeners below are shared by every socket (socket.io calls them with
  // `this` = the socket) instead of being closures made per connection.
  function onEvent(this: ChatSocket, event: string, ...args: unknown[]): void {
    const conn = this.data.conn;
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as (res: Ack<object>) => void) : undefined;
    // A connection outlives its token only until its next request. (Checked
    // per event: a timer for a 30-day token would overflow setTimeout.)
    if (sessions.expired(conn.sub.identity)) {
      ack?.(fail('unauthorized', 'session expired, sign in again'));
      this.emit('bye', { reason: 'session_expired' });
      this.disconnect(true);
      return;
    }
    const handler = Object.hasOwn(handlers, event) ? handlers[event as keyof ClientToServerEvents] : undefined;
    if (!handler) {
      ack?.(fail('not_found', `unknown event "${event}"`));
      return;
    }
    // A room's answer is written the moment the room gives it (so it is
    // queued before the room's next broadcast); an answer from the edge
    // itself (a bad payload, a rate limit) when the handler returns.
    let answered = false;
    const respond = (res: Ack<object>) => {
      if (answered) return;
      answered = true;
      ack?.(res);
    };
    handler(conn, args[0], respond).then(respond, (error: unknown) => {
      hooks.handlerFailed?.(event, error);
      respond(fail('unavailable', 'internal error, retry', 1000));
    });
  }

  function onDisconnect(this: ChatSocket, reason: string): void {
    hooks.disconnected?.(this, reason);
    void edge.disconnected(this.data.conn);
  }

  io.on('connection', (socket: ChatSocket) => {
    socket.data.conn = new SocketConnection(socket, socket.data.identity);
    // socket.io puts every socket in a room named by its id; nothing here
    // addresses a socket that way, and the room costs a Set per connection.
    void socket.leave(socket.id);
    hooks.connected?.(socket);
    socket.onAny(onEvent);
    socket.on('disconnect', onDisconnect);
  });
}

/** The edge's view of one socket.io connection; its methods live on the prototype, not in per-connection closures. */
class SocketConnection implements Connection, Subscriber {
  readonly joined = new Set<string>();
  readonly id: string;

  constructor(
    private readonly socket: ChatSocket,
    readonly identity: Identity,
  ) {
    this.id = socket.id;
  }

  get sub(): Subscriber {
    return this;
  }

  subscribe(channel: string): void {
    void this.socket.join(channel);
  }

  unsubscribe(channel: string): void {
    void this.socket.leave(channel);
  }
}
