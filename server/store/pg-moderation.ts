/** Moderation records in PostgreSQL (moderation-records.ts says what they are). */
import type pg from 'pg';
import type { ModerationRecords } from './moderation-records.ts';
import { auditOf, auditWhere, reportOf, rulesOf, type AuditRow, type ReportRow, type RulesRow } from './sqlite-moderation.ts';

type Query = <R extends pg.QueryResultRow>(text: string, params: unknown[]) => Promise<R[]>;

/** SQLite's `?` placeholders as PostgreSQL's `$n`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function pgModeration(query: Query): ModerationRecords {
  return {
    async load(room) {
      const [moderators, mutes, bans, rules] = await Promise.all([
        query<{ user_id: string; user_name: string }>('SELECT user_id, user_name FROM room_moderators WHERE room = $1 ORDER BY since', [room]),
        query<{ user_id: string; user_name: string; until: string }>('SELECT user_id, user_name, until FROM room_mutes WHERE room = $1', [room]),
        query<{ user_id: string; user_name: string; address: string | null; at: string }>('SELECT user_id, user_name, address, at FROM room_bans WHERE room = $1', [room]),
        query<RulesRow>('SELECT slowmode, locked, pins FROM room_rules WHERE room = $1', [room]),
      ]);
      return {
        moderators: moderators.map((r) => ({ userId: r.user_id, name: r.user_name })),
        mutes: mutes.map((r) => ({ user: { userId: r.user_id, name: r.user_name }, until: Number(r.until) })),
        bans: bans.map((r) => ({ user: { userId: r.user_id, name: r.user_name }, address: r.address ?? undefined, at: Number(r.at) })),
        rules: rulesOf(rules[0]),
      };
    },
    async setModerator(room, user, on) {
      if (on) {
        await query(
          'INSERT INTO room_moderators (room, user_id, user_name, since) VALUES ($1, $2, $3, $4) ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name',
          [room, user.userId, user.name, Date.now()],
        );
      } else await query('DELETE FROM room_moderators WHERE room = $1 AND user_id = $2', [room, user.userId]);
    },
    async mute(room, user, until) {
      await query(
        'INSERT INTO room_mutes (room, user_id, user_name, until) VALUES ($1, $2, $3, $4) ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name, until = excluded.until',
        [room, user.userId, user.name, until],
      );
    },
    async unmute(room, userId) {
      return (await query('DELETE FROM room_mutes WHERE room = $1 AND user_id = $2 RETURNING 1 AS x', [room, userId])).length > 0;
    },
    async ban(room, b) {
      await query(
        `INSERT INTO room_bans (room, user_id, user_name, address, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name, address = excluded.address, at = excluded.at`,
        [room, b.user.userId, b.user.name, b.address ?? null, b.at],
      );
    },
    async unban(room, userId) {
      return (await query('DELETE FROM room_bans WHERE room = $1 AND user_id = $2 RETURNING 1 AS x', [room, userId])).length > 0;
    },
    async setRules(room, rules) {
      await query(
        'INSERT INTO room_rules (room, slowmode, locked, pins) VALUES ($1, $2, $3, $4) ON CONFLICT (room) DO UPDATE SET slowmode = excluded.slowmode, locked = excluded.locked, pins = excluded.pins',
        [room, rules.slowmode, rules.locked ? 1 : 0, JSON.stringify(rules.pins)],
      );
    },
    async addReport(r) {
      const rows = await query(
        `INSERT INTO reports (id, room, target, author_id, reporter_id, reporter_name, reason, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (room, target, reporter_id) WHERE resolved_at IS NULL DO NOTHING RETURNING 1 AS x`,
        [r.id, r.room, r.target, r.authorId, r.reporter.userId, r.reporter.name, r.reason, r.text ?? null, r.ts],
      );
      return rows.length > 0;
    },
    async openReports(room, limit) {
      const rows =
        room === undefined
          ? await query<ReportRow>('SELECT * FROM reports WHERE resolved_at IS NULL ORDER BY created_at, id LIMIT $1', [limit])
          : await query<ReportRow>('SELECT * FROM reports WHERE room = $1 AND resolved_at IS NULL ORDER BY created_at, id LIMIT $2', [room, limit]);
      return rows.map(reportOf);
    },
    async openReportCount(room) {
      return Number((await query<{ n: string }>('SELECT count(*) AS n FROM reports WHERE room = $1 AND resolved_at IS NULL', [room]))[0]?.n ?? 0);
    },
    async resolveReports(room, target, by, resolution, at) {
      const rows = await query(
        'UPDATE reports SET resolved_at = $1, resolved_by = $2, resolution = $3 WHERE room = $4 AND target = $5 AND resolved_at IS NULL RETURNING 1 AS x',
        [at, by, resolution, room, target],
      );
      return rows.length;
    },
    async audit(a) {
      await query(
        'INSERT INTO mod_audit (ts, room, actor_id, actor_name, action, subject_id, subject_name, target, seconds, role, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
        [a.ts, a.room, a.actor.userId, a.actor.name, a.action, a.subject?.userId ?? null, a.subject?.name ?? null, a.target ?? null, a.seconds ?? null, a.role ?? null, a.reason ?? null],
      );
    },
    async auditLog(f) {
      const { where, params } = auditWhere(f);
      const rows = await query<AuditRow>(numbered(`SELECT * FROM mod_audit ${where} ORDER BY id DESC LIMIT ?`), [...params, f.limit]);
      return rows.map(auditOf);
    },
  };
}
