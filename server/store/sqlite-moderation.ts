/** Moderation records in SQLite (moderation-records.ts says what they are). */
import type Database from 'better-sqlite3';
import type { ReportReason } from '../../shared/protocol.ts';
import type { AuditRecord, ModerationRecords, ReportRecord, RoomRules } from './moderation-records.ts';

export interface ReportRow {
  id: string;
  room: string;
  target: number | string;
  author_id: string;
  reporter_id: string;
  reporter_name: string;
  reason: string;
  text: string | null;
  created_at: number | string;
}

export interface AuditRow {
  id: number | string;
  ts: number | string;
  room: string;
  actor_id: string;
  actor_name: string;
  action: string;
  subject_id: string | null;
  subject_name: string | null;
  target: number | string | null;
  seconds: number | null;
  role: string | null;
  reason: string | null;
}

export interface RulesRow {
  slowmode: number;
  locked: number;
  pins: string;
}

export function reportOf(r: ReportRow): ReportRecord {
  return {
    id: r.id,
    room: r.room,
    target: Number(r.target),
    authorId: r.author_id,
    reporter: { userId: r.reporter_id, name: r.reporter_name },
    reason: r.reason as ReportReason,
    text: r.text ?? undefined,
    ts: Number(r.created_at),
  };
}

export function auditOf(r: AuditRow): AuditRecord {
  const a: AuditRecord = { id: Number(r.id), ts: Number(r.ts), room: r.room, actor: { userId: r.actor_id, name: r.actor_name }, action: r.action };
  if (r.subject_id !== null) a.subject = { userId: r.subject_id, name: r.subject_name ?? '' };
  if (r.target !== null) a.target = Number(r.target);
  if (r.seconds !== null) a.seconds = r.seconds;
  if (r.role !== null) a.role = r.role;
  if (r.reason !== null) a.reason = r.reason;
  return a;
}

export function rulesOf(r: RulesRow | undefined): RoomRules {
  return r ? { slowmode: r.slowmode, locked: r.locked === 1, pins: JSON.parse(r.pins) as number[] } : { slowmode: 0, locked: false, pins: [] };
}

