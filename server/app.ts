import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LIMITS, PROTOCOL_VERSION, TIMING, fail, type EventOf } from '../shared/protocol.ts';
import { accountHandlers } from './accounts/account-handlers.ts';
import { HashGate } from './accounts/hash-gate.ts';
import { LiveSessions } from './accounts/live-sessions.ts';
import { passkeyHandlers } from './accounts/passkeys.ts';
import { SessionService } from './accounts/session-service.ts';
import { Sessions, loadSecret } from './auth.ts';
import { RateLimiter } from './rate-limit.ts';
import { SERVER_VERSION } from './build-info.ts';
import { roomOptions, type Config } from './config.ts';
import { ChatEdge } from './edge/chat-edge.ts';
import { RoomAccess } from './edge/access.ts';
import { createBudgets } from './edge/budgets.ts';
import { addressKey, canonicalAddress, clientAddressResolver } from './edge/client-address.ts';
import { ConnectionCaps } from './edge/connection-caps.ts';
import { ExpiryWatch } from './edge/expiry-watch.ts';
import { UserNotices } from './edge/notices.ts';
import { capTcpPerAddress } from './edge/tcp-cap.ts';
import { registerHttpEdge, sendError } from './edge/http-edge.ts';
import { httpHardeningOptions, registerHttpHardening } from './edge/http-hardening.ts';
import type { Link } from './edge/link.ts';
import { createSocketIoCarrier, type SocketIoCarrier } from './edge/socketio/carrier.ts';
import { registerSse } from './edge/sse/sse-edge.ts';
import { RedisBus } from './cluster/bus.ts';
import { Fiber } from './fiber/index.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createOps } from './ops/ops.ts';
import { RecentPollers } from './ops/recent-pollers.ts';
import { DiskBlobStore } from './files/disk-blobs.ts';
import { FileService, ORPHAN_AFTER_MS } from './files/file-service.ts';
import { registerFileRoutes } from './files/file-routes.ts';
import { PgBlobStore } from './files/pg-blobs.ts';
import { UploadBudget } from './files/upload-budget.ts';
import { parseS3Url, S3BlobStore } from './files/s3-blobs.ts';
import { PgStore } from './store/pg-store.ts';
import { RoomRegistry } from './rooms/registry.ts';
import { TailCache } from './rooms/tail-cache.ts';
import type { Store } from './store/store.ts';

