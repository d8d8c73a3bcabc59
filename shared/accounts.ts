/**
 * Accounts, sign-in and sessions (since 2.1): the requests and answers of
 * the account commands in the command table. A guest session is still one
 * `POST /api/session` away; an account owns its name (no guest may take it)
 * and is the same person on every device that signs in to it.
 */
import { z } from 'zod';
import { DisplayName } from './schemas.ts';

/** Shortest password accepted (NIST SP 800-63B: at least 8; no composition rules). */
export const PASSWORD_MIN_CHARS = 8;
/**
 * Longest password accepted, in code points. 800-63B asks for at least 64;
 * the cap keeps what one request makes the hash function read small.
 */
export const PASSWORD_MAX_CHARS = 256;

/** Why a password is refused, in words for people (the server says the same). */
export function passwordProblem(password: string): string | undefined {
  const n = [...password].length;
  if (n < PASSWORD_MIN_CHARS) return `A password needs at least ${PASSWORD_MIN_CHARS} characters.`;
  if (n > PASSWORD_MAX_CHARS) return `A password may have at most ${PASSWORD_MAX_CHARS} characters.`;
  return undefined;
}

/**
 * A new password: NFKC-normalised (so the same keys typed on two keyboards
 * give one password, as 800-63B §5.1.1.2 advises), 8 to 256 code points. The
 * server also refuses the commonest passwords (`server/accounts/common-passwords.txt`).
 */
export const NewPassword = z.string().transform((s, ctx) => {
  const v = s.normalize('NFKC');
  const problem = passwordProblem(v);
  if (problem === undefined) return v;
  ctx.addIssue({ code: 'custom', message: problem, input: s });
  return z.NEVER;
});

/** A password given to sign in: only bounded, never judged (a wrong one answers `unauthorized`). */
export const GivenPassword = z
  .string()
  .max(PASSWORD_MAX_CHARS * 4)
  .transform((s) => s.normalize('NFKC'));

/** A session's id: opaque, in the token and in `GET /api/sessions`. */
export const SessionId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not a session id');

export const RegisterRequest = z.strictObject({ name: DisplayName, password: NewPassword });
/** A name as typed at sign-in: bounded, then matched by its folded key (never an error of its own). */
export const LoginRequest = z.strictObject({ name: z.string().max(256), password: GivenPassword });

/** One session of the caller's account, as Settings lists it. */
export const SessionInfo = z.object({
  id: z.string(),
  /** The session the request came with. */
  current: z.boolean(),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  /** A label made from the User-Agent ("Chrome on Linux"), and the raw header. */
  device: z.string().optional(),
  userAgent: z.string().optional(),
  /** The client address the session was last seen from. */
  address: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const SessionsOk = z.object({ sessions: z.array(SessionInfo) });

export const EndSessionRequest = z.strictObject({ id: SessionId });
export const EndSessionsRequest = z.strictObject({ others: z.literal(true) });
/** `DELETE /api/sessions?others=1`. */
export const EndSessionsQuery = z.object({ others: z.literal('1').transform(() => true as const) });

/** A passkey of the account, as Settings lists it. */
export const PasskeyInfo = z.object({ id: z.string(), label: z.string(), createdAt: z.number(), lastUsedAt: z.number().optional() });
export type PasskeyInfo = z.infer<typeof PasskeyInfo>;

export const AccountOk = z.object({
  userId: z.string(),
  name: z.string(),
  /** False for a guest: nobody owns the name yet (claim it with a password or a passkey). */
  registered: z.boolean(),
  hasPassword: z.boolean(),
  passkeys: z.array(PasskeyInfo),
  createdAt: z.number().optional(),
});

export const ChangePasswordRequest = z.strictObject({
  /** Required when the account has a password. */
  current: GivenPassword.optional(),
  password: NewPassword,
});

/** Deleting an account asks for its name again, typed (a stolen unlocked tab is still a risk; a stray click is not). */
export const DeleteAccountRequest = z.strictObject({ confirm: z.string().max(256) });

/**
 * The WebAuthn JSON objects are the browser's and `@simplewebauthn`'s to
 * check; the edge bounds them (64 KiB per request already) and passes them
 * on as records.
 */
const WebAuthnJson = z.record(z.string(), z.unknown());

export const PasskeyOptionsOk = z.object({ options: WebAuthnJson });
export const PasskeyRegisterRequest = z.strictObject({
  response: WebAuthnJson,
  /** A name for the passkey ("Laptop"); the device's label when absent. */
  label: z.string().trim().min(1).max(64).optional(),
});
export const PasskeyRegisterOk = z.object({ passkey: PasskeyInfo, registered: z.literal(true) });
export const PasskeyLoginRequest = z.strictObject({ response: WebAuthnJson });
export const RemovePasskeyRequest = z.strictObject({ id: z.string().min(1).max(1024) });

/** Messages one export page carries; the client reads on with `next` until it is absent. */
export const EXPORT_PAGE = 2000;

/** A message as an export lists it: what the author wrote, where and when. */
export const ExportedMessage = z.object({
  room: z.string(),
  seq: z.number(),
  ts: z.number(),
  text: z.string(),
  editedAt: z.number().optional(),
  replyTo: z.number().optional(),
});
export type ExportedMessage = z.infer<typeof ExportedMessage>;

export const ExportRequest = z.strictObject({ after: z.string().max(256).optional() });
export const ExportQuery = z.object({ after: z.string().max(256).optional() });
export const ExportOk = z.object({
  exportedAt: z.number(),
  account: z.object({ userId: z.string(), name: z.string(), registered: z.boolean(), createdAt: z.number().optional() }),
  /** The caller's rooms, as the room list shows them (first page only). */
  rooms: z.array(z.object({ room: z.string(), visibility: z.string(), title: z.string().optional(), lastRead: z.number() })),
  /** The caller's messages (not deleted ones), by room then seq. */
  messages: z.array(ExportedMessage),
  /** Pass as `after` for the next page; absent on the last. */
  next: z.string().optional(),
});
