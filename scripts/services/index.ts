/**
 * Throwaway services for tests and `npm run cluster`: PostgreSQL, Redis and
 * HAProxy, each on a free loopback port with a fresh temporary folder, and
 * Fiberchat nodes; all started as our children, stopped by pid, and killed
 * if we exit first.
 * Nothing is installed here: a missing binary throws MissingBinaryError,
 * which names the Debian package to install.
 */
export { HaproxyService, STICKY_COOKIE, haproxyConfig, startHaproxy, type HaproxyBackend, type HaproxyOptions } from './haproxy.ts';
export { PostgresService, postgresBinDir, startPostgres, type PgStopMode, type PostgresOptions } from './postgres.ts';
export { MissingBinaryError, findBinary, freePort, isAlive } from './process.ts';
export { RedisService, redisCommand, redisPing, startRedis, type RedisOptions } from './redis.ts';
export { listeningPort, repoRoot, startNode, type NodeExit, type NodeOptions, type NodeProcess } from './node.ts';