/** The audit log's filter as SQL: the conditions and their parameters, in order (`?` placeholders). */
export function auditWhere(f: { room?: string | undefined; actorId?: string | undefined; action?: string | undefined; before?: number | undefined }) {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const add = (sql: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(sql);
    params.push(value);
  };
  add('room = ?', f.room);
  add('actor_id = ?', f.actorId);
  add('action = ?', f.action);
  add('id < ?', f.before);
  return { where: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
}

export function sqliteModeration(db: Database.Database): ModerationRecords {
  const q = {
    moderators: db.prepare<[string], { user_id: string; user_name: string }>('SELECT user_id, user_name FROM room_moderators WHERE room = ? ORDER BY since'),
    mutes: db.prepare<[string], { user_id: string; user_name: string; until: number }>('SELECT user_id, user_name, until FROM room_mutes WHERE room = ?'),
    bans: db.prepare<[string], { user_id: string; user_name: string; address: string | null; at: number }>('SELECT user_id, user_name, address, at FROM room_bans WHERE room = ?'),
    rules: db.prepare<[string], RulesRow>('SELECT slowmode, locked, pins FROM room_rules WHERE room = ?'),
    addModerator: db.prepare<[string, string, string, number]>(
      'INSERT INTO room_moderators (room, user_id, user_name, since) VALUES (?, ?, ?, ?) ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name',
    ),
    dropModerator: db.prepare<[string, string]>('DELETE FROM room_moderators WHERE room = ? AND user_id = ?'),
    mute: db.prepare<[string, string, string, number]>(
      'INSERT INTO room_mutes (room, user_id, user_name, until) VALUES (?, ?, ?, ?) ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name, until = excluded.until',
    ),
    unmute: db.prepare<[string, string]>('DELETE FROM room_mutes WHERE room = ? AND user_id = ?'),
    ban: db.prepare<[string, string, string, string | null, number]>(
      'INSERT INTO room_bans (room, user_id, user_name, address, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (room, user_id) DO UPDATE SET user_name = excluded.user_name, address = excluded.address, at = excluded.at',
    ),
    unban: db.prepare<[string, string]>('DELETE FROM room_bans WHERE room = ? AND user_id = ?'),
    setRules: db.prepare<[string, number, number, string]>(
      'INSERT INTO room_rules (room, slowmode, locked, pins) VALUES (?, ?, ?, ?) ON CONFLICT (room) DO UPDATE SET slowmode = excluded.slowmode, locked = excluded.locked, pins = excluded.pins',
    ),
    addReport: db.prepare<[string, string, number, string, string, string, string, string | null, number]>(
      `INSERT INTO reports (id, room, target, author_id, reporter_id, reporter_name, reason, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room, target, reporter_id) WHERE resolved_at IS NULL DO NOTHING`,
    ),
    openReports: db.prepare<[string, number], ReportRow>('SELECT * FROM reports WHERE room = ? AND resolved_at IS NULL ORDER BY created_at, id LIMIT ?'),
    allOpenReports: db.prepare<[number], ReportRow>('SELECT * FROM reports WHERE resolved_at IS NULL ORDER BY created_at, id LIMIT ?'),
    openCount: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM reports WHERE room = ? AND resolved_at IS NULL'),
    resolve: db.prepare<[number, string, string, string, number]>(
      'UPDATE reports SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE room = ? AND target = ? AND resolved_at IS NULL',
    ),
    audit: db.prepare<[number, string, string, string, string, string | null, string | null, number | null, number | null, string | null, string | null]>(
      'INSERT INTO mod_audit (ts, room, actor_id, actor_name, action, subject_id, subject_name, target, seconds, role, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
  };
  return {
    async load(room) {
      return {
        moderators: q.moderators.all(room).map((r) => ({ userId: r.user_id, name: r.user_name })),
        mutes: q.mutes.all(room).map((r) => ({ user: { userId: r.user_id, name: r.user_name }, until: r.until })),
        bans: q.bans.all(room).map((r) => ({ user: { userId: r.user_id, name: r.user_name }, address: r.address ?? undefined, at: r.at })),
        rules: rulesOf(q.rules.get(room)),
      };
    },
    async setModerator(room, user, on) {
      if (on) q.addModerator.run(room, user.userId, user.name, Date.now());
      else q.dropModerator.run(room, user.userId);
    },
    async mute(room, user, until) {
      q.mute.run(room, user.userId, user.name, until);
    },
    async unmute(room, userId) {
      return q.unmute.run(room, userId).changes > 0;
    },
    async ban(room, b) {
      q.ban.run(room, b.user.userId, b.user.name, b.address ?? null, b.at);
    },
    async unban(room, userId) {
      return q.unban.run(room, userId).changes > 0;
    },
    async setRules(room, rules) {
      q.setRules.run(room, rules.slowmode, rules.locked ? 1 : 0, JSON.stringify(rules.pins));
    },
    async addReport(r) {
      return q.addReport.run(r.id, r.room, r.target, r.authorId, r.reporter.userId, r.reporter.name, r.reason, r.text ?? null, r.ts).changes > 0;
    },
    async openReports(room, limit) {
      return (room === undefined ? q.allOpenReports.all(limit) : q.openReports.all(room, limit)).map(reportOf);
    },
    async openReportCount(room) {
      return q.openCount.get(room)?.n ?? 0;
    },
    async resolveReports(room, target, by, resolution, at) {
      return q.resolve.run(at, by, resolution, room, target).changes;
    },
    async audit(a) {
      q.audit.run(a.ts, a.room, a.actor.userId, a.actor.name, a.action, a.subject?.userId ?? null, a.subject?.name ?? null, a.target ?? null, a.seconds ?? null, a.role ?? null, a.reason ?? null);
    },
    async auditLog(f) {
      const { where, params } = auditWhere(f);
      return db.prepare<Array<string | number>, AuditRow>(`SELECT * FROM mod_audit ${where} ORDER BY id DESC LIMIT ?`).all(...params, f.limit).map(auditOf);
    },
  };
}
