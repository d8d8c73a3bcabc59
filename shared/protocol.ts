/**
 * The Fiberchat wire protocol, defined once for the server, the browser client
 * and bots. Every inbound payload is `unknown` until one of these schemas
 * accepts it; the TypeScript types are inferred from the schemas so the two
 * can never drift. Documented in docs/PROTOCOL.md.
 */
import { z } from 'zod';

/** Bumped on any incompatible change; additions keep the major version. */
export const PROTOCOL_VERSION = '1.4';

// ---------------------------------------------------------------------------
// Limits. Each one is part of the contract: clients may rely on them.
// ---------------------------------------------------------------------------

export const LIMITS = {
  /** Longest message text, in characters, after trimming. */
  textMaxChars: 4000,
  /** Longest display name, in characters, after trimming. */
  nameMaxChars: 32,
  /** Messages a join returns when the client has nothing yet (`since` absent). */
  joinPage: 50,
  /** Largest page a `history` request or REST read may ask for. */
  historyMaxPage: 200,
  /** Default page size for `history` and REST reads. */
  historyDefaultPage: 50,
  /**
   * Largest gap a join with `since` replays. A client further behind gets
   * `recovered: false` and the latest page, and reloads instead of replaying
   * an unbounded backlog in one packet.
   */
  replayMax: 1000,
  /** Largest socket.io packet the server accepts, in bytes. */
  maxPacketBytes: 64 * 1024,
} as const;

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

export const Member = z.string();

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

// ---------------------------------------------------------------------------
// Client → server requests (socket.io events, each with an ack callback)
// ---------------------------------------------------------------------------

export const JoinRequest = z.strictObject({
  room: RoomName,
  /** Last seq the client has seen in this room; omit on first join. */
  since: Seq.optional(),
  /** Epoch the client's `since` belongs to; a mismatch means "not recovered". */
  epoch: z.string().max(64).optional(),
});
export type JoinRequest = z.infer<typeof JoinRequest>;

export const SendRequest = z.strictObject({
  room: RoomName,
  text: MessageText,
  clientId: ClientId,
});
export type SendRequest = z.input<typeof SendRequest>;

export const LeaveRequest = z.strictObject({ room: RoomName });
export type LeaveRequest = z.infer<typeof LeaveRequest>;

export const HistoryRequest = z.strictObject({
  room: RoomName,
  /** Return messages with seq strictly below this. */
  before: Seq,
  limit: PageLimit.optional(),
});
export type HistoryRequest = z.infer<typeof HistoryRequest>;

export const TypingRequest = z.strictObject({ room: RoomName });
export type TypingRequest = z.infer<typeof TypingRequest>;

/** A round trip that touches no room: liveness checks and transport probes. Since 1.3. */
// `undefined` arrives as `null` over JSON: both mean "no payload".
export const PingRequest = z.strictObject({}).nullish();
export type PingRequest = z.infer<typeof PingRequest>;
export type PingOk = { ts: number };

export type JoinOk = {
  room: string;
  /** Identity of this room's log; changes only if the history was reset. */
  epoch: string;
  lastSeq: number;
  /** After `since` when recovered, else the latest page. Ascending by seq. */
  messages: Message[];
  members: string[];
  /** False when `since`/`epoch` could not be replayed; `messages` is then the latest page. */
  recovered: boolean;
};
export type SendOk = { seq: number; id: string; ts: number; duplicate?: boolean };
export type HistoryOk = { messages: Message[] };

// ---------------------------------------------------------------------------
// Server → client events
// ---------------------------------------------------------------------------

export type MessagesEvent = { room: string; messages: Message[] };
export type PresenceEvent = { room: string; members: string[] };
export type TypingEvent = { room: string; typing: string[] };
/** Sent before the server closes a connection on purpose. */
export type ByeEvent = { reason: DisconnectReason; retryAfterMs?: number };

export const DISCONNECT_REASONS = ['server_shutdown', 'slow_consumer', 'session_expired'] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

// ---------------------------------------------------------------------------
// Typed event maps: parameterise `new Server<…>()` and the client socket so a
// renamed field fails the build on both sides.
// ---------------------------------------------------------------------------

export interface ClientToServerEvents {
  join: (req: JoinRequest, ack: (res: Ack<JoinOk>) => void) => void;
  send: (req: SendRequest, ack: (res: Ack<SendOk>) => void) => void;
  leave: (req: LeaveRequest, ack: (res: Ack<object>) => void) => void;
  history: (req: HistoryRequest, ack: (res: Ack<HistoryOk>) => void) => void;
  typing: (req: TypingRequest, ack?: (res: Ack<object>) => void) => void;
  ping: (req: PingRequest, ack: (res: Ack<PingOk>) => void) => void;
}

export interface ServerToClientEvents {
  messages: (ev: MessagesEvent) => void;
  presence: (ev: PresenceEvent) => void;
  typing: (ev: TypingEvent) => void;
  bye: (ev: ByeEvent) => void;
}

// ---------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------

export const SessionRequest = z.strictObject({ name: DisplayName });
export type SessionOk = { token: string; name: string; userId: string; expiresAt: number };

export const ReadQuery = z
  .strictObject({
    after: z.coerce.number().pipe(Seq).optional(),
    before: z.coerce.number().pipe(Seq).optional(),
    limit: z.coerce.number().pipe(PageLimit).optional(),
  })
  .refine((q) => q.after === undefined || q.before === undefined, 'give either after or before, not both');
export type ReadOk = {
  room: string;
  epoch: string;
  lastSeq: number;
  messages: Message[];
  /** Who is present (socket members and Ajax pollers alike). Since 1.2. */
  members: string[];
  /** Who is typing. Since 1.2. */
  typing: string[];
};

export const PostMessageBody = z.strictObject({ text: MessageText, clientId: ClientId });

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
