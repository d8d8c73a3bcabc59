import pino from 'pino';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { SqliteStore } from './store/sqlite-store.ts';

/** Entry point: configuration from the environment, SQLite under DATA_DIR, graceful stop on SIGINT/SIGTERM. */
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
  const logger = pino({ level: config.logLevel, base: { service: 'fiberchat' } });
  const store = new SqliteStore({
    file: config.dbFile,
    synchronous: config.sqliteSynchronous,
    checkpointEveryMs: config.sqliteCheckpointMs,
  });
  const app = createApp({ config, store, logger });
  const port = await app.listen();
  // Tests and scripts that start the server on PORT=0 read the bound port from this line.
  logger.info({ url: `http://localhost:${port}`, port, dataDir: config.dataDir }, 'listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
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
