import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { LIMITS, TIMING, fail, type Budget } from '../shared/protocol.ts';
import { Sessions, loadSecret } from './auth.ts';
import { roomOptions, type Config } from './config.ts';
import { ChatEdge } from './edge/chat-edge.ts';
import { releaseHandshakeRequest, transportOf } from './edge/engine-internals.ts';
import { registerHttpEdge, sendError } from './edge/http-edge.ts';
import { httpHardeningOptions, registerHttpHardening } from './edge/http-hardening.ts';
import { SlowConsumerGuard } from './edge/slow-consumers.ts';
import { attachSocketEdge, type ChatServer } from './edge/socket-edge.ts';
import { Fiber } from './fiber/index.ts';
import { createMetrics, type Metrics } from './metrics.ts';
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
    pingInterval: TIMING.heartbeatIntervalMs,
    pingTimeout: TIMING.heartbeatTimeoutMs,
    serveClient: false,
    cors: { origin: false },
  });
  // After socket.io, so its long-polling responses get the security headers too.
  registerHttpHardening(http);

  io.engine.on('connection', releaseHandshakeRequest);

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
        // The event map types each emit; the broadcaster's own signature already checked this pair.
        (io.to(channel).emit as (ev: string, p: unknown) => boolean)(event, payload);
        slow.check(channel);
      },
    },
    roomOptions(config),
    {
      roomFailed: (room, err) => {
        metrics.roomFailures.inc();
        logger.error({ err, room }, 'room fiber failed; it restarts on next use');
      },
      failed: (room, kind, err) => {
        metrics.failures.inc({ kind });
        logger.error({ err, room, kind }, 'store call failed; clients were answered unavailable');
      },
      committed: (_room, n) => {
        metrics.messages.inc(n);
        metrics.batchSize.observe(n);
      },
    },
  );

  const sessions = new Sessions(loadSecret(config.sessionSecret, config.dataDir), config.sessionTtlMs, now);
  const metrics = createMetrics({ rooms: () => rooms.size, queued: () => rooms.queued() });
  const limiters: Record<Budget, RateLimiter> = {
    session: new RateLimiter(config.sessionsPerMin / 60, config.sessionsPerMin),
    join: new RateLimiter(config.joinRate, config.joinBurst),
    send: new RateLimiter(config.sendRate, config.sendBurst),
    read: new RateLimiter(config.readRate, config.readBurst),
    typing: new RateLimiter(config.typingRate, config.typingRate * 2),
    ping: new RateLimiter(config.pingRate, config.pingRate * 2),
  };
  const edge = new ChatEdge({ rooms, sessions, limiters });

  const onUpgrade = () => {
    metrics.connections.dec({ transport: 'long-polling' });
    metrics.connections.inc({ transport: 'websocket' });
  };
  attachSocketEdge(io, edge, sessions, {
    connected: (socket) => {
      const t = transportOf(socket.conn);
      metrics.connections.inc({ transport: t });
      // Only a long-polling connection can upgrade; a WebSocket one carries no listener for it.
      if (t === 'long-polling') socket.conn.once('upgrade', onUpgrade);
    },
    disconnected: (socket) => metrics.connections.dec({ transport: transportOf(socket.conn) }),
    handlerFailed: (event, err) => {
      metrics.failures.inc({ kind: 'handler' });
      logger.error({ err, event }, 'socket handler failed');
    },
  });
  io.engine.on('connection_error', (err: { code: number; message: string }) => {
    logger.debug({ code: err.code, msg: err.message }, 'engine.io connection refused');
  });

  http.addHook('onRequest', async (req, res) => {
    if (!accepting && req.url.startsWith('/api/')) return sendError(res, fail('unavailable', 'server is restarting', 1000).error);
  });

  registerHttpEdge(http, edge, sessions);

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
