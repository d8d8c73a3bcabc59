/**
 * The SQLite store's file and schema: the database is created private
 * (folder 0700, file 0600) and brought to the latest schema by numbered
 * migrations, as pg-schema.ts does for PostgreSQL.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** Schema migrations, applied in order; `PRAGMA user_version` records the last one applied. Never edit one: append. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     name TEXT PRIMARY KEY,
     epoch TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE messages (
     room TEXT NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     client_id TEXT,
     author TEXT NOT NULL,
     author_id TEXT NOT NULL,
     text TEXT NOT NULL,
     ts INTEGER NOT NULL,
     PRIMARY KEY (room, seq)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX messages_client ON messages (room, client_id, author_id) WHERE client_id IS NOT NULL;`,
  // Protocol 2.0: changes are entries of the log; rooms have owners, members and read positions.
  `ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
   ALTER TABLE rooms ADD COLUMN title TEXT;
   ALTER TABLE rooms ADD COLUMN owner_id TEXT;
   ALTER TABLE rooms ADD COLUMN last_ts INTEGER;
   ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';
   ALTER TABLE messages ADD COLUMN target INTEGER;
   ALTER TABLE messages ADD COLUMN emoji TEXT;
   ALTER TABLE messages ADD COLUMN on_flag INTEGER;
   ALTER TABLE messages ADD COLUMN edited_at INTEGER;
   ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN reply_to INTEGER;
   ALTER TABLE messages ADD COLUMN mentions TEXT;
   CREATE INDEX messages_target ON messages (room, target) WHERE target IS NOT NULL;
   CREATE TABLE reactions (
     room TEXT NOT NULL, target INTEGER NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL,
     PRIMARY KEY (room, target, emoji, user_id)
   );
   CREATE TABLE members (
     room TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
     last_read INTEGER NOT NULL DEFAULT 0, joined_at INTEGER NOT NULL,
     PRIMARY KEY (room, user_id)
   ) WITHOUT ROWID;
   CREATE INDEX members_user ON members (user_id);
   CREATE TABLE invites (token TEXT PRIMARY KEY, room TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_lower TEXT NOT NULL, seen_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX users_name ON users (name_lower);`,
  // The database's own random id: rooms not yet stored get their first epoch from it.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(16))));`,
  // Protocol 2.1: accounts, sessions, passkeys (queries in sqlite-accounts.ts).
  `CREATE TABLE accounts (
     user_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, password_hash TEXT, created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE sessions (
     id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL, user_agent TEXT, address TEXT
   ) WITHOUT ROWID;
   CREATE INDEX sessions_user ON sessions (user_id);
   CREATE INDEX sessions_expiry ON sessions (expires_at);
   CREATE TABLE passkeys (
     id TEXT PRIMARY KEY, user_id TEXT NOT NULL, public_key BLOB NOT NULL, counter INTEGER NOT NULL,
     transports TEXT, label TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX passkeys_user ON passkeys (user_id);
   CREATE TABLE auth_challenges (challenge TEXT PRIMARY KEY, purpose TEXT NOT NULL, user_id TEXT, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   -- A user's messages (export, deleting an account), read by index rather than by scanning every room.
   CREATE INDEX messages_author ON messages (author_id, room, seq);`,
  // Every new challenge drops the expired ones: by index, so that costs the expired rows, not every
  // challenge outstanding (anyone may ask for a login challenge).
  'CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);',
  // Protocol 2.2: full-text search (sqlite-search.ts). Messages stored before it are indexed by
  // SearchBackfill, which keeps its place in meta.search_backfill and removes it when done.
  `CREATE TABLE search_rooms (no INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE search_docs (docid INTEGER PRIMARY KEY, room_no INTEGER NOT NULL, seq INTEGER NOT NULL);
  CREATE UNIQUE INDEX search_docs_entry ON search_docs (room_no, seq);
  CREATE VIRTUAL TABLE search_index USING fts5(
    words, parts, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
  );
  INSERT INTO meta (key, value) VALUES ('search_backfill', '');`,
  // Files (store/file-records.ts): what each upload is; its bytes are a blob named by sha256 (server/files/).
  `CREATE TABLE files (
     id TEXT PRIMARY KEY, room TEXT NOT NULL, uploader_id TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
     size INTEGER NOT NULL, width INTEGER, height INTEGER, created_at INTEGER NOT NULL, seq INTEGER
   );
   CREATE INDEX files_sha256 ON files (sha256);
   CREATE INDEX files_unsent ON files (created_at) WHERE seq IS NULL;
   CREATE INDEX files_uploader ON files (uploader_id, created_at);`,
  // Protocol 2.6: a message's attachments as readers see them (a JSON array), and each image's
  // thumbnails (blobs named by their SHA-256, made from the same bytes and so shared like them).
  `ALTER TABLE messages ADD COLUMN attachments TEXT;
   ALTER TABLE files ADD COLUMN thumb TEXT;
   ALTER TABLE files ADD COLUMN preview TEXT;
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
     id INTEGER PRIMARY KEY AUTOINCREMENT, ts BIGINT NOT NULL, room TEXT NOT NULL, actor_id TEXT NOT NULL, actor_name TEXT NOT NULL, action TEXT NOT NULL,
     subject_id TEXT, subject_name TEXT, target BIGINT, seconds INTEGER, role TEXT, reason TEXT
   );
   CREATE INDEX mod_audit_room ON mod_audit (room, id);
   CREATE INDEX mod_audit_actor ON mod_audit (actor_id, id);`,
];

/** The schema's version once every migration is applied (`PRAGMA user_version`). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the missing migrations, each in its own transaction with the version it reaches. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Creates the database's folder (0700) and file (0600) when missing, before SQLite opens it. */
export function createPrivately(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode is filtered by the umask
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
}
