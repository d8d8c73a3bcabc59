import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { LIMITS, fail } from '../shared/protocol.ts';
import { Sessions, loadSecret } from './auth.ts';
import type { Config } from './config.ts';
import { ChatEdge } from './edge/chat-edge.ts';
import { registerHttpEdge, sendError } from './edge/http-edge.ts';
import { httpHardeningOptions, registerHttpHardening } from './edge/http-hardening.ts';
import { SlowConsumerGuard } from './edge/slow-consumers.ts';
import { attachSocketEdge, type ChatServer } from './edge/socket-edge.ts';
import { Fiber } from './fiber/index.ts';
import { createMetrics, type Metrics, type TransportName } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { RoomRegistry } from './rooms/registry.ts';
import type { Store } from './store/store.ts';

export interface App {
  http: FastifyInstance;
  io: ChatServer;
  rooms: RoomRegistry;
  metrics: Metrics;
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /**
   * Graceful shutdown: refuse new work, tell every client to reconnect, drain
   * every room into the store, close the store. Resolves when all is done.
   */
  close(): Promise<void>;
}

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** The clock sessions are checked against; tests move it forward. */
  now?: () => number;
}

/**
 * Wires HTTP, socket.io, the edge and the rooms around an injected store, so
 * tests run the same server on a MemoryStore or a temporary SQLite file.
 */
export function createApp({ config, store, logger, now = Date.now }: AppDeps): App {
  const root = Fiber.root('server', (error, child) => logger.error({ err: error, fiber: child.name }, 'fiber failed'));
  let accepting = true;

  const http = Fastify({
    // pino's Logger is what Fastify uses internally; its type is only narrower.
    loggerInstance: logger as FastifyBaseLogger,
    // Ajax polling makes request lines noise; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.maxPacketBytes,
    trustProxy: false,
    ...httpHardeningOptions(),
  });

  const io: ChatServer = new Server(http.server, {
    maxHttpBufferSize: LIMITS.maxPacketBytes,
    perMessageDeflate: false,
    // A dead connection (long-polling behind a proxy that holds requests,
    // say) is noticed within 20 s on both sides.
    pingInterval: 10_000,
    pingTimeout: 10_000,
    serveClient: false,
    cors: { origin: false },
  });
  // After socket.io, so its long-polling responses get the security headers too.
  registerHttpHardening(http);

  // Every connection would keep its handshake's IncomingMessage (headers, raw
  // headers, parser leftovers) for as long as it lives; nothing reads it after
  // the handshake (identity comes from the CONNECT packet's auth), so let it
  // go. socket.io then builds `socket.handshake` with empty headers and query.
  io.engine.on('connection', (raw: { request: { headers: object; rawHeaders: string[] } | null; transport: { name: string } }) => {
    const req = raw.request;
    raw.request = null;
    // On a direct WebSocket connection engine.io's upgrade path also leaves the
    // request reachable from listeners on the TCP socket for the connection's
    // life; the upgrade is complete, so empty what it holds.
    if (req && raw.transport.name === 'websocket') {
      req.headers = {};
      req.rawHeaders = [];
    }
  });

  // The registry reports into `metrics` only from room events, which start
  // after construction; the gauges read the registry only when scraped.
  const slow = new SlowConsumerGuard(io, config.maxOutboundBytes, (socketId, bytes) => {
    metrics.slowConsumers.inc();
    logger.warn({ socketId, bytes }, 'disconnecting slow consumer');
  });
  const rooms = new RoomRegistry(
    root,
    store,
    {
      emit: (channel, event, payload) => {
        io.to(channel).emit(event, payload as never);
        slow.check(channel);
      },
    },
    { maxRooms: config.maxRooms, idleMs: config.roomIdleMs, presenceGraceMs: config.presenceGraceMs, maxTurn: config.roomMaxTurn },
    {
      roomFailed: (room, err) => {
        metrics.roomFailures.inc();
        logger.error({ err, room }, 'room fiber failed; it restarts on next use');
      },
      committed: (_room, n) => {
        metrics.messages.inc(n);
        metrics.batchSize.observe(n);
      },
    },
  );

  const sessions = new Sessions(loadSecret(config.sessionSecret, config.dataDir), config.sessionTtlMs, now);
  const metrics = createMetrics({ rooms: () => rooms.size, queued: () => rooms.queued() });
  const edge = new ChatEdge({
    rooms,
    sendLimiter: new RateLimiter(config.limits.sendRate, config.limits.sendBurst),
    joinLimiter: new RateLimiter(config.limits.joinRate, config.limits.joinBurst),
    readLimiter: new RateLimiter(config.limits.readRate, config.limits.readBurst),
  });

  const transportOf = (s: { conn: { transport: { name: string } } }): TransportName =>
    s.conn.transport.name === 'websocket' ? 'websocket' : 'polling';
  const onUpgrade = () => {
    metrics.connections.dec({ transport: 'polling' });
    metrics.connections.inc({ transport: 'websocket' });
  };
  attachSocketEdge(io, edge, sessions, {
    connected: (socket) => {
      const t = transportOf(socket);
      metrics.connections.inc({ transport: t });
      // Only a long-polling connection can upgrade; a WebSocket one carries no listener for it.
      if (t === 'polling') socket.conn.once('upgrade', onUpgrade);
    },
    disconnected: (socket) => metrics.connections.dec({ transport: transportOf(socket) }),
    handlerFailed: (event, err) => logger.error({ err, event }, 'socket handler failed'),
  });
  io.engine.on('connection_error', (err: { code: number; message: string }) => {
    logger.debug({ code: err.code, msg: err.message }, 'engine.io connection refused');
  });

  http.addHook('onRequest', async (req, res) => {
    if (!accepting && req.url.startsWith('/api/')) return sendError(res, fail('unavailable', 'server is restarting', 1000).error);
  });

  registerHttpEdge(http, edge, sessions, new RateLimiter(config.limits.sessionsPerMin / 60, config.limits.sessionsPerMin));

  http.get('/healthz', async (_req, res) =>
    accepting ? res.send({ status: 'ok' }) : res.code(503).send({ status: 'shutting_down' }),
  );
  http.get('/metrics', async (_req, res) =>
    res.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  const hasClient = existsSync(join(config.clientDir, 'index.html'));
  if (hasClient) {
    http.register(fastifyStatic, { root: config.clientDir, wildcard: false, index: 'index.html' });
  }
  http.setNotFoundHandler((req, res) => {
    // Client-side routes (/, /r/<room>) get the app; unknown API paths get a typed 404.
    if (hasClient && req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/socket.io')) {
      return res.type('text/html').sendFile('index.html');
    }
    return sendError(res, fail('not_found', 'Not found').error);
  });

  let closing: Promise<void> | undefined;
  return {
    http,
    io,
    rooms,
    metrics,
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      const addr = http.server.address();
      return typeof addr === 'object' && addr ? addr.port : config.port;
    },
    close() {
      closing ??= (async () => {
        accepting = false;
        // Tell every client why, so it reconnects (and resumes) instead of
        // treating this as an error; then stop serving sockets.
        io.emit('bye', { reason: 'server_shutdown', retryAfterMs: 500 });
        io.disconnectSockets(true);
        // Every room fiber serves what it had queued, committing it.
        await rooms.shutdown();
        await root.cancel('shutdown');
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await http.close();
        await store.close();
      })();
      return closing;
    },
  };
}
