import type { Server as HttpServer } from 'node:http';
import { Socket as EngineSocket } from 'engine.io';
import { Server } from 'socket.io';
import { LIMITS, TIMING, type EventOf } from '../../../shared/protocol.ts';
import type { SessionService } from '../../accounts/session-service.ts';
import type { ChatEdge } from '../chat-edge.ts';
import type { ConnectionCaps } from '../connection-caps.ts';
import { captureClientAddress, releaseHandshakeRequest, shareTransportListeners, transportOf, trimReceiverAfterFrames } from './engine-internals.ts';
import { shareHeartbeats } from './heartbeats.ts';
import { SlowConsumerGuard } from './slow-consumers.ts';
import { attachSocketEdge, type ChatServer, type SocketEdgeHooks } from './socket-edge.ts';

/** An unauthenticated socket.io connection is dropped after this (its CONNECT never came or was refused). */
export const UNAUTHENTICATED_TIMEOUT_MS = 5_000;

/** What the carrier needs before it can accept anything: how to read a connection's address. */
export interface SocketIoServerOptions {
  /** The client's address key from the handshake's TCP peer and X-Forwarded-For. */
  addressOf(peer: string | undefined, xff: string | string[] | undefined): string;
  /** engine.io refused a connection before socket.io saw it. */
  refused?(code: number, message: string): void;
}

/** How connections are served, once the edge exists. */
export interface SocketIoOptions {
  edge: ChatEdge;
  sessions: Pick<SessionService, 'authenticate' | 'expired'>;
  caps: ConnectionCaps;
  maxInFlight: number;
  /** Bytes queued to one connection past which it is cut as a slow consumer. */
  maxOutboundBytes: number;
  /** BROADCAST_FRAMES: `direct` writes WebSocket frames to the TCP socket when it can; `engine` hands every packet to engine.io. */
  frames: 'direct' | 'engine';
  hooks: SocketEdgeHooks & {
    /** A slow consumer was cut. */
    evicted?(socketId: string, bytes: number): void;
  };
}

/** The WebSocket and long-polling carriers, as the rest of the server sees them. */
export interface SocketIoCarrier {
  /** socket.io's server: for tests of its internals, and nothing else in the server. */
  readonly io: ChatServer;
  /** Open connections. */
  readonly size: number;
  /** Starts serving connections through `opts.edge` (once). */
  attach(opts: SocketIoOptions): void;
  /** Tells every connection why (`bye`) and closes it. */
  closeAll(bye: EventOf<'bye'>): void;
  /** Stops accepting and closes what is left. */
  close(): Promise<void>;
}

/**
 * socket.io and engine.io on `http`: the server's options, the per-connection
 * trimming of engine.io's objects, then (`attach`) the slow-consumer guard
 * and the socket edge. Everything that names socket.io, engine.io or `ws` is
 * in this folder. Made before the HTTP hardening is registered: socket.io
 * moves the server's request listeners behind its own.
 */
export function createSocketIoCarrier(http: HttpServer, server: SocketIoServerOptions): SocketIoCarrier {
  // Before the first connection: engine.io arms a connection's first heartbeat in its constructor.
  if (!shareHeartbeats(EngineSocket)) throw new Error('engine.io changed: Socket#schedulePing or #resetPingTimeout is gone (see heartbeats.ts)');
  if (!shareTransportListeners(EngineSocket)) throw new Error('engine.io changed: Socket#setTransport is gone (see engine-internals.ts)');
  const io: ChatServer = new Server(http, {
    maxHttpBufferSize: LIMITS.maxPacketBytes,
    perMessageDeflate: false,
    // A dead connection (long-polling behind a proxy that holds requests,
    // say) is noticed within 20 s on both sides.
    pingInterval: TIMING.heartbeatIntervalMs,
    pingTimeout: TIMING.heartbeatTimeoutMs,
    serveClient: false,
    cors: { origin: false },
    // A connection that has not authenticated within this is dropped (socket.io's default is 45 s).
    connectTimeout: UNAUTHENTICATED_TIMEOUT_MS,
  });
  io.engine.on('connection', (conn: unknown) => {
    captureClientAddress(conn, server.addressOf);
    releaseHandshakeRequest(conn);
    if (transportOf(conn) === 'websocket') trimReceiverAfterFrames(conn);
  });
  io.engine.on('connection_error', (err: { code: number; message: string }) => server.refused?.(err.code, err.message));
  let attached = false;
  // socket.io's own `io.emit` walks its room tables, which hold no socket here (see `forgetRoomTable`).
  const sockets = io.of('/').sockets;
  return {
    io,
    get size() {
      return sockets.size;
    },
    attach(opts) {
      if (attached) throw new Error('the socket.io carrier is attached already');
      attached = true;
      const guard = new SlowConsumerGuard(opts.maxOutboundBytes, opts.hooks.evicted);
      attachSocketEdge(io, opts.edge, opts.sessions, { caps: opts.caps, maxInFlight: opts.maxInFlight, guard }, opts.hooks, opts.frames);
    },
    closeAll(bye) {
      for (const socket of [...sockets.values()]) socket.data.conn.close(bye);
    },
    close: () => new Promise<void>((resolve) => io.close(() => resolve())),
  };
}
