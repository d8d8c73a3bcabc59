/**
 * Moderation, once for the server, the client and bots (since 2.7): the
 * roles a person holds in a room, what each role may do (one table), and
 * the payloads of `setRole`, `moderate`, `reportMessage` and `reports`.
 */
import { z } from 'zod';
import { Message, ModAction, RoomName, Seq, User } from './schemas.ts';

/**
 * A person's role in a room, strongest first. `owner`: a private room's
 * creator, or in a public room a deployment administrator (`ADMINS`);
 * `moderator`: appointed per room by an owner; `member`: everyone else with
 * an account; `guest`: a session without an account.
 */
export const ROOM_ROLES = ['owner', 'moderator', 'member', 'guest'] as const;
export const RoomRole = z.enum(ROOM_ROLES);
export type RoomRole = z.infer<typeof RoomRole>;

/** The roles `setRole` may give: the owner's role is never given or taken by it. */
export const AssignableRole = z.enum(['moderator', 'member']);
export type AssignableRole = z.infer<typeof AssignableRole>;

/** What a role may be allowed to do in a room: each moderator action, and the rest of the moderation commands and rules. */
export type RoomPower = ModAction | 'dismiss' | 'setRole' | 'reports' | 'reportMessage' | 'postWhenLocked' | 'skipSlowmode';

const STAFF: readonly RoomRole[] = ['owner', 'moderator'];
const EVERYONE: readonly RoomRole[] = ROOM_ROLES;

/**
 * The role rules, as one table: who may do what in a room. The server asks
 * `may` and nothing else; the unit test prints it as role × power.
 */
export const ROLE_RULES: Readonly<Record<RoomPower, readonly RoomRole[]>> = {
  setRole: ['owner'],
  delete: STAFF,
  mute: STAFF,
  unmute: STAFF,
  ban: STAFF,
  unban: STAFF,
  slowmode: STAFF,
  lock: STAFF,
  unlock: STAFF,
  pin: STAFF,
  unpin: STAFF,
  dismiss: STAFF,
  reports: STAFF,
  reportMessage: EVERYONE,
  postWhenLocked: STAFF,
  skipSlowmode: STAFF,
};

export function may(role: RoomRole, power: RoomPower): boolean {
  return ROLE_RULES[power].includes(role);
}

/** Rank of a role: a moderator acts only on someone of a lower rank (a moderator cannot mute another). */
export function rank(role: RoomRole): number {
  return ROOM_ROLES.length - ROOM_ROLES.indexOf(role);
}

/** Whether `actor` may act on someone holding `subject` (mute, ban, change their role). */
export function outranks(actor: RoomRole, subject: RoomRole): boolean {
  return rank(actor) > rank(subject);
}

/**
 * A room's roles as the rules see them: who owns it and who moderates it.
 * Everyone else is a member (with an account) or a guest.
 */
export interface RoleBook {
  owners: readonly string[];
  moderators: readonly string[];
}

/** The outcome of asking for a role change: the new book, or why not. */
export type RoleChange = { ok: true; book: RoleBook } | { ok: false; reason: string };

/**
 * A role change, as `setRole` asks for it, by the rules: only an owner may
 * change roles; the owner's own role is never changed by it (so a room
 * never loses its owner); only an account may moderate.
 */
export function changeRole(book: RoleBook, actor: string, subject: string, role: AssignableRole, subjectHasAccount: boolean): RoleChange {
  if (!book.owners.includes(actor)) return { ok: false, reason: "only the room's owner can change roles" };
  if (book.owners.includes(subject)) return { ok: false, reason: "the owner's role cannot be changed" };
  if (role === 'moderator' && !subjectHasAccount) return { ok: false, reason: 'only someone with an account can moderate' };
  const others = book.moderators.filter((m) => m !== subject);
  return { ok: true, book: { owners: book.owners, moderators: role === 'moderator' ? [...others, subject] : others } };
}

// ----- limits -------------------------------------------------------------------

export const MODERATION_LIMITS = {
  /** Messages a room may have pinned at once. */
  pins: 10,
  /** Longest mute that ends by itself (a longer one is until unmuted). */
  muteMaxSeconds: 365 * 24 * 3600,
  /** Longest slow-mode interval. */
  slowmodeMaxSeconds: 6 * 3600,
  /** Longest reason a moderator or a reporter may give. */
  reasonMaxChars: 500,
  /** Reports a `reports` answer lists at most (the oldest open first). */
  reportsShown: 100,
} as const;

