/**
 * The building blocks of the wire protocol: scalars, records and errors.
 * Every inbound payload is `unknown` until one of these schemas accepts it;
 * TypeScript types are inferred from the schemas, never written beside them.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { checkName, checkText } from './text-rules.ts';

export { charLength, displayTag } from './text-rules.ts';

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const RoomName = z
  .string()
  .regex(ROOM_PATTERN, 'room must be 1-64 of a-z, 0-9, "_" or "-", starting with a letter or digit');
export type RoomName = z.infer<typeof RoomName>;

/**
 * A display name: NFC-normalised, spaces collapsed and trimmed, then held to
 * the name rules of shared/text-rules.ts (no controls, no bidi controls, no
 * invisible characters, at most 32 code points). The accepted value is the
 * normalised one, which is what the session carries.
 */
export const DisplayName = z.string().transform((s, ctx) => {
  const r = checkName(s);
  if (r.ok) return r.value;
  ctx.addIssue({ code: 'custom', message: r.message, input: s });
  return z.NEVER;
});

/**
 * A message text: NFC-normalised, line breaks as LF, trimmed, then held to the
 * text rules of shared/text-rules.ts. What is accepted is exactly what is
 * stored, acked and broadcast. Too long is reported as `too_big`, so the edge
 * answers `too_large` rather than `bad_request`.
 */
export const MessageText = messageText(false);

/** A message's text beside attachments: the same rules, but nothing (or only blanks) is the empty text. Since 2.6. */
export const CaptionText = messageText(true);

function messageText(mayBeEmpty: boolean) {
  return z.string().transform((s, ctx) => {
    const r = checkText(s);
    if (r.ok) return r.value;
    if (mayBeEmpty && (r.reason === 'empty' || r.reason === 'blank')) return '';
    ctx.addIssue(
      r.reason === 'too_long'
        ? { code: 'too_big', origin: 'string', maximum: LIMITS.textMaxChars, inclusive: true, input: s, message: r.message }
        : { code: 'custom', message: r.message, input: s },
    );
    return z.NEVER;
  });
}

/** Client-chosen idempotency key: the same key twice stores one message. */
export const ClientId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'clientId must be 8-64 of A-Z, a-z, 0-9, "_" or "-"');

export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const PageLimit = z.number().int().min(1).max(LIMITS.historyMaxPage);
/** A room log's identity; opaque to clients. */
export const Epoch = z.string().max(64);

/** A query-string number: digits only (no `1e3`, no `0x10`, no blanks), then the given schema. */
export function queryNumber<S extends z.ZodType<number, number>>(schema: S) {
  return z
    .string()
    .regex(/^\d{1,16}$/, 'must be a whole number')
    .transform(Number)
    .pipe(schema);
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/** A person as others see them: the stable id and the display name. Since 1.5. */
export const User = z.object({ userId: z.string(), name: z.string() });
export type User = z.infer<typeof User>;

/**
 * A reaction: one emoji, as a person picks it from a keyboard or a picker
 * (ZWJ sequences, skin tones, flags and keycaps included), at most 16 code
 * points. Text that merely contains an emoji is not a reaction.
 */
export const Emoji = z
  .string()
  .max(64)
  .refine(
    (s) =>
      // The joiner, VS16 and the keycap combine with what precedes them: kept outside the classes, which hold whole characters.
      /^(?:[\p{Extended_Pictographic}\p{Emoji_Component}]|\u200d|\ufe0f|\u20e3)+$/u.test(s) &&
      /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}]|\u20e3/u.test(s) &&
      [...s].length <= 16,
    'a reaction is one emoji',
  );

/** The kinds of entry in a room's log. Since 2.0. */
export const ENTRY_KINDS = ['message', 'edit', 'delete', 'reaction', 'moderation'] as const;
export const EntryKind = z.enum(ENTRY_KINDS);
export type EntryKind = z.infer<typeof EntryKind>;

/**
 * What a moderator did, as the room's log records it (since 2.7). An entry
 * of kind `moderation` carries one (a role change, a mute, a ban, slow mode,
 * a lock, a pin); a `delete` by a moderator carries `{ action: 'delete' }`,
 * and so does the tombstone it leaves ("removed by a moderator"). The
 * reason a moderator gives is not in the log: only the audit log keeps it.
 */
export const MOD_ACTIONS = ['delete', 'mute', 'unmute', 'ban', 'unban', 'slowmode', 'lock', 'unlock', 'pin', 'unpin'] as const;
export const ModAction = z.enum(MOD_ACTIONS);
export type ModAction = z.infer<typeof ModAction>;
export const ModNote = z.object({
  /** A moderator action, or `role`: someone's role changed. */
  action: z.union([ModAction, z.literal('role')]),
  /** Whom it was done to (a role change, a mute, a ban). */
  user: User.optional(),
  /** A role change: the new role. */
  role: z.enum(['moderator', 'member']).optional(),
  /** A mute: how long (absent: until unmuted); slow mode: the interval (0: off). */
  seconds: z.number().int().min(0).optional(),
});
export type ModNote = z.infer<typeof ModNote>;

/** A reaction on a message, as a page shows it to one reader. Since 2.0. */
export const ReactionSummary = z.object({
  emoji: z.string(),
  count: z.number(),
  /** Whether the reader is among those who reacted. */
  mine: z.boolean(),
  /** Who reacted (the first 20). */
  users: z.array(User),
});
export type ReactionSummary = z.infer<typeof ReactionSummary>;

/** An uploaded file's id: opaque, URL-safe. Since 2.6. */
export const FileId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a file id');

