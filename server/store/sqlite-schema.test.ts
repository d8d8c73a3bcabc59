import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from './sqlite-schema.ts';
import { SqliteStore } from './sqlite-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fiberchat-schema-'));
  dirs.push(dir);
  return join(dir, 'chat.db');
}

const version = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

describe('SQLite schema', () => {
  it('brings a database of the first schema to the latest, keeping its messages, and then reads them through the store', async () => {
    const f = file();
    const old = new Database(f);
    old.exec(MIGRATIONS[0] as string);
    old.pragma('user_version = 1');
    old.prepare("INSERT INTO rooms (name, epoch, created_at) VALUES ('lobby', 'e1', 1)").run();
    old.prepare("INSERT INTO messages (room, seq, id, client_id, author, author_id, text, ts) VALUES ('lobby', 1, 'm1', NULL, 'ann', 'u1', 'from before', 5)").run();
    old.close();

    const store = new SqliteStore({ file: f });
    expect(await store.roomLog('lobby')).toEqual({ epoch: 'e1', lastSeq: 1 });
    const [m] = await store.readAfter('lobby', 0, 10);
    expect(m).toMatchObject({ seq: 1, id: 'm1', author: 'ann', text: 'from before', ts: 5 });
    await store.close();

    const db = new Database(f);
    expect(version(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('applies nothing to a database already at the latest version', () => {
    const db = new Database(file());
    migrate(db);
    expect(version(db)).toBe(SCHEMA_VERSION);
    const tables = () => db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema ORDER BY name").all();
    const before = tables();
    migrate(db); // would throw on a re-run ALTER or CREATE
    expect(tables()).toEqual(before);
    db.close();
  });
});
