/**
 * The building blocks of the wire protocol: scalars, records and errors.
 * Every inbound payload is `unknown` until one of these schemas accepts it;
 * TypeScript types are inferred from the schemas, never written beside them.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const RoomName = z
  .string()
  .regex(ROOM_PATTERN, 'room must be 1-64 of a-z, 0-9, "_" or "-", starting with a letter or digit');
export type RoomName = z.infer<typeof RoomName>;

// Control characters (C0, DEL, C1) are refused in names; in message text only
// newline and tab are allowed among them.
// eslint-disable-next-line no-control-regex
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const TEXT_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Counts user-perceived characters the way a person would (code points). */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export const DisplayName = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, 'name must not be empty')
      .refine((s) => charLength(s) <= LIMITS.nameMaxChars, `name must be at most ${LIMITS.nameMaxChars} characters`)
      .refine((s) => !NAME_FORBIDDEN.test(s), 'name must not contain control characters'),
  );

export const MessageText = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, 'text must not be empty')
      .refine((s) => !TEXT_FORBIDDEN.test(s), 'text must not contain control characters')
      .superRefine((s, ctx) => {
        // Reported as `too_big` so the edge answers `too_large`, not `bad_request`.
        if (charLength(s) > LIMITS.textMaxChars) {
          ctx.addIssue({
            code: 'too_big',
            origin: 'string',
            maximum: LIMITS.textMaxChars,
            inclusive: true,
            input: s,
            message: `text must be at most ${LIMITS.textMaxChars} characters`,
          });
        }
      }),
  );

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

export const Message = z.object({
  room: RoomName,
  /** Per-room, gap-free, increasing from 1. */
  seq: Seq,
  /** Globally unique message id. */
  id: z.string(),
  clientId: z.string().optional(),
  /** Display name of the author at the time of sending. */
  author: z.string(),
  /** Stable id of the author's session identity (distinguishes two "alice"s). */
  authorId: z.string(),
  text: z.string(),
  /** Server time at commit, ms since the Unix epoch. */
  ts: z.number(),
});
export type Message = z.infer<typeof Message>;

/** A person as others see them: the stable id and the display name. Since 1.5. */
export const User = z.object({ userId: z.string(), name: z.string() });
export type User = z.infer<typeof User>;

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
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  /** Present on `rate_limited` and `unavailable`: wait this long, then retry. */
  retryAfterMs: z.number().int().min(0).optional(),
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
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

/** Builds the failure half of an ack. */
export function fail(code: ErrorCode, message: string, retryAfterMs?: number): Fail {
  return { ok: false, error: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs } };
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
