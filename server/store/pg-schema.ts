/**
 * The PostgreSQL store's schema: migrations applied in order, each once,
 * recorded in `fiberchat_migrations`. Never edit a released entry: append.
 */
import type pg from 'pg';

/**
 * `rooms.last_seq` is the room's counter, advanced only under the room
 * row's lock; no SEQUENCE, because a sequence leaves a gap on every rollback.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     name TEXT PRIMARY KEY,
     epoch TEXT NOT NULL,
     last_seq BIGINT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   CREATE TABLE messages (
     room TEXT NOT NULL REFERENCES rooms (name),
     seq BIGINT NOT NULL,
     id TEXT NOT NULL,
     client_id TEXT,
     author TEXT NOT NULL,
     author_id TEXT NOT NULL,
     text TEXT NOT NULL,
     ts BIGINT NOT NULL,
     PRIMARY KEY (room, seq)
   );
   CREATE UNIQUE INDEX messages_client ON messages (room, author_id, client_id);`,
  // Protocol 2.0: changes are entries of the log; rooms have owners, members
  // and read positions. Columns added with a constant default cost no
  // rewrite of an existing table (PostgreSQL 11+).
  `ALTER TABLE rooms
     ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public',
     ADD COLUMN title TEXT,
     ADD COLUMN owner_id TEXT,
     ADD COLUMN last_ts BIGINT;
   ALTER TABLE messages
     ADD COLUMN kind TEXT NOT NULL DEFAULT 'message',
     ADD COLUMN target BIGINT,
     ADD COLUMN emoji TEXT,
     ADD COLUMN on_flag BOOLEAN,
     ADD COLUMN edited_at BIGINT,
     ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT false,
     ADD COLUMN reply_to BIGINT,
     ADD COLUMN mentions TEXT[];
   CREATE INDEX messages_target ON messages (room, target) WHERE target IS NOT NULL;
   -- added: insertion order, so a page lists who reacted first first.
   CREATE TABLE reactions (
     room TEXT NOT NULL,
     target BIGINT NOT NULL,
     emoji TEXT NOT NULL,
     user_id TEXT NOT NULL,
     user_name TEXT NOT NULL,
     added BIGSERIAL NOT NULL,
     PRIMARY KEY (room, target, emoji, user_id)
   );
   -- No foreign key to rooms: a user joins a public room before its first message creates the row.
   CREATE TABLE members (
     room TEXT NOT NULL,
     user_id TEXT NOT NULL,
     user_name TEXT NOT NULL,
     role TEXT NOT NULL,
     last_read BIGINT NOT NULL DEFAULT 0,
     joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
     PRIMARY KEY (room, user_id)
   );
   CREATE INDEX members_user ON members (user_id);
   CREATE TABLE invites (
     token TEXT PRIMARY KEY,
     room TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   -- COLLATE "C": byte order, so LIKE 'ab%' is an index range scan whatever the database's locale.
   CREATE TABLE users (
     user_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     name_lower TEXT COLLATE "C" NOT NULL,
     seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   CREATE INDEX users_name ON users (name_lower);`,
  // The database's own random id: rooms not yet stored get their first epoch from it, the same on every node.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   INSERT INTO meta (key, value) VALUES ('instance', replace(gen_random_uuid()::text, '-', ''));`,
  // Protocol 2.1: accounts, sessions, passkeys (queries in pg-accounts.ts).
  // Times are ms since the epoch, as the rest of the store keeps them.
  `CREATE TABLE accounts (
     user_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, password_hash TEXT, created_at BIGINT NOT NULL
   );
   CREATE TABLE sessions (
     id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL, user_agent TEXT, address TEXT
   );
   CREATE INDEX sessions_user ON sessions (user_id);
   CREATE INDEX sessions_expiry ON sessions (expires_at);
   CREATE TABLE passkeys (
     id TEXT PRIMARY KEY, user_id TEXT NOT NULL, public_key BYTEA NOT NULL, counter BIGINT NOT NULL,
     transports TEXT[], label TEXT NOT NULL, created_at BIGINT NOT NULL, last_used_at BIGINT
   );
   CREATE INDEX passkeys_user ON passkeys (user_id);
   CREATE TABLE auth_challenges (challenge TEXT PRIMARY KEY, purpose TEXT NOT NULL, user_id TEXT, expires_at BIGINT NOT NULL);
   -- A user's messages (export, deleting an account), read by index rather than by scanning every room.
   CREATE INDEX messages_author ON messages (author_id, room, seq);`,
  // Every new challenge drops the expired ones: by index, so that costs the expired rows, not every
  // challenge outstanding (anyone may ask for a login challenge).
  'CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);',
  // Protocol 2.2: full-text search (pg-search.ts). `search` holds a message's tokens (written by the
  // store, never by PostgreSQL's parser), `search_pos` its unique place in newest-first order; both
  // are null for entries that are not indexed. Nullable columns without a default cost no rewrite.
  // Messages stored before this are indexed by PgSearchBackfill, which keeps its place in
  // meta.search_backfill and removes it when done. The sequence only spreads the messages of one ms
  // over its slots (a gap in it is harmless).
  `ALTER TABLE messages ADD COLUMN search tsvector, ADD COLUMN search_pos BIGINT;
   CREATE INDEX messages_search ON messages USING gin (search) WHERE search IS NOT NULL;
   CREATE UNIQUE INDEX messages_search_pos ON messages (search_pos) WHERE search_pos IS NOT NULL;
   CREATE SEQUENCE search_pos_seq;
   INSERT INTO meta (key, value) VALUES ('search_backfill', '');`,
  // Files: their bytes for a cluster (server/files/pg-blobs.ts), a blob named by its SHA-256
  // and held as chunks, a put writing its chunks under `tmp:<upload id>` and renaming them once hashed;
  // and what each uploaded file is (store/file-records.ts).
  `CREATE TABLE file_blobs (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, created_at BIGINT NOT NULL);
   CREATE TABLE file_chunks (blob TEXT NOT NULL, n INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (blob, n));
   CREATE TABLE blob_uploads (id TEXT PRIMARY KEY, started_at BIGINT NOT NULL);
   CREATE TABLE files (
     id TEXT PRIMARY KEY, room TEXT NOT NULL, uploader_id TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
     size BIGINT NOT NULL, width INTEGER, height INTEGER, created_at BIGINT NOT NULL, seq BIGINT
   );
   CREATE INDEX files_sha256 ON files (sha256);
   CREATE INDEX files_unsent ON files (created_at) WHERE seq IS NULL;
   CREATE INDEX files_uploader ON files (uploader_id, created_at);`,
  // Protocol 2.6: a message's attachments as readers see them (a JSON array), and each image's
  // thumbnails (blobs named by their SHA-256, made from the same bytes and so shared like them).
  `ALTER TABLE messages ADD COLUMN attachments TEXT;
   ALTER TABLE files ADD COLUMN thumb TEXT, ADD COLUMN preview TEXT;
   CREATE INDEX files_message ON files (room, seq) WHERE seq IS NOT NULL;`,
  // Protocol 2.7: moderation (store/moderation-records.ts). A moderator's note on a log entry
  // (a JSON object: the action of a \`moderation\` entry, or a tombstone's "removed by a moderator").
  `ALTER TABLE messages ADD COLUMN mod TEXT;
   CREATE TABLE room_moderators (room TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, since BIGINT NOT NULL, PRIMARY KEY (room, user_id));
   CREATE TABLE room_mutes (room TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, until BIGINT NOT NULL, PRIMARY KEY (room, user_id));
   CREATE TABLE room_bans (room TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, address TEXT, at BIGINT NOT NULL, PRIMARY KEY (room, user_id));
   CREATE TABLE room_rules (room TEXT PRIMARY KEY, slowmode INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0, pins TEXT NOT NULL DEFAULT '[]');
   CREATE TABLE reports (
     id TEXT PRIMARY KEY, room TEXT NOT NULL, target BIGINT NOT NULL, author_id TEXT NOT NULL, reporter_id TEXT NOT NULL, reporter_name TEXT NOT NULL,
     reason TEXT NOT NULL, text TEXT, created_at BIGINT NOT NULL, resolved_at BIGINT, resolved_by TEXT, resolution TEXT
   );
   CREATE INDEX reports_open ON reports (room, created_at) WHERE resolved_at IS NULL;
   CREATE UNIQUE INDEX reports_once ON reports (room, target, reporter_id) WHERE resolved_at IS NULL;
   CREATE TABLE mod_audit (
     id BIGSERIAL PRIMARY KEY, ts BIGINT NOT NULL, room TEXT NOT NULL, actor_id TEXT NOT NULL, actor_name TEXT NOT NULL, action TEXT NOT NULL,
     subject_id TEXT, subject_name TEXT, target BIGINT, seconds INTEGER, role TEXT, reason TEXT
   );
   CREATE INDEX mod_audit_room ON mod_audit (room, id);
   CREATE INDEX mod_audit_actor ON mod_audit (actor_id, id);`,
];

/** The schema's version once every migration is applied. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Any fixed number: the advisory lock that serialises migrations across nodes starting at once. */
const MIGRATION_LOCK = 0x66696265; // "fibe"

/** Applies the missing migrations inside the caller's transaction, under an advisory lock so nodes starting together take turns. */
export async function migrate(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await client.query('CREATE TABLE IF NOT EXISTS fiberchat_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM fiberchat_migrations');
  for (let v = r.rows[0]?.v ?? 0; v < MIGRATIONS.length; v++) {
    await client.query(MIGRATIONS[v] as string);
    await client.query('INSERT INTO fiberchat_migrations (version) VALUES ($1)', [v + 1]);
  }
}
