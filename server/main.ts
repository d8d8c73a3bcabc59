import pino from 'pino';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { fdLimitWarning, openFileLimit } from './fd-limit.ts';
import { describeStore, openStore } from './store/open-store.ts';
import { PgStore } from './store/pg-store.ts';

/**
 * Entry point: configuration from the environment, the store it names
 * (SQLite under DATA_DIR, or PostgreSQL), graceful stop on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fiberchat: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // NODE_ID names this process in the logs of a cluster (npm run cluster sets node-1, node-2, ...).
  const nodeId = config.nodeId;
  const logger = pino({ level: config.logLevel, base: { service: 'fiberchat', ...(nodeId && { node: nodeId }) } });
  const store = openStore(
    config,
    (err) => logger.warn({ err: err.message }, 'a PostgreSQL connection dropped; the pool replaces it'),
    (msg, fields) => logger.info(fields, msg),
  );
  if (store instanceof PgStore) {
    // Fail at start, not at the first message, when PostgreSQL is unreachable or misconfigured.
    await store.ready().catch((err: unknown) => {
      logger.fatal({ store: describeStore(config), err: err instanceof Error ? err.message : String(err) }, 'cannot open the PostgreSQL store');
      process.exit(1);
    });
  }
  const app = createApp({ config, store, logger });
  const port = await app.listen();
  // Tests and scripts that start the server on PORT=0 read the bound port from this line.
  logger.info({ url: `http://localhost:${port}`, port, dataDir: config.dataDir, store: describeStore(config) }, 'listening');
  // Connections are capped per address and per identity; the descriptors must leave room for many addresses at their cap.
  const caps = { perAddress: config.maxConnectionsPerAddress, perIdentity: config.maxConnectionsPerIdentity };
  const fdLimit = openFileLimit();
  logger.info({ openFileLimit: fdLimit ?? 'unknown', caps }, 'connection limits');
  const low = fdLimitWarning(fdLimit, caps);
  if (low) logger.warn(low);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The drain window (DRAIN_MS) comes first; the shutdown's own limit counts after it.
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.drainMs + config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fiberchat: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