export interface App {
  http: FastifyInstance;
  /** The WebSocket and long-polling carriers (socket.io). */
  socketIo: SocketIoCarrier;
  rooms: RoomRegistry;
  metrics: Metrics;
  /** Uploaded files (server/files/). */
  files: FileService;
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

export { UNAUTHENTICATED_TIMEOUT_MS } from './edge/socketio/carrier.ts';
/** TCP connections per address allowed per socket connection of the cap: long-polling uses two (the poll and the send). */
export const TCP_PER_SOCKET_CAP = 2;
/** Ajax clients remembered for the connections gauge (each a few dozen bytes); past it the longest silent is forgotten. */
const MAX_AJAX_POLLERS = 100_000;
/** How often the deployment's stored bytes are read again (/metrics, /ops; other nodes' uploads show within this). */
const FILES_USAGE_REFRESH_MS = 10_000;
/** How often uploads never sent are looked for (each is collected an hour after its upload). */
const ORPHAN_SWEEP_MS = 600_000;
/** How often expired session rows are deleted. */
const SESSION_PRUNE_MS = 3_600_000;
/** Failed sign-ins allowed at once, per address and per account, before the hourly rates apply. */
const LOGIN_FAILURE_BURST = 10;

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/**
 * Wires HTTP, socket.io, the edge and the rooms around an injected store, so
 * tests run the same server on a MemoryStore or a temporary SQLite file.
 */
export function createApp({ config, store, logger, now = Date.now }: AppDeps): App {
  const root = Fiber.root('server', (error, child) => logger.error({ err: error, fiber: child.name }, 'fiber failed'));
  let accepting = true;
  let draining = false;

  const http = Fastify({
    // pino's Logger is what Fastify uses internally; its type is only narrower.
    loggerInstance: logger as FastifyBaseLogger,
    // Ajax polling makes request lines noise; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.maxPacketBytes,
    // Fastify's request.ip and the socket edge derive the client address from the same list.
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
    ...httpHardeningOptions(),
  });

  const resolveAddress = clientAddressResolver(config.trustProxy);
  const socketIo = createSocketIoCarrier(http.server, {
    addressOf: (peer, xff) => addressKey(resolveAddress(peer, xff)),
    refused: (code, message) => logger.debug({ code, msg: message }, 'engine.io connection refused'),
  });
  // After socket.io, so its long-polling responses get the security headers too.
  registerHttpHardening(http);
  // Behind a trusted proxy every TCP connection is the proxy's; it caps clients itself.
  if (config.trustProxy === false) {
    capTcpPerAddress(http.server, TCP_PER_SOCKET_CAP * config.maxConnectionsPerAddress, (address) => {
      metrics.refusals.inc({ reason: 'tcp_cap' });
      ops.refused({ address });
      logger.debug({ address }, 'TCP connection over the per-address cap refused');
    });
  }

  // Names this node to its peers, on /metrics and on the operations page.
  const nodeId = config.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  // Several nodes: Redis carries hints, presence and typing between them (the store orders).
  const bus = config.redisUrl
    ? new RedisBus(config.redisUrl, nodeId, {
        state: (up, err) => {
          metrics.busUp.set(up ? 1 : 0);
          if (!up) logger.warn({ err: err?.message }, 'Redis unreachable; nodes catch up from the store');
        },
        failed: (op, err) => {
          metrics.failures.inc({ kind: 'bus' });
          logger.warn({ err, op }, 'bus: a Redis call failed; peers catch up from the store');
        },
      })
    : undefined;

  // The registry reports into `metrics` only from room events, which start
  // after construction; the gauges read the registry only when scraped.
  // Live rooms' newest messages, under one budget for the process (0 turns it off).
  const tailCache =
    config.tailCacheBytes > 0
      ? new TailCache(config.tailCacheBytes, {
          read: (result) => metrics.tailCacheReads.inc({ result }),
          evicted: (n) => metrics.tailCacheEvictions.inc(n),
        })
      : undefined;
  const rooms = new RoomRegistry(
    root,
    store,
    { ...roomOptions(config), bus, tailCache },
    {
      broadcast: (_room, frame, subscribers) => {
        // Deliveries: each message of the batch, once per subscriber of the room on this node.
        if (frame.event === 'messages' && subscribers > 0) metrics.deliveries.inc((frame.payload as EventOf<'messages'>).messages.length * subscribers);
      },
      roomFailed: (room, err) => {
        metrics.roomFailures.inc();
        logger.error({ err, room }, 'room fiber failed; it restarts on next use');
      },
      failed: (room, kind, err) => {
        metrics.failures.inc({ kind });
        logger.error({ err, room, kind }, 'store call failed; clients were answered unavailable');
      },
      startRefused: () => metrics.refusals.inc({ reason: 'room_budget' }),
      committed: (room, n) => {
        metrics.messages.inc(n);
        metrics.batchSize.observe(n);
        ops.committed(room, n);
      },
    },
  );

  const tokens = new Sessions(loadSecret(config.sessionSecret, config.dataDir), config.sessionTtlMs, now);
  const sessions = new SessionService(store, tokens, bus, now, (err) => {
    metrics.failures.inc({ kind: 'session' });
    logger.warn({ err }, 'recording a session\'s last use failed');
  });
  // A session ended here or on another node: its connections here are told and closed at once.
  const live = new LiveSessions<Link>((link) => link.close({ reason: 'session_revoked' }));
  sessions.onEnded((_userId, ids) => {
    metrics.sessionsEnded.inc(ids.length);
    live.end(ids);
  });
  const pruneSessions = setInterval(() => {
    store.pruneSessions(now()).catch((err: unknown) => logger.warn({ err }, 'pruning expired sessions failed'));
  }, SESSION_PRUNE_MS);
  pruneSessions.unref();
  const accountEvents = {
    registered: (how: 'password' | 'passkey' | 'claim') => metrics.accounts.inc({ how }),
    signInFailed: () => metrics.signInFailures.inc(),
  };
  const accounts = {
    ...accountHandlers({
      store,
      sessions,
      gate: new HashGate(),
      failuresByAddress: new RateLimiter(config.loginFailuresPerHourAddress / 3600, LOGIN_FAILURE_BURST),
      failuresByAccount: new RateLimiter(config.loginFailuresPerHourAccount / 3600, LOGIN_FAILURE_BURST),
      deletedMessages: config.deletedUserMessages,
      removeMessage: (room, seq, author) =>
        new Promise<void>((resolve, reject) =>
          rooms.dispatch(room, {
            kind: 'send',
            author,
            // One clientId per message: a retried deletion stores one tombstone.
            entry: { kind: 'delete', clientId: `account-delete-${seq}`, text: '', target: seq },
            reply: (ack) => (ack.ok || ack.error.code === 'not_found' ? resolve() : reject(new Error(ack.error.message))),
          }),
        ),
      changedOutsideLog: (changed) => {
        for (const room of changed) tailCache?.drop(room);
      },
      ...accountEvents,
    }),
    ...passkeyHandlers({ store, sessions, ...accountEvents }),
  };
  const pollers = new RecentPollers(TIMING.pollLeaseMs, MAX_AJAX_POLLERS);
  // Read by the metrics below; the file service (made after them) keeps it.
  let filesStoredBytes = (): number => 0;
  const metrics = createMetrics({
    filesStoredBytes: () => filesStoredBytes(),
    rooms: () => rooms.size,
    queued: () => rooms.queued(),
    deepest: () => rooms.deepest(),
    ajaxClients: () => pollers.count(),
    draining: () => draining,
    tailCache: () => ({ bytes: tailCache?.bytes ?? 0, rooms: tailCache?.rooms ?? 0 }),
    build: { version: SERVER_VERSION, protocol: PROTOCOL_VERSION, node: nodeId },
  });
  store.observeCommits?.((n, _drafts, waitedMs) => {
    metrics.storeCommitRooms.observe(n);
    metrics.storeCommitWait.observe(waitedMs / 1000);
  });
  const ops = createOps({
    token: config.opsToken,
    redisUrl: config.redisUrl,
    nodeId,
    clientDir: config.clientDir,
    http,
    metrics,
    rooms,
    logger,
    state: () => (!accepting ? 'stopping' : draining ? 'draining' : 'serving'),
    addressOf: (req) => addressKey(canonicalAddress(req.ip)),
    moderation: store.moderation,
  });
  const notices = new UserNotices(bus);
  const access = new RoomAccess(store);
  // Files' bytes: in a bucket when one is set; else beside the SQLite file for one process, or in PostgreSQL, which
  // every node reaches, for a cluster.
  const blobs = config.filesS3Url
    ? new S3BlobStore(parseS3Url(config.filesS3Url), join(config.dataDir, 'files-spool'))
    : store instanceof PgStore
      ? store.blobs()
      : new DiskBlobStore(join(config.dataDir, 'files'));
  const files = new FileService({
    blobs,
    records: store.files,
    store,
    access,
    limits: {
      enabled: config.uploads,
      maxBytes: config.maxUploadBytes,
      perIdentityDay: config.uploadBytesPerDay,
      totalBytes: config.filesTotalBytes,
    },
    addressBytes: new RateLimiter(config.uploadBytesPerDayAddress / 86_400, config.uploadBytesPerDayAddress),
    now,
    stored: (bytes) => {
      metrics.uploads.inc({ result: 'stored' });
      metrics.uploadBytes.inc(bytes);
    },
  });
  const edge = new ChatEdge({
    files,
    rooms,
    accounts,
    accountFailed: (name, err) => {
      metrics.failures.inc({ kind: 'account' });
      logger.error({ err, command: name }, 'account command failed');
    },
    store,
    access,
    notices,
    bus,
    admins: config.admins,
    ...createBudgets(config),
    refused: (reason, caller) => {
      metrics.refusals.inc({ reason });
      ops.refused({ address: caller.address, identity: caller.identity });
    },
    answered: (name, caller, seconds, ok) => {
      if (name === 'send' && ok) metrics.sendAck.observe(seconds);
      // An Ajax client is connected while it polls: a REST read of a room's messages.
      if (name === 'page' && !caller.conn && caller.identity) pollers.polled(caller.identity.userId);
    },
    searchTimeMs: config.searchTimeMs,
    searchFailed: (err) => {
      metrics.failures.inc({ kind: 'search' });
      logger.error({ err }, 'search failed');
    },
    reported: (r) => metrics.transportReports.inc({ event: r.event, from: r.from, to: r.to, reason: r.reason ?? 'none' }),
  });
  const uploadBudget = new UploadBudget({
    minBytesPerSec: config.uploadMinBytesPerSec,
    maxMs: config.uploadTimeoutMs,
    perIdentity: config.uploadsPerIdentity,
    perAddress: config.uploadsPerAddress,
  });
  registerFileRoutes(http, { files, blobs, sessions, budget: uploadBudget }, {
    refused: (why) => metrics.uploads.inc({ result: why }),
    failed: (err) => {
      metrics.failures.inc({ kind: 'files' });
      logger.error({ err }, 'a file operation failed');
    },
  });
  filesStoredBytes = () => files.storedBytes;
  const refreshUsage = (): void => {
    files.refreshUsage().catch((err: unknown) => {
      metrics.failures.inc({ kind: 'files' });
      logger.warn({ err }, 'reading the bytes of stored files failed');
    });
  };
  refreshUsage();
  const usageRefresh = setInterval(refreshUsage, FILES_USAGE_REFRESH_MS);
  usageRefresh.unref();
  const collectOrphans = setInterval(() => {
    files
      .collectOrphans()
      .then(() => (blobs instanceof PgBlobStore ? blobs.sweep(ORPHAN_AFTER_MS) : 0))
      .then(() => files.refreshUsage())
      .catch((err: unknown) => {
        metrics.failures.inc({ kind: 'files' });
        logger.warn({ err }, 'collecting unsent uploads failed');
      });
  }, ORPHAN_SWEEP_MS);
  collectOrphans.unref();
  const caps = new ConnectionCaps({ perAddress: config.maxConnectionsPerAddress, perIdentity: config.maxConnectionsPerIdentity });
  // A connection whose token expires is told so and closed at that moment, even if it only listens.
  const expiry = new ExpiryWatch<Link>((link) => link.close({ reason: 'session_expired' }), (link) => link.open, now);

  socketIo.attach({
    edge,
    sessions,
    caps,
    maxInFlight: config.maxInFlight,
    maxOutboundBytes: config.maxOutboundBytes,
    frames: config.broadcastFrames,
    hooks: {
      connected: (link) => {
        notices.connected(link);
        live.add(link.identity.sessionId, link);
        const expiresAt = link.identity.expiresAt;
        if (expiresAt !== undefined) expiry.add(link, expiresAt);
        metrics.connections.inc({ transport: link.transport });
      },
      upgraded: () => {
        metrics.connections.dec({ transport: 'long-polling' });
        metrics.connections.inc({ transport: 'websocket' });
      },
      disconnected: (link, transport) => {
        expiry.forget();
        notices.disconnected(link);
        live.remove(link.identity.sessionId, link);
        metrics.connections.dec({ transport });
      },
      overInFlight: (link) => {
        metrics.refusals.inc({ reason: 'in_flight' });
        ops.refused({ address: link.address, identity: link.identity });
      },
      capped: (refused, address, identity) => {
        metrics.refusals.inc({ reason: `connection_cap_${refused}` });
        ops.refused({ address, identity });
        logger.debug({ refused, address }, 'socket connection over a cap refused');
      },
      handlerFailed: (event, err) => {
        metrics.failures.inc({ kind: 'handler' });
        logger.error({ err, event }, 'socket handler failed');
      },
      evicted: (socketId, bytes) => {
        metrics.slowConsumers.inc();
        logger.warn({ socketId, bytes }, 'disconnecting slow consumer');
      },
    },
  });

  const sse = registerSse(http, {
    edge,
    sessions,
    store,
    caps,
    // Each ticket is a store write: budgeted per identity.
    tickets: new RateLimiter(config.streamTicketRate, config.streamTicketRate * 10),
    maxOutboundBytes: config.maxOutboundBytes,
    now,
    hooks: {
      connected: (link) => {
        notices.connected(link);
        live.add(link.identity.sessionId, link);
        const expiresAt = link.identity.expiresAt;
        if (expiresAt !== undefined) expiry.add(link, expiresAt);
        metrics.connections.inc({ transport: 'sse' });
      },
      disconnected: (link) => {
        expiry.forget();
        notices.disconnected(link);
        live.remove(link.identity.sessionId, link);
        metrics.connections.dec({ transport: 'sse' });
      },
      refused: (reason, address, identity) => {
        metrics.refusals.inc({ reason });
        ops.refused({ address, identity });
      },
      evicted: (link, bytes) => {
        metrics.slowConsumers.inc();
        logger.warn({ stream: link.id, bytes }, 'disconnecting slow consumer');
      },
      failed: (what, err) => {
        metrics.failures.inc({ kind: 'session' });
        logger.error({ err, what }, 'stream ticket check failed');
      },
    },
  });

  http.addHook('onRequest', async (req, res) => {
    if (!accepting && req.url.startsWith('/api/')) return sendError(res, fail('unavailable', 'server is restarting', 1000).error);
  });

  registerHttpEdge(http, edge, sessions, config.publicOrigin);

  // 503 from the first moment of a shutdown, while the node keeps serving through DRAIN_MS: a balancer
  // that checks health moves new traffic away before anything is refused.
  http.get('/healthz', async (_req, res) =>
    accepting && !draining ? res.send({ status: 'ok' }) : res.code(503).send({ status: draining && accepting ? 'draining' : 'shutting_down' }),
  );
  // Not public: with METRICS_TOKEN a bearer token is required; without it, only loopback clients are answered.
  http.get('/metrics', async (req, res) => {
    const allowed =
      config.metricsToken !== undefined
        ? req.headers.authorization === `Bearer ${config.metricsToken}`
        : isLoopback(canonicalAddress(req.ip));
    if (!allowed) return sendError(res, fail(config.metricsToken ? 'unauthorized' : 'not_found', config.metricsToken ? 'a metrics token is required' : 'Not found').error);
    return res.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

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
    socketIo,
    rooms,
    metrics,
    files,
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      const addr = http.server.address();
      return typeof addr === 'object' && addr ? addr.port : config.port;
    },
    close() {
      closing ??= (async () => {
        draining = true;
        if (config.drainMs > 0) await new Promise((r) => setTimeout(r, config.drainMs));
        accepting = false;
        expiry.stop();
        clearInterval(pruneSessions);
        clearInterval(collectOrphans);
        clearInterval(usageRefresh);
        if (blobs instanceof S3BlobStore) blobs.close();
        // Tell every client why, so it reconnects (and resumes) instead of
        // treating this as an error; then stop serving sockets.
        socketIo.closeAll({ reason: 'server_shutdown', retryAfterMs: 500 });
        sse.closeAll({ reason: 'server_shutdown', retryAfterMs: 500 });
        sse.stop();
        // Every room fiber serves what it had queued, committing it.
        await rooms.shutdown();
        await root.cancel('shutdown');
        // Open operations pages hold a response open; they end here, before the server waits for its connections.
        ops.close();
        // A keep-alive connection whose streamed response (a file) ends after the close began is idle
        // only then, and would hold the close for the keep-alive timeout: closed as soon as it is.
        const idle = setInterval(() => http.server.closeIdleConnections(), 100);
        try {
          await socketIo.close();
          await http.close();
        } finally {
          clearInterval(idle);
        }
        await bus?.close();
        await store.close();
      })();
      return closing;
    },
  };
}
