/**
 * What the store keeps for moderation (since protocol 2.7): each room's
 * moderators, mutes, bans and rules (slow mode, lock, pins), the reports of
 * messages, and the audit log of every moderator action. The room's log
 * records each action too (an entry of kind `moderation`, for readers);
 * these tables are what the rules read, and what operators search.
 */
import type { ReportReason, User } from '../../shared/protocol.ts';

export interface Mute {
  user: User;
  /** Until when (ms since the epoch); 0: until unmuted. */
  until: number;
}

export interface Ban {
  user: User;
  /** Also refused: anyone coming from this client address. */
  address?: string | undefined;
  at: number;
}

export interface RoomRules {
  /** Seconds between one person's messages; 0: off. */
  slowmode: number;
  /** Only moderators may post. */
  locked: boolean;
  /** The pinned messages' seqs, oldest pin first. */
  pins: number[];
}

export const NO_RULES: RoomRules = { slowmode: 0, locked: false, pins: [] };

/** Everything the rules read about one room, in one call. */
export interface RoomModeration {
  moderators: User[];
  mutes: Mute[];
  bans: Ban[];
  rules: RoomRules;
}

export interface ReportRecord {
  id: string;
  room: string;
  target: number;
  /** The reported message's author (never shown the reporter). */
  authorId: string;
  reporter: User;
  reason: ReportReason;
  text?: string | undefined;
  ts: number;
}

/** One moderator action, as the audit log keeps it. */
export interface AuditRecord {
  /** Assigned by the store, increasing. */
  id?: number | undefined;
  ts: number;
  room: string;
  actor: User;
  /** A moderator action, `dismiss`, or `role` (a role change). */
  action: string;
  subject?: User | undefined;
  target?: number | undefined;
  seconds?: number | undefined;
  role?: string | undefined;
  reason?: string | undefined;
}

export interface AuditFilter {
  room?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  /** Older than this id (the previous page's last). */
  before?: number | undefined;
  limit: number;
}

export interface ModerationRecords {
  load(room: string): Promise<RoomModeration>;
  /** Makes `user` a moderator of `room` (true) or not (false). */
  setModerator(room: string, user: User, on: boolean): Promise<void>;
  /** Mutes `user` until `until` (0: until unmuted), replacing any mute. */
  mute(room: string, user: User, until: number): Promise<void>;
  /** True when there was a mute to lift. */
  unmute(room: string, userId: string): Promise<boolean>;
  ban(room: string, ban: Ban): Promise<void>;
  /** True when there was a ban to lift. */
  unban(room: string, userId: string): Promise<boolean>;
  setRules(room: string, rules: RoomRules): Promise<void>;
  /** Files a report; false when this reporter already has an open report of that message (nothing written). */
  addReport(report: ReportRecord): Promise<boolean>;
  /** Open reports, oldest first: of one room, or (undefined) of every room. */
  openReports(room: string | undefined, limit: number): Promise<ReportRecord[]>;
  openReportCount(room: string): Promise<number>;
  /** Closes the open reports of a message; answers how many. */
  resolveReports(room: string, target: number, by: string, resolution: 'dismissed' | 'acted', at: number): Promise<number>;
  audit(entry: AuditRecord): Promise<void>;
  /** The audit log, newest first. */
  auditLog(filter: AuditFilter): Promise<AuditRecord[]>;
}

/** A room's mutes or bans without `userId`'s, and whether there was one. */
function without<T extends { user: User }>(list: readonly T[], userId: string): [T[], boolean] {
  const kept = list.filter((x) => x.user.userId !== userId);
  return [kept, kept.length < list.length];
}

interface StoredReport extends ReportRecord {
  resolvedAt?: number;
}

/** Moderation records in memory, for the in-memory store. */
export class MemoryModerationRecords implements ModerationRecords {
  private readonly rooms = new Map<string, RoomModeration>();
  private readonly reports: StoredReport[] = [];
  private readonly log: AuditRecord[] = [];

  private room(room: string): RoomModeration {
    let r = this.rooms.get(room);
    if (!r) this.rooms.set(room, (r = { moderators: [], mutes: [], bans: [], rules: { ...NO_RULES, pins: [] } }));
    return r;
  }

  async load(room: string): Promise<RoomModeration> {
    const r = this.room(room);
    return structuredClone(r);
  }

  async setModerator(room: string, user: User, on: boolean) {
    const r = this.room(room);
    r.moderators = r.moderators.filter((m) => m.userId !== user.userId);
    if (on) r.moderators.push({ ...user });
  }

  async mute(room: string, user: User, until: number) {
    const r = this.room(room);
    r.mutes = without(r.mutes, user.userId)[0];
    r.mutes.push({ user: { ...user }, until });
  }

  async unmute(room: string, userId: string) {
    const r = this.room(room);
    const [kept, gone] = without(r.mutes, userId);
    r.mutes = kept;
    return gone;
  }

  async ban(room: string, ban: Ban) {
    const r = this.room(room);
    r.bans = without(r.bans, ban.user.userId)[0];
    r.bans.push(structuredClone(ban));
  }

  async unban(room: string, userId: string) {
    const r = this.room(room);
    const [kept, gone] = without(r.bans, userId);
    r.bans = kept;
    return gone;
  }

  async setRules(room: string, rules: RoomRules) {
    this.room(room).rules = { ...rules, pins: [...rules.pins] };
  }

  async addReport(report: ReportRecord) {
    const open = this.reports.some((r) => r.resolvedAt === undefined && r.room === report.room && r.target === report.target && r.reporter.userId === report.reporter.userId);
    if (open) return false;
    this.reports.push(structuredClone(report));
    return true;
  }

  async openReports(room: string | undefined, limit: number) {
    return this.reports
      .filter((r) => r.resolvedAt === undefined && (room === undefined || r.room === room))
      .sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map(({ resolvedAt: _, ...r }) => structuredClone(r));
  }

  async openReportCount(room: string) {
    return this.reports.filter((r) => r.resolvedAt === undefined && r.room === room).length;
  }

  async resolveReports(room: string, target: number, _by: string, _resolution: 'dismissed' | 'acted', at: number) {
    let n = 0;
    for (const r of this.reports) {
      if (r.resolvedAt === undefined && r.room === room && r.target === target) {
        r.resolvedAt = at;
        n++;
      }
    }
    return n;
  }

  async audit(entry: AuditRecord) {
    this.log.push({ ...structuredClone(entry), id: this.log.length + 1 });
  }

  async auditLog(f: AuditFilter) {
    const out: AuditRecord[] = [];
    for (let i = this.log.length - 1; i >= 0 && out.length < f.limit; i--) {
      const a = this.log[i] as AuditRecord;
      if (f.before !== undefined && (a.id as number) >= f.before) continue;
      if (f.room !== undefined && a.room !== f.room) continue;
      if (f.actorId !== undefined && a.actor.userId !== f.actorId) continue;
      if (f.action !== undefined && a.action !== f.action) continue;
      out.push(structuredClone(a));
    }
    return out;
  }
}
