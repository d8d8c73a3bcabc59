/** File records in PostgreSQL (the `files` table; file-records.ts says what they are). */
import type pg from 'pg';
import type { FileRecords } from './file-records.ts';
import { fileOf } from './sqlite-files.ts';

type Query = <R extends pg.QueryResultRow>(text: string, params: unknown[]) => Promise<R[]>;

/** `query` runs one statement (after the schema is migrated); `transact` runs a body in one transaction. */
export function pgFiles(query: Query, transact: <T>(body: (c: pg.PoolClient) => Promise<T>) => Promise<T>): FileRecords {
  return {
    async add(f) {
      await query(
        'INSERT INTO files (id, room, uploader_id, sha256, name, type, size, width, height, created_at, thumb, preview) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        [f.id, f.room, f.uploaderId, f.sha256, f.name, f.type, f.size, f.width ?? null, f.height ?? null, f.createdAt, f.thumb ?? null, f.preview ?? null],
      );
    },
    async get(id) {
      const r = (await query('SELECT * FROM files WHERE id = $1', [id]))[0];
      return r && fileOf(r as Parameters<typeof fileOf>[0]);
    },
    async attach(ids, room, seq) {
      const r = await query<{ id: string }>('UPDATE files SET seq = $1 WHERE id = ANY($2::text[]) AND room = $3 AND seq IS NULL RETURNING id', [seq, [...ids], room]);
      return r.length;
    },
    async unsent(before, limit) {
      const rows = await query('SELECT * FROM files WHERE seq IS NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2', [before, limit]);
      return rows.map((r) => fileOf(r as Parameters<typeof fileOf>[0]));
    },
    async remove(id) {
      return transact(async (c) => {
        const gone = (await c.query<{ sha256: string }>('DELETE FROM files WHERE id = $1 RETURNING sha256', [id])).rows[0];
        if (!gone) return 0;
        return Number((await c.query<{ n: string | number }>('SELECT count(*) AS n FROM files WHERE sha256 = $1', [gone.sha256])).rows[0]?.n ?? 0);
      });
    },
    async uploadedBytes(uploaderId, since) {
      const r = await query<{ n: string | number | null }>('SELECT sum(size) AS n FROM files WHERE uploader_id = $1 AND created_at >= $2', [uploaderId, since]);
      return Number(r[0]?.n ?? 0);
    },
    async totalBytes() {
      return Number((await query<{ n: string | number | null }>('SELECT sum(size) AS n FROM files', []))[0]?.n ?? 0);
    },
  };
}
