/**
 * Server → client events, each a schema. The client validates every pushed
 * event with these (and drops, with a warning naming only the event, one
 * that does not match); the server's emits are typed by them.
 */
import { z } from 'zod';
import { Message, User } from './schemas.ts';
import { ReportedEvent } from './moderation.ts';

export const DISCONNECT_REASONS = ['server_shutdown', 'slow_consumer', 'session_expired', 'session_revoked'] as const;
export const DisconnectReason = z.enum(DISCONNECT_REASONS);
export type DisconnectReason = z.infer<typeof DisconnectReason>;

export const MessagesEvent = z.object({ room: z.string(), messages: z.array(Message) });
export const PresenceEvent = z.object({
  room: z.string(),
  /** Display names, one per user present. */
  members: z.array(z.string()),
  /** The same users, told apart by userId. Since 1.5. */
  users: z.array(User).optional(),
});
export const TypingEvent = z.object({
  room: z.string(),
  /** Display names of who is typing now; an empty list clears. */
  typing: z.array(z.string()),
  /** The same users, told apart by userId. Since 1.5. */
  users: z.array(User).optional(),
});
/** Sent before the server closes a connection on purpose. */
export const ByeEvent = z.object({ reason: DisconnectReason, retryAfterMs: z.number().int().min(0).optional() });

/** This user's read position in a room moved (in another tab, or on another device). Since 2.0. */
export const ReadEvent = z.object({ room: z.string(), seq: z.number() });
/** This user lost access to a room (removed from a private room by its owner; since 2.7 also banned from any room); the subscription has ended. Since 2.0. */
export const RemovedEvent = z.object({ room: z.string() });
/** A room was added to this user's rooms by someone else (an invitation, a direct message). Since 2.0. */
export const InvitedEvent = z.object({ room: z.string(), title: z.string().optional(), by: User });

export const EVENTS = {
  messages: MessagesEvent,
  presence: PresenceEvent,
  typing: TypingEvent,
  bye: ByeEvent,
  read: ReadEvent,
  removed: RemovedEvent,
  invited: InvitedEvent,
  /** A room's open reports changed: told to its moderators (the count badge). Since 2.7. */
  reported: ReportedEvent,
};

export type Events = typeof EVENTS;
export type EventName = keyof Events;
export type EventOf<E extends EventName> = z.output<Events[E]>;
export type MessagesEvent = EventOf<'messages'>;
export type PresenceEvent = EventOf<'presence'>;
export type TypingEvent = EventOf<'typing'>;
export type ByeEvent = EventOf<'bye'>;

/** The socket.io event map for server → client, derived from the event table. */
export type ServerToClientEvents = { [E in EventName]: (ev: EventOf<E>) => void };
