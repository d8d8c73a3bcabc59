/**
 * Everything the server sends is `unknown` until these schemas accept it.
 * The record schemas come from the shared protocol; the event and ack
 * envelopes are assembled here because the protocol module types them but
 * only the client needs to parse them.
 */
import { z } from 'zod';
import {
  DISCONNECT_REASONS,
  ErrorBody,
  Message,
  fail,
  type Ack,
  type ByeEvent,
  type HistoryOk,
  type JoinOk,
  type MessagesEvent,
  type PresenceEvent,
  type ReadOk,
  type SendOk,
  type TypingEvent,
} from '../../../shared/protocol.ts';

const MessagesEventSchema = z.object({ room: z.string(), messages: z.array(Message) });
const PresenceEventSchema = z.object({ room: z.string(), members: z.array(z.string()) });
const TypingEventSchema = z.object({ room: z.string(), typing: z.array(z.string()) });
const ByeEventSchema = z.object({
  reason: z.enum(DISCONNECT_REASONS),
  retryAfterMs: z.number().int().min(0).optional(),
});

const JoinOkSchema = z.object({
  room: z.string(),
  epoch: z.string(),
  lastSeq: z.number(),
  messages: z.array(Message),
  members: z.array(z.string()),
  recovered: z.boolean(),
});
const SendOkSchema = z.object({ seq: z.number(), id: z.string(), ts: z.number(), duplicate: z.boolean().optional() });
const HistoryOkSchema = z.object({ messages: z.array(Message) });
const ReadOkSchema = z.object({
  room: z.string(),
  epoch: z.string(),
  lastSeq: z.number(),
  messages: z.array(Message),
  // Protocol 1.2; a 1.1 server omits them.
  members: z.array(z.string()).default([]),
  typing: z.array(z.string()).default([]),
});
const FailSchema = z.object({ ok: z.literal(false), error: ErrorBody });

/** Parses a pushed event; null when it does not match (the caller drops it). */
function parser<T>(schema: z.ZodType<T>): (payload: unknown) => T | null {
  return (payload) => {
    const r = schema.safeParse(payload);
    return r.success ? r.data : null;
  };
}

export const parseMessagesEvent: (p: unknown) => MessagesEvent | null = parser(MessagesEventSchema);
export const parsePresenceEvent: (p: unknown) => PresenceEvent | null = parser(PresenceEventSchema);
export const parseTypingEvent: (p: unknown) => TypingEvent | null = parser(TypingEventSchema);
export const parseByeEvent: (p: unknown) => ByeEvent | null = parser(ByeEventSchema);
export const parseReadOk: (p: unknown) => ReadOk | null = parser(ReadOkSchema);
export const parseSendOk: (p: unknown) => SendOk | null = parser(SendOkSchema);

/** Parses an ack: a well-formed failure passes through, anything malformed becomes `unavailable`. */
function ackParser<T extends object>(schema: z.ZodType<T>): (payload: unknown) => Ack<T> {
  return (payload) => {
    const failed = FailSchema.safeParse(payload);
    if (failed.success) return failed.data;
    if (typeof payload === 'object' && payload !== null && (payload as { ok?: unknown }).ok === true) {
      const r = schema.safeParse(payload);
      if (r.success) return { ok: true, ...r.data };
    }
    return fail('unavailable', 'The server sent an unexpected answer.');
  };
}

export const parseJoinAck: (p: unknown) => Ack<JoinOk> = ackParser(JoinOkSchema);
export const parseSendAck: (p: unknown) => Ack<SendOk> = ackParser(SendOkSchema);
export const parseHistoryAck: (p: unknown) => Ack<HistoryOk> = ackParser(HistoryOkSchema);
export const parseEmptyAck: (p: unknown) => Ack<object> = ackParser(z.object({}));
