import type { Server, Socket } from 'socket.io';
import { fail, type Ack, type ClientToServerEvents, type ServerToClientEvents } from '../../shared/protocol.ts';
import type { Sessions } from '../auth.ts';
import type { Identity } from '../rooms/types.ts';
import type { ChatEdge, Connection } from './chat-edge.ts';

export interface SocketData {
  identity: Identity;
}

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

type Handler = (conn: Connection, payload: unknown) => Promise<Ack<object>>;

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
    next();
  });

  // Keyed by the event map, so a renamed event fails the build here too.
  const handlers: { [E in keyof ClientToServerEvents]: Handler } = {
    join: (conn, p) => edge.join(conn, p),
    leave: (conn, p) => edge.leave(conn, p),
    send: (conn, p) => edge.send(conn.sub.identity, p, conn.sub.id),
    history: (conn, p) => edge.history(conn.sub.identity, p),
    typing: (conn, p) => edge.typing(conn, p),
    ping: (_conn, p) => edge.ping(p),
  };

  io.on('connection', (socket: ChatSocket) => {
    const identity = socket.data.identity;
    const conn: Connection = {
      sub: {
        id: socket.id,
        identity,
        subscribe: (channel) => void socket.join(channel),
        unsubscribe: (channel) => void socket.leave(channel),
      },
      joined: new Set(),
    };
    hooks.connected?.(socket);

    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (res: Ack<object>) => void) : undefined;
      // A connection outlives its token only until its next request. (Checked
      // per event: a timer for a 30-day token would overflow setTimeout.)
      if (sessions.expired(identity)) {
        ack?.(fail('unauthorized', 'session expired, sign in again'));
        socket.emit('bye', { reason: 'session_expired' });
        socket.disconnect(true);
        return;
      }
      const handler = Object.hasOwn(handlers, event) ? handlers[event as keyof ClientToServerEvents] : undefined;
      if (!handler) {
        ack?.(fail('not_found', `unknown event "${event}"`));
        return;
      }
      handler(conn, args[0]).then(
        (res) => ack?.(res),
        (error: unknown) => {
          hooks.handlerFailed?.(event, error);
          ack?.(fail('unavailable', 'internal error, retry', 1000));
        },
      );
    });

    socket.on('disconnect', (reason) => {
      hooks.disconnected?.(socket, reason);
      void edge.disconnected(conn);
    });
  });
}