/** The mute lengths the client offers (seconds; 0: until unmuted). */
export const MUTE_CHOICES = [600, 3600, 86_400, 0] as const;

// ----- payloads -------------------------------------------------------------------

const UserId = z.string().min(1).max(64);
const Reason = z.string().trim().max(MODERATION_LIMITS.reasonMaxChars);

export const SetRoleRequest = z.strictObject({ room: RoomName, userId: UserId, role: AssignableRole });

/** Which fields each action needs (and the only ones it reads). */
export const ACTION_FIELDS: Readonly<Record<ModAction | 'dismiss', ReadonlyArray<'userId' | 'target' | 'seconds'>>> = {
  delete: ['target'],
  mute: ['userId'],
  unmute: ['userId'],
  ban: ['userId'],
  unban: ['userId'],
  slowmode: ['seconds'],
  lock: [],
  unlock: [],
  pin: ['target'],
  unpin: ['target'],
  dismiss: ['target'],
};

export const ModerateAction = z.union([ModAction, z.literal('dismiss')]);
export type ModerateAction = z.infer<typeof ModerateAction>;

/**
 * One moderator action. `mute`: `seconds` (absent or 0: until unmuted);
 * `slowmode`: `seconds` between one person's messages (0: off); `ban` with
 * `address: true` also bans the address the user's last session came from
 * (for guests, who can come back under a new identity). `target`, with
 * `mute` or `ban` too, is the message acted on from a report: its open
 * reports are resolved. `dismiss` (target): closes a message's open reports.
 */
export const ModerateRequest = z
  .strictObject({
    room: RoomName,
    action: ModerateAction,
    userId: UserId.optional(),
    target: Seq.optional(),
    seconds: z.number().int().min(0).max(MODERATION_LIMITS.muteMaxSeconds).optional(),
    reason: Reason.optional(),
    address: z.boolean().optional(),
  })
  .superRefine((req, ctx) => {
    for (const field of ACTION_FIELDS[req.action]) {
      if (field === 'seconds' && req.action === 'mute') continue;
      if (req[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${req.action} needs ${field}` });
    }
    if (req.action === 'slowmode' && (req.seconds ?? 0) > MODERATION_LIMITS.slowmodeMaxSeconds) {
      ctx.addIssue({ code: 'custom', path: ['seconds'], message: `slow mode is at most ${MODERATION_LIMITS.slowmodeMaxSeconds} s` });
    }
  });
export type ModerateRequest = z.infer<typeof ModerateRequest>;

export const REPORT_REASONS = ['spam', 'harassment', 'other'] as const;
export const ReportReason = z.enum(REPORT_REASONS);
export type ReportReason = z.infer<typeof ReportReason>;

/** A report of a message to the room's moderators; `other` needs a few words. */
export const ReportMessageRequest = z
  .strictObject({ room: RoomName, target: Seq, reason: ReportReason, text: Reason.optional() })
  .refine((r) => r.reason !== 'other' || (r.text ?? '').length > 0, { path: ['text'], message: 'say what is wrong' });

export const ReportsRequest = z.strictObject({ room: RoomName });

/** One open report, as a moderator sees it: the message as it is now, who reported it and why. */
export const Report = z.object({
  id: z.string(),
  room: z.string(),
  target: z.number(),
  message: Message.optional(),
  reporter: User,
  reason: ReportReason,
  text: z.string().optional(),
  ts: z.number(),
});
export type Report = z.infer<typeof Report>;

export const ReportsOk = z.object({ reports: z.array(Report), open: z.number() });

/** The caller's standing in a room, and the room's rules: part of a join's answer. Since 2.7. */
export const RoomStanding = z.object({
  role: RoomRole,
  /** Muted: until when (ms since the epoch); 0: until a moderator unmutes. */
  mutedUntil: z.number().optional(),
  /** Slow mode: seconds between one person's messages (absent: off). */
  slowmode: z.number().optional(),
  /** Only moderators may post. */
  locked: z.boolean().optional(),
  /** The pinned messages, as they are now (oldest pin first). */
  pinned: z
    .array(z.object({ seq: Seq, author: z.string(), authorId: z.string(), text: z.string(), deleted: z.boolean().optional() }))
    .optional(),
  /** Moderators: open reports in the room. */
  reports: z.number().optional(),
});
export type RoomStanding = z.infer<typeof RoomStanding>;

/** Told to a room's moderators when its open reports change. */
export const ReportedEvent = z.object({ room: z.string(), open: z.number() });

export type { ModAction };
