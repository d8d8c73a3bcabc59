/**
 * Every setting, declared once: its environment variable, type, default,
 * bounds and one-line meaning. The server, the room fibers, the registry and
 * the edge read their values from here; `.env.example` and the README's
 * settings table are generated from this table (`npm run docs`) and a
 * test fails when they drift.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseS3Url } from './files/s3-blobs.ts';
import { parseTrustProxy, type TrustProxy } from './edge/client-address.ts';

interface SettingSpec<T> {
  env: string;
  /** Parses the environment's string; undefined means unset (the default applies). */
  schema: z.ZodType<T, string>;
  default: T;
  /** What it does, for people: one line in .env.example and the README. */
  meaning: string;
  /** Shown in docs instead of the default when the default is not a fixed value. */
  docDefault?: string;
}

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** A whole number from the environment, within bounds. */
function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** On or off from the environment: 1/0, true/false, on/off, yes/no. */
function flag() {
  return z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'], { message: 'must be on or off (1/0, true/false, yes/no)' }))
    .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const SETTINGS = {
  port: setting({ env: 'PORT', schema: int(0, 65535), default: 3000, meaning: 'HTTP port for the chat, the REST API and socket.io (0: any free port, logged at start)' }),
  host: setting({ env: 'HOST', schema: z.string().min(1), default: '0.0.0.0', meaning: 'bind address' }),
  dataDir: setting({ env: 'DATA_DIR', schema: z.string().min(1), default: './data', meaning: 'folder (created 0700) for the SQLite database and the generated session secret' }),
  logLevel: setting({ env: 'LOG_LEVEL', schema: z.enum(LOG_LEVELS), default: 'info' as (typeof LOG_LEVELS)[number], meaning: `pino log level (${LOG_LEVELS.join(' | ')}); message text is never logged` }),
  databaseUrl: setting<string | undefined>({
    env: 'DATABASE_URL',
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    default: undefined,
    docDefault: 'unset',
    meaning: 'PostgreSQL connection URL (postgres://user:pass@host:port/db); unset: SQLite under DATA_DIR, one process',
  }),
  databasePoolSize: setting({
    env: 'DATABASE_POOL_SIZE',
    schema: int(1, 1000),
    default: 10,
    meaning: 'PostgreSQL connections per node at most (commits and reads in flight); PostgreSQL\'s max_connections must cover every node\'s',
  }),
  redisUrl: setting<string | undefined>({
    env: 'REDIS_URL',
    schema: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'),
    default: undefined,
    docDefault: 'unset',
    meaning: 'Redis URL (redis://host:port) for cross-node hints, presence and typing; needs DATABASE_URL',
  }),
  nodeId: setting<string | undefined>({
    env: 'NODE_ID',
    schema: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -'),
    default: undefined,
    docDefault: 'unset',
    meaning: 'names this node in logs and on /metrics when several share one database (npm run cluster sets node-1, node-2, …)',
  }),
  trustProxy: setting<TrustProxy>({
    env: 'TRUST_PROXY',
    schema: z.string().transform((v, ctx) => {
      try {
        return parseTrustProxy(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    }),
    default: false,
    docDefault: 'off',
    meaning: 'proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, loopback, linklocal, uniquelocal; comma-separated); off: the TCP peer is the client',
  }),
  metricsToken: setting<string | undefined>({
    env: 'METRICS_TOKEN',
    schema: z.string().min(16, 'must be at least 16 characters'),
    default: undefined,
    docDefault: 'unset',
    meaning: 'bearer token that /metrics requires; unset: /metrics answers loopback clients only',
  }),
  opsToken: setting<string | undefined>({
    env: 'OPS_TOKEN',
    schema: z.string().min(16, 'must be at least 16 characters'),
    default: undefined,
    docDefault: 'unset',
    meaning: 'operator token for the live operations page /ops (typed into the page, or a bearer token for /api/ops/*); unset: the page and its data answer 404',
  }),
  sessionSecret: setting<string | undefined>({
    env: 'SESSION_SECRET',
    schema: z.string().min(32, 'must be at least 32 characters'),
    default: undefined,
    docDefault: 'generated',
    meaning: 'HMAC key for session tokens (at least 32 characters); unset: generated into DATA_DIR/session-secret on first start',
  }),
  sessionTtlHours: setting({ env: 'SESSION_TTL_HOURS', schema: int(1, 24 * 365), default: 720, meaning: 'how long a session token is valid' }),
  sqliteSynchronous: setting({
    env: 'SQLITE_SYNCHRONOUS',
    schema: z.enum(['NORMAL', 'FULL']),
    default: 'NORMAL' as 'NORMAL' | 'FULL',
    meaning: 'NORMAL: a commit survives a process crash or SIGKILL; FULL: also power loss (an fsync per batch)',
  }),
  sqliteCheckpointMs: setting({ env: 'SQLITE_CHECKPOINT_MS', schema: int(0, 3_600_000), default: 1000, meaning: 'WAL checkpoints on a worker thread this often, out of the commits (0: inside commits, SQLite\'s default)' }),
  storeGroupCommit: setting({
    env: 'STORE_GROUP_COMMIT',
    schema: flag(),
    default: true,
    docDefault: 'on',
    meaning: 'SQLite: the commits of all rooms in one event-loop turn share one transaction (off: one per room turn); PostgreSQL commits each room alone',
  }),
  sendRate: setting({ env: 'SEND_RATE', schema: int(1), default: 20, meaning: 'sends per second, per connection and per identity (all its connections together)' }),
  sendBurst: setting({ env: 'SEND_BURST', schema: int(1), default: 40, meaning: 'burst allowed above SEND_RATE' }),
  sendAddressRate: setting({ env: 'SEND_ADDRESS_RATE', schema: int(1), default: 30, meaning: 'sends per second from one client address, all its identities together (cheap sessions buy nothing)' }),
  sendAddressBurst: setting({ env: 'SEND_ADDRESS_BURST', schema: int(1), default: 60, meaning: 'burst allowed above SEND_ADDRESS_RATE' }),
  sendRoomRate: setting({ env: 'SEND_ROOM_RATE', schema: int(1), default: 200, meaning: 'sends per second into one room, everyone together' }),
  sendRoomBurst: setting({ env: 'SEND_ROOM_BURST', schema: int(1), default: 400, meaning: 'burst allowed above SEND_ROOM_RATE' }),
  joinRate: setting({ env: 'JOIN_RATE', schema: int(1), default: 5, meaning: 'joins and leaves per second, per connection and per identity' }),
  joinBurst: setting({ env: 'JOIN_BURST', schema: int(1), default: 20, meaning: 'burst allowed above JOIN_RATE' }),
  readRate: setting({ env: 'READ_RATE', schema: int(1), default: 5, meaning: 'REST reads per second per identity and room (the floor under Ajax poll intervals; across all rooms, four times this per identity and per address), and history pages per second per connection and identity' }),
  readBurst: setting({ env: 'READ_BURST', schema: int(1), default: 10, meaning: 'burst allowed above READ_RATE' }),
  readBytesRate: setting({ env: 'READ_BYTES_RATE', schema: int(1024), default: 256 * 1024, meaning: 'bytes of messages per second that joins, history and REST reads may return, per connection and per identity (charged after each answer)' }),
  readBytesBurst: setting({ env: 'READ_BYTES_BURST', schema: int(1024), default: 2 * 1024 * 1024, meaning: 'burst allowed above READ_BYTES_RATE' }),
  signalRate: setting({ env: 'SIGNAL_RATE', schema: int(1), default: 5, meaning: 'typing signals and read markers per second, per connection and per identity' }),
  searchRate: setting({ env: 'SEARCH_RATE', schema: int(1), default: 2, meaning: 'searches per second, per identity and per client address (burst 5×); search is the most expensive read' }),
  searchTimeMs: setting({ env: 'SEARCH_TIME_MS', schema: int(10), default: 250, meaning: 'how long one search may look (ms); past it, the results found so far are answered with a cursor to go on' }),
  manageRate: setting({ env: 'MANAGE_RATE', schema: int(1), default: 2, meaning: 'changes to rooms (create, invite, direct message) per second, per identity and per client address (burst 5×)' }),
  moderateRate: setting({ env: 'MODERATE_RATE', schema: int(1), default: 10, meaning: 'moderator actions and role changes per second, per identity (burst 3×)' }),
  reportsPerMin: setting({ env: 'REPORT_MESSAGE_RATE_PER_MIN', schema: int(1), default: 6, meaning: 'reports of messages one identity, and one client address, may file per minute (burst 5)' }),
  admins: setting<string[]>({
    env: 'ADMINS',
    schema: z.string().transform((s) => s.split(',').map((n) => n.trim()).filter((n) => n.length > 0)),
    default: [],
    docDefault: 'unset',
    meaning: "account names of the deployment's administrators (comma-separated): owners of every public room, who appoint its moderators (unset: a public room's first poster owns it)",
  }),
  pingRate: setting({ env: 'PING_RATE', schema: int(1), default: 5, meaning: 'pings per second, per connection and per identity' }),
  streamTicketRate: setting({ env: 'STREAM_TICKET_RATE', schema: int(1), default: 1, meaning: 'Server-Sent Events stream tickets per second, per identity (burst 10×); a stream is reopened on every join and leave' }),
  sessionsPerMin: setting({ env: 'SESSION_RATE_PER_MIN', schema: int(1), default: 30, meaning: 'sessions one client address may create per minute' }),
  sessionBurst: setting({ env: 'SESSION_BURST', schema: int(1), default: 5, meaning: 'sessions one client address may create at once before SESSION_RATE_PER_MIN applies' }),
  loginRatePerMin: setting({ env: 'LOGIN_RATE_PER_MIN', schema: int(1), default: 30, meaning: 'sign-in requests (password or passkey) one client address may make per minute (burst 10)' }),
  loginFailuresPerHourAddress: setting({
    env: 'LOGIN_FAILURES_PER_HOUR_ADDRESS',
    schema: int(1),
    default: 60,
    meaning: 'failed sign-ins one client address may make per hour (burst 10), whatever names it tries',
  }),
  loginFailuresPerHourAccount: setting({
    env: 'LOGIN_FAILURES_PER_HOUR_ACCOUNT',
    schema: int(1),
    default: 30,
    meaning: 'failed sign-ins one account name may take per hour (burst 10), from all addresses together',
  }),
  deletedUserMessages: setting({
    env: 'DELETED_USER_MESSAGES',
    schema: z.enum(['keep', 'remove']),
    default: 'keep' as 'keep' | 'remove',
    meaning: 'when someone deletes their account: keep their messages under "deleted user", or remove them (tombstones in every room)',
  }),
  publicOrigin: setting<string | undefined>({
    env: 'PUBLIC_ORIGIN',
    schema: z.url().transform((u) => new URL(u).origin),
    default: undefined,
    docDefault: 'unset',
    meaning: "the chat's address as browsers see it (https://chat.example.com), for passkeys; unset: the request's own origin when it matches its Host",
  }),
  maxConnectionsPerAddress: setting({ env: 'MAX_CONNECTIONS_PER_ADDRESS', schema: int(1), default: 256, meaning: 'open socket connections from one client address (an IPv6 client counts by its /64); past it, connect_error too_many_connections' }),
  maxConnectionsPerIdentity: setting({ env: 'MAX_CONNECTIONS_PER_IDENTITY', schema: int(1), default: 32, meaning: 'open socket connections of one identity (tabs, devices); past it, connect_error too_many_connections' }),
  maxInFlight: setting({ env: 'MAX_IN_FLIGHT', schema: int(1, 65_536), default: 16, meaning: 'commands one socket connection may have waiting for an answer; past it, rate_limited' }),
  maxRoomsPerIdentity: setting({ env: 'MAX_ROOMS_PER_IDENTITY', schema: int(1), default: 100, meaning: 'live room fibers one identity may have started; past it, opening another room answers rate_limited' }),
  maxRoomsPerAddress: setting({ env: 'MAX_ROOMS_PER_ADDRESS', schema: int(1), default: 500, meaning: 'live room fibers one client address may have started, all its identities together' }),
  maxRooms: setting({ env: 'MAX_ROOMS', schema: int(1), default: 10_000, meaning: 'live room fibers at most; past it, new rooms answer `unavailable`' }),
  roomIdleMs: setting({ env: 'ROOM_IDLE_MS', schema: int(1), default: 60_000, meaning: 'a room with no subscribers and no traffic retires (its fiber ends) after this long' }),
  roomReadIdleMs: setting({ env: 'ROOM_READ_IDLE_MS', schema: int(1), default: 5_000, meaning: 'a room that only served reads (no join, no send) retires after this long' }),
  roomMailbox: setting({ env: 'ROOM_MAILBOX', schema: int(1, 1_000_000), default: 2048, meaning: 'commands one room may queue; past it, new ones answer `unavailable` (back-pressure)' }),
  roomMaxTurn: setting({ env: 'ROOM_MAX_TURN', schema: int(1, 1_000_000), default: 512, meaning: 'commands a room serves per turn: its sends are one transaction and one broadcast packet (1 turns batching off; at most ROOM_MAILBOX)' }),
  presenceGraceMs: setting({ env: 'PRESENCE_GRACE_MS', schema: int(0), default: 5000, meaning: 'how long a dropped user stays listed as present, so a quick reconnect does not flap' }),
  storeCheckMs: setting({
    env: 'STORE_CHECK_MS',
    schema: int(100, 60_000),
    default: 1000,
    meaning: 'in a cluster, how often each node checks its live rooms against the store (the backstop for hints the bus lost)',
  }),
  tailCacheBytes: setting({
    env: 'TAIL_CACHE_BYTES',
    schema: int(0),
    default: 64 * 1024 * 1024,
    meaning: 'bytes of live rooms\' newest messages kept in memory, so joins, resumes and polls near the end need no store read (least recently read rooms dropped first; 0: off)',
  }),
  broadcastFrames: setting({
    env: 'BROADCAST_FRAMES',
    schema: z.enum(['direct', 'engine']),
    default: 'direct' as 'direct' | 'engine',
    meaning: 'direct: a broadcast is framed once and the same bytes written to each WebSocket subscriber with nothing queued in engine.io, and an answer that carries messages is framed from each message\'s cached JSON and written the same way; engine: through socket.io and engine.io per socket',
  }),
  maxOutboundBytes: setting({ env: 'MAX_OUTBOUND_BYTES', schema: int(1024), default: 1024 * 1024, meaning: 'bytes queued to one connection before it is disconnected as a slow consumer (it resumes without loss)' }),
  drainMs: setting({
    env: 'DRAIN_MS',
    schema: int(0, 60_000),
    default: 0,
    meaning: 'on SIGTERM, /healthz answers 503 this long while the node keeps serving, so a balancer moves new traffic away first (behind a balancer: a few health-check intervals)',
  }),
  uploads: setting({ env: 'UPLOADS', schema: flag(), default: true, meaning: 'whether people may upload files (off: every upload is refused with 403; files already sent are still served)' }),
  maxUploadBytes: setting({ env: 'MAX_UPLOAD_BYTES', schema: int(1024), default: 25 * 1024 * 1024, docDefault: '26214400 (25 MiB)', meaning: 'largest file one upload may carry (413 past it, refused from Content-Length before the body is read)' }),
  uploadBytesPerDay: setting({ env: 'UPLOAD_BYTES_PER_DAY', schema: int(0), default: 500 * 1024 * 1024, docDefault: '524288000 (500 MiB)', meaning: 'bytes one identity may upload in 24 hours (429 past it)' }),
  uploadBytesPerDayAddress: setting({
    env: 'UPLOAD_BYTES_PER_DAY_ADDRESS',
    schema: int(0),
    default: 2 * 1024 * 1024 * 1024,
    docDefault: '2147483648 (2 GiB)',
    meaning: 'bytes one client address may upload per day, across its identities (refilled continuously; 429 past it)',
  }),
  filesS3Url: setting<string | undefined>({
    env: 'FILES_S3_URL',
    schema: z.string().regex(/^https?:\/\//, 'must be an https:// (or http://) URL'),
    default: undefined,
    docDefault: 'unset',
    meaning: "an S3-compatible bucket for files' bytes (https://key:secret@host/bucket[/prefix][?region=…], path-style); unset: DATA_DIR/files, or PostgreSQL with DATABASE_URL",
  }),
  uploadMinBytesPerSec: setting({
    env: 'UPLOAD_MIN_BYTES_PER_SEC',
    schema: int(1),
    default: 8192,
    meaning: 'after its first 15 s, an upload must bring at least this many bytes a second, averaged over each 10 s, or it is cut (408): a trickling upload cannot hold its place',
  }),
  uploadTimeoutMs: setting({ env: 'UPLOAD_TIMEOUT_MS', schema: int(15_000), default: 30 * 60_000, docDefault: '1800000 (30 min)', meaning: 'longest one upload may take (408 past it); uploads are exempt from the 15 s request timeout, which bounds every other request' }),
  uploadsPerIdentity: setting({ env: 'UPLOADS_PER_IDENTITY', schema: int(1), default: 4, meaning: 'uploads one identity may have in progress at once (429 past it)' }),
  uploadsPerAddress: setting({ env: 'UPLOADS_PER_ADDRESS', schema: int(1), default: 16, meaning: 'uploads one client address may have in progress at once, across its identities (429 past it)' }),
  filesTotalBytes: setting({ env: 'FILES_TOTAL_BYTES', schema: int(0), default: 20 * 1024 * 1024 * 1024, docDefault: '21474836480 (20 GiB)', meaning: 'bytes all stored files may take (0: no cap); past it every upload is refused (429) until files are removed' }),
  shutdownTimeoutMs: setting({ env: 'SHUTDOWN_TIMEOUT_MS', schema: int(1), default: 5000, meaning: 'on SIGTERM/SIGINT, exit after this long even if rooms have not finished draining' }),
};

type Settings = typeof SETTINGS;
export type SettingValues = { [K in keyof Settings]: Settings[K]['default'] };

/** The server's configuration: every setting's value, plus paths derived from them. */
export interface Config extends SettingValues {
  /** `dataDir` resolved against the working directory. */
  dataDir: string;
  dbFile: string;
  clientDir: string;
  sessionTtlMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment, or throws a ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(SETTINGS) as Array<[string, SettingSpec<unknown>]>) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') {
      values[key] = spec.default;
      continue;
    }
    const r = spec.schema.safeParse(raw);
    if (r.success) values[key] = r.data;
    else problems.push(`  ${spec.env}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  }
  const v = values as SettingValues;
  if (problems.length === 0 && v.roomMaxTurn > v.roomMailbox) problems.push('  ROOM_MAX_TURN: must be at most ROOM_MAILBOX');
  if (problems.length === 0 && v.redisUrl !== undefined && v.databaseUrl === undefined) {
    problems.push('  REDIS_URL: needs DATABASE_URL (nodes of a cluster share one PostgreSQL)');
  }
  if (problems.length === 0 && v.filesS3Url !== undefined) {
    try {
      parseS3Url(v.filesS3Url);
    } catch (err) {
      problems.push(`  FILES_S3_URL: ${(err as Error).message.replace(/^FILES_S3_URL /, '')}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  const dataDir = resolve(cwd, v.dataDir);
  return {
    ...v,
    dataDir,
    dbFile: resolve(dataDir, 'fiberchat.db'),
    clientDir: resolve(import.meta.dirname, '..', 'dist', 'client'),
    sessionTtlMs: v.sessionTtlHours * 3_600_000,
  };
}

/** Every setting at its default (tests, and tools that need the server's defaults). */
export function defaultConfig(): Config {
  return loadConfig({});
}

/** The room fiber's tunables, from the configuration. */
export function roomOptions(c: Config) {
  return {
    mailboxCapacity: c.roomMailbox,
    maxTurn: c.roomMaxTurn,
    idleMs: c.roomIdleMs,
    readIdleMs: c.roomReadIdleMs,
    presenceGraceMs: c.presenceGraceMs,
    maxRooms: c.maxRooms,
    maxRoomsPerIdentity: c.maxRoomsPerIdentity,
    maxRoomsPerAddress: c.maxRoomsPerAddress,
    storeCheckMs: c.storeCheckMs,
  };
}

// ----- generated documentation ------------------------------------------------

function docDefault(spec: SettingSpec<unknown>): string {
  if (spec.default === false) return spec.docDefault ?? 'off';
  return spec.docDefault ?? String(spec.default);
}

/** `.env.example`, as generated from the table. */
export function renderEnvExample(): string {
  const lines = [
    '# Every setting Fiberchat reads, with its default. Generated from server/config.ts',
    '# by `npm run docs`; edit the table there, not this file. The server reads',
    "# the process environment (export these, or use your process manager's env file).",
    '',
  ];
  for (const spec of Object.values(SETTINGS) as Array<SettingSpec<unknown>>) {
    lines.push(`# ${spec.meaning}`);
    lines.push(spec.default === undefined || spec.default === false ? `# ${spec.env}=` : `${spec.env}=${String(spec.default)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The README's settings table, as generated from the table. */
export function renderSettingsTable(): string {
  const rows = (Object.values(SETTINGS) as Array<SettingSpec<unknown>>).map(
    (s) => `| \`${s.env}\` | ${docDefault(s)} | ${s.meaning.replaceAll('|', '\\|')} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export const README_MARKERS = { start: '<!-- settings:start (generated by npm run docs) -->', end: '<!-- settings:end -->' };
