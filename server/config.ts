import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_ROOM_OPTIONS } from './rooms/room.ts';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const positiveInt = (dflt: number) => z.coerce.number().int().positive().default(dflt);

/** Every setting, read from the environment and validated at start. Listed in .env.example. */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: LogLevel.default('info'),
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters').optional(),
  SESSION_TTL_HOURS: positiveInt(24 * 30),
  SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
  /** WAL checkpoints run on a worker thread this often; 0 leaves them to SQLite, inside commits. */
  SQLITE_CHECKPOINT_MS: z.coerce.number().int().min(0).default(1000),
  /** Sends per second (and burst), for each connection and for each identity across its connections. */
  SEND_RATE: positiveInt(20),
  SEND_BURST: positiveInt(40),
  /** Joins per second (and burst), for each connection and for each identity across its connections. */
  JOIN_RATE: positiveInt(5),
  JOIN_BURST: positiveInt(20),
  /** REST reads per second (and burst) per identity and room: the floor under Ajax poll intervals. */
  READ_RATE: positiveInt(5),
  READ_BURST: positiveInt(10),
  /** Sessions one client address may create per minute. */
  SESSION_RATE_PER_MIN: positiveInt(30),
  MAX_ROOMS: positiveInt(10_000),
  ROOM_IDLE_MS: positiveInt(60_000),
  /** Commands a room fiber serves in one turn: its sends are committed in one transaction and broadcast as one packet. 1 turns batching off. */
  ROOM_MAX_TURN: z.coerce.number().int().min(1).max(DEFAULT_ROOM_OPTIONS.mailboxCapacity).default(DEFAULT_ROOM_OPTIONS.maxTurn),
  /** How long a dropped user stays listed as present, so a quick reconnect does not flap. */
  PRESENCE_GRACE_MS: positiveInt(5_000),
  /** Bytes queued to one connection before it is disconnected as a slow consumer. */
  MAX_OUTBOUND_BYTES: positiveInt(1024 * 1024),
  /** Milliseconds the server waits for rooms to drain on SIGTERM before exiting anyway. */
  SHUTDOWN_TIMEOUT_MS: positiveInt(5_000),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  dbFile: string;
  clientDir: string;
  logLevel: z.infer<typeof LogLevel>;
  sessionSecret: string | undefined;
  sessionTtlMs: number;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  sqliteCheckpointMs: number;
  limits: {
    sendRate: number;
    sendBurst: number;
    joinRate: number;
    joinBurst: number;
    readRate: number;
    readBurst: number;
    sessionsPerMin: number;
  };
  maxRooms: number;
  roomIdleMs: number;
  roomMaxTurn: number;
  presenceGraceMs: number;
  maxOutboundBytes: number;
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment, or throws a ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const r = Env.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = r.data;
  const dataDir = resolve(cwd, e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    dbFile: resolve(dataDir, 'fiberchat.db'),
    clientDir: resolve(import.meta.dirname, '..', 'dist', 'client'),
    logLevel: e.LOG_LEVEL,
    sessionSecret: e.SESSION_SECRET,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3_600_000,
    sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
    sqliteCheckpointMs: e.SQLITE_CHECKPOINT_MS,
    limits: {
      sendRate: e.SEND_RATE,
      sendBurst: e.SEND_BURST,
      joinRate: e.JOIN_RATE,
      joinBurst: e.JOIN_BURST,
      readRate: e.READ_RATE,
      readBurst: e.READ_BURST,
      sessionsPerMin: e.SESSION_RATE_PER_MIN,
    },
    maxRooms: e.MAX_ROOMS,
    roomIdleMs: e.ROOM_IDLE_MS,
    roomMaxTurn: e.ROOM_MAX_TURN,
    presenceGraceMs: e.PRESENCE_GRACE_MS,
    maxOutboundBytes: e.MAX_OUTBOUND_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
