/**
 * What the person using the chat reads when the server says no: one sentence
 * per error code and connection refusal, written for people, in one place.
 * The server's own message is kept only where it already is the shared
 * rule's sentence or names the exact problem (`bad_request`, `not_found`).
 */
import { LIMITS, type ErrorCode } from '../../../shared/protocol.ts';
import type { ConnectionRefusal } from './transport.ts';

/** The sentence shown when a session is no longer accepted. */
export const SESSION_EXPIRED_TEXT = 'Your session has expired. Please join again.';
/** The sentence shown when the session was ended elsewhere (Settings on another device, a password change). */
export const SESSION_REVOKED_TEXT = 'You were signed out: this session was ended from another device.';

const ERROR_TEXT: Partial<Record<ErrorCode, string>> = {
  rate_limited: "You're going a little fast. Wait a moment, then try again.",
  unavailable: 'The server is busy or restarting. Try again in a moment.',
  too_large: `That's too long to send: messages can be at most ${LIMITS.textMaxChars.toLocaleString('en')} characters.`,
  forbidden: "That isn't allowed here.",
  unauthorized: SESSION_EXPIRED_TEXT,
};

/** A refusal to a person: what the status line says while the client waits to retry. */
export const REFUSAL_TEXT: Record<ConnectionRefusal, string> = {
  too_many_connections: 'Too many connections from this address or account; retrying…',
};

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * The sentence to show for a server's error answer. A moderator's rule
 * (since 2.7) says which: a mute until a time (in the reader's clock), slow
 * mode with its wait, a locked room, a ban.
 */
export function errorText(error: { code: ErrorCode; message: string; until?: number | undefined }): string {
  if (error.code === 'forbidden') {
    if (/^you are muted/.test(error.message)) {
      return error.until === undefined ? 'You are muted in this room until a moderator unmutes you.' : `You are muted in this room until ${clock.format(error.until)}.`;
    }
    if (/^slow mode|^this room is locked|^you are banned/.test(error.message)) return `${error.message[0]?.toUpperCase() ?? ''}${error.message.slice(1)}.`;
  }
  return ERROR_TEXT[error.code] ?? error.message;
}
