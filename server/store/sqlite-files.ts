/** File records in SQLite (the `files` table; file-records.ts says what they are). */
import type Database from 'better-sqlite3';
import type { FileRecord, FileRecords } from './file-records.ts';

interface FileRow {
  id: string;
  room: string;
  uploader_id: string;
  sha256: string;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
  created_at: number;
  seq: number | null;
  thumb?: string | null;
  preview?: string | null;
}

export function fileOf(r: FileRow): FileRecord {
  return {
    id: r.id,
    room: r.room,
    uploaderId: r.uploader_id,
    sha256: r.sha256,
    name: r.name,
    type: r.type,
    size: Number(r.size),
    width: r.width ?? undefined,
    height: r.height ?? undefined,
    createdAt: Number(r.created_at),
    seq: r.seq === null ? undefined : Number(r.seq),
    thumb: r.thumb ?? undefined,
    preview: r.preview ?? undefined,
  };
}

export function sqliteFiles(db: Database.Database): FileRecords {
  const q = {
    insert: db.prepare<[string, string, string, string, string, string, number, number | null, number | null, number, string | null, string | null]>(
      'INSERT INTO files (id, room, uploader_id, sha256, name, type, size, width, height, created_at, thumb, preview) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    attach: db.prepare<[number, string, string]>('UPDATE files SET seq = ? WHERE id = ? AND room = ? AND seq IS NULL'),
    get: db.prepare<[string], FileRow>('SELECT * FROM files WHERE id = ?'),
    unsent: db.prepare<[number, number], FileRow>('SELECT * FROM files WHERE seq IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?'),
    remove: db.prepare<[string], { sha256: string }>('DELETE FROM files WHERE id = ? RETURNING sha256'),
    named: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM files WHERE sha256 = ?'),
    uploaded: db.prepare<[string, number], { n: number | null }>('SELECT sum(size) AS n FROM files WHERE uploader_id = ? AND created_at >= ?'),
    total: db.prepare<[], { n: number | null }>('SELECT sum(size) AS n FROM files'),
  };
  const attach = db.transaction((ids: readonly string[], room: string, seq: number): number => {
    let n = 0;
    for (const id of ids) n += q.attach.run(seq, id, room).changes;
    return n;
  });
  const remove = db.transaction((id: string): number => {
    const gone = q.remove.get(id);
    return gone ? (q.named.get(gone.sha256)?.n ?? 0) : 0;
  });
  return {
    async add(f) {
      q.insert.run(f.id, f.room, f.uploaderId, f.sha256, f.name, f.type, f.size, f.width ?? null, f.height ?? null, f.createdAt, f.thumb ?? null, f.preview ?? null);
    },
    async get(id) {
      const r = q.get.get(id);
      return r && fileOf(r);
    },
    async attach(ids, room, seq) {
      return attach(ids, room, seq);
    },
    async unsent(before, limit) {
      return q.unsent.all(before, limit).map(fileOf);
    },
    async remove(id) {
      return remove(id);
    },
    async uploadedBytes(uploaderId, since) {
      return q.uploaded.get(uploaderId, since)?.n ?? 0;
    },
    async totalBytes() {
      return q.total.get()?.n ?? 0;
    },
  };
}