/**
 * A file sent with a message, as every reader sees it. `url` serves the bytes
 * to whoever may read the room (a bearer token or the app's own session);
 * an image has its size in pixels (so a list can lay it out before it loads)
 * and `thumb`, a WebP at most 320 px on its longer side (`?size=1280` for
 * the larger one). Since 2.6.
 */
export const Attachment = z.object({
  id: FileId,
  name: z.string(),
  size: z.number().int().min(0),
  /** The type sniffed from the bytes (not what the uploader said). */
  type: z.string(),
  url: z.string(),
  width: z.number().int().min(1).optional(),
  height: z.number().int().min(1).optional(),
  thumb: z.string().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** The message a reply answers, as it is now. Since 2.0. */
export const ReplyPreview = z.object({
  seq: Seq,
  author: z.string(),
  authorId: z.string(),
  /** The start of its text; empty when it was deleted. */
  text: z.string(),
  deleted: z.boolean().optional(),
});
export type ReplyPreview = z.infer<typeof ReplyPreview>;

/**
 * One entry of a room's log. Every entry has its own `seq` in the room's
 * total order. Without `kind` (or with `kind: "message"`) it is a message;
 * since 2.0 an entry may also record a change to an earlier message
 * (`target`): an `edit` (its new `text`), a `delete`, or a `reaction`
 * (`emoji`, `on`). In the live stream and in a resume, entries come as they
 * happened; in pages a message comes in its current state (`editedAt`,
 * `deleted`, `reactions`, `reply`), so applying the changes that follow it
 * is idempotent.
 */
export const Message = z.object({
  room: RoomName,
  /** Per-room, gap-free, increasing from 1. */
  seq: Seq,
  /** Globally unique entry id. */
  id: z.string(),
  clientId: z.string().optional(),
  /** Display name of the author at the time of sending. */
  author: z.string(),
  /** Stable id of the author's session identity (distinguishes two "alice"s). */
  authorId: z.string(),
  /** A message's text (empty once deleted); an edit's new text; empty for other changes. */
  text: z.string(),
  /** Server time at commit, ms since the Unix epoch. */
  ts: z.number(),
  kind: EntryKind.optional(),
  /** A change: the seq of the message it changes. */
  target: Seq.optional(),
  /** A reaction: which emoji, and whether it was added (true) or taken back (false). */
  emoji: z.string().optional(),
  on: z.boolean().optional(),
  /** A message: when it was last edited. */
  editedAt: z.number().optional(),
  /** A message: deleted (a tombstone; its text is gone). */
  deleted: z.boolean().optional(),
  /** A message in a page: its reactions now, as the reader sees them. */
  reactions: z.array(ReactionSummary).optional(),
  /** A message that replies to another: its seq, and (in pages and live) how it looks now. */
  replyTo: Seq.optional(),
  reply: ReplyPreview.optional(),
  /** The userIds a message mentions. */
  mentions: z.array(z.string()).optional(),
  /** A message: the files sent with it (gone once it is deleted). Since 2.6. */
  attachments: z.array(Attachment).optional(),
  /**
   * A `moderation` entry: what was done; a moderator's `delete` and the
   * tombstone it leaves: `{ action: 'delete' }`. Since 2.7.
   */
  mod: ModNote.optional(),
});
export type Message = z.infer<typeof Message>;

// ---------------------------------------------------------------------------
// Errors: a closed set of codes; messages are safe to show to a user.
// ---------------------------------------------------------------------------

export const ERROR_CODES = [
  'bad_request',
  'too_large',
  'not_found',
  'forbidden',
  'rate_limited',
  'unavailable',
  'unauthorized',
  /** The name belongs to an account (or, creating one, to another). Since 2.1. */
  'name_taken',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  /** Present on `rate_limited` and `unavailable`: wait this long, then retry. */
  retryAfterMs: z.number().int().min(0).optional(),
  /**
   * Present on a `forbidden` that ends by itself: a mute, or slow mode (ms
   * since the epoch). A mute until a moderator lifts it has none. Since 2.7.
   */
  until: z.number().int().min(0).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export type Fail = { ok: false; error: ErrorBody };
export type Ok<T> = { ok: true } & T;
export type Ack<T> = Ok<T> | Fail;

export const FailSchema = z.object({ ok: z.literal(false), error: ErrorBody });
/** The body of every REST error answer. */
export const ErrorEnvelope = z.object({ error: ErrorBody });

/** HTTP status for each error code, used by the REST edge. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  name_taken: 409,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

/** Builds the failure half of an ack. */
export function fail(code: ErrorCode, message: string, retryAfterMs?: number): Fail {
  return { ok: false, error: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs } };
}

/** A `forbidden` that ends at `until` (ms since the epoch; undefined: not by itself). Since 2.7. */
export function forbiddenUntil(message: string, until: number | undefined): Fail {
  return { ok: false, error: until === undefined ? { code: 'forbidden', message } : { code: 'forbidden', message, until } };
}

/**
 * Validates an inbound payload. Oversized text answers `too_large`; anything
 * else that does not match answers `bad_request`.
 */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  payload: unknown,
): { ok: true; value: z.output<S> } | Fail {
  const r = schema.safeParse(payload);
  if (r.success) return { ok: true, value: r.data };
  // Only oversized content is `too_large`; an out-of-range number (say, a page limit) is a bad request.
  const tooBig = r.error.issues.some((i) => i.code === 'too_big' && i.origin === 'string');
  return fail(tooBig ? 'too_large' : 'bad_request', describeZodError(r.error));
}

/** First issue of a zod error, phrased for a user. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid request';
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
