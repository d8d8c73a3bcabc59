/**
 * The outbox: messages the user typed that the server has not yet acked.
 * Each entry keeps its `clientId` for life, so a retry after a reconnect or a
 * page reload can never store the message twice (the server answers the same
 * clientId with the original seq). Pure functions; persistence is separate.
 */
import { z } from 'zod';
import { Attachment, COMMANDS, type ErrorCode, type Message } from '../../../shared/protocol.ts';
import { errorText } from './error-text.ts';

export type OutboxState = 'sending' | 'failed';

export interface OutboxEntry {
  clientId: string;
  room: string;
  /** Already trimmed, exactly what the server will store. */
  text: string;
  createdAt: number;
  state: OutboxState;
  /** Failed attempts answered by a connected server (drops do not count). */
  attempts: number;
  /** Not retried before this time (ms epoch); 0 = now. */
  notBefore: number;
  /** Why the last attempt failed, safe to show. */
  error: string | null;
  /** The userIds the message mentions (`send`'s `mentions`). */
  mentions?: readonly string[];
  /** The seq of the message this one answers. */
  replyTo?: number;
  /** Files uploaded for it (`send`'s `attachments` are their ids). */
  attachments?: readonly Attachment[];
}

/** Answers after which retrying the same request cannot succeed. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set(['bad_request', 'too_large', 'forbidden', 'not_found']);

/** Give up and offer "Retry" after this many failed answers in a row. */
export const MAX_SEND_ATTEMPTS = 4;

export function newEntry(
  clientId: string,
  room: string,
  text: string,
  now: number,
  mentions: readonly string[] = [],
  replyTo?: number,
  attachments: readonly Attachment[] = [],
): OutboxEntry {
  const entry: OutboxEntry = { clientId, room, text, createdAt: now, state: 'sending', attempts: 0, notBefore: 0, error: null };
  if (mentions.length > 0) entry.mentions = mentions;
  if (replyTo !== undefined) entry.replyTo = replyTo;
  if (attachments.length > 0) entry.attachments = attachments;
  return entry;
}

/** The next entry to send: oldest first, and never overtake one still waiting, to keep the typed order. */
export function nextToSend(outbox: readonly OutboxEntry[], now: number): OutboxEntry | 'wait' | null {
  for (const e of outbox) {
    if (e.state !== 'sending') continue;
    return e.notBefore <= now ? e : 'wait';
  }
  return null;
}

/** Drops the entry with this clientId (acked, or its broadcast copy arrived). */
export function removeEntry(outbox: readonly OutboxEntry[], clientId: string): readonly OutboxEntry[] {
  return outbox.some((e) => e.clientId === clientId) ? outbox.filter((e) => e.clientId !== clientId) : outbox;
}

/**
 * Removes entries whose message is already in the room log: the server's copy
 * can arrive (broadcast or join replay) before, or instead of, our ack.
 */
export function settleFromLog(
  outbox: readonly OutboxEntry[],
  messages: readonly Message[],
  userId: string | null,
): readonly OutboxEntry[] {
  if (outbox.length === 0 || messages.length === 0) return outbox;
  const seen = new Set<string>();
  for (const m of messages) {
    if (m.clientId !== undefined && (userId === null || m.authorId === userId)) seen.add(m.clientId);
  }
  if (seen.size === 0) return outbox;
  const left = outbox.filter((e) => !seen.has(e.clientId));
  return left.length === outbox.length ? outbox : left;
}

/** Records a failed answer: back off and retry, or mark failed for the user to retry. */
export function recordFailure(
  outbox: readonly OutboxEntry[],
  clientId: string,
  failure: { code: ErrorCode; message: string; retryAfterMs?: number },
  now: number,
  backoffMs: number,
): readonly OutboxEntry[] {
  return outbox.map((e) => {
    if (e.clientId !== clientId) return e;
    const attempts = e.attempts + 1;
    const failed = PERMANENT.has(failure.code) || attempts >= MAX_SEND_ATTEMPTS;
    return {
      ...e,
      attempts,
      state: failed ? 'failed' : 'sending',
      notBefore: failed ? 0 : now + Math.max(backoffMs, failure.retryAfterMs ?? 0),
      error: errorText(failure),
    };
  });
}

/** The user asked to try a failed message again: fresh attempts, same clientId. */
export function retryEntry(outbox: readonly OutboxEntry[], clientId: string): readonly OutboxEntry[] {
  return outbox.map((e) =>
    e.clientId === clientId && e.state === 'failed'
      ? { ...e, state: 'sending', attempts: 0, notBefore: 0, error: null }
      : e,
  );
}

/** After a reconnect, waiting entries go at once: the wait was for the old connection. */
export function resetWaits(outbox: readonly OutboxEntry[]): readonly OutboxEntry[] {
  return outbox.some((e) => e.notBefore !== 0) ? outbox.map((e) => (e.notBefore === 0 ? e : { ...e, notBefore: 0 })) : outbox;
}

/** A stored entry: the send's own fields keep the send's rules (`shared/`), so what the server would take survives a reload. */
const Send = COMMANDS.send.request.shape;
const StoredEntry = z.object({
  clientId: Send.clientId,
  room: z.string(),
  text: z.string(),
  createdAt: z.number(),
  state: z.enum(['sending', 'failed']),
  attempts: z.number().int().min(0),
  notBefore: z.number().optional(),
  error: z.string().nullable().optional(),
  mentions: Send.mentions,
  replyTo: Send.replyTo,
  attachments: z.array(Attachment).max(10).optional(),
});

/** Encodes the outbox for storage. */
export function serializeOutbox(outbox: readonly OutboxEntry[]): string {
  return JSON.stringify(outbox);
}

/** Decodes a stored outbox, keeping every entry that still parses. Corrupt data yields an empty outbox. */
export function parseOutbox(raw: string | null): OutboxEntry[] {
  if (raw === null) return [];
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: OutboxEntry[] = [];
  for (const item of data) {
    const r = StoredEntry.safeParse(item);
    if (!r.success) continue;
    out.push({ ...r.data, notBefore: 0, error: r.data.error ?? null });
  }
  return out;
}

/** The message a successful ack stands for, so it shows at once without waiting for the broadcast. */
export function ackedMessage(
  entry: OutboxEntry,
  ack: { seq: number; id: string; ts: number },
  author: { name: string; userId: string },
): Message {
  return {
    room: entry.room,
    seq: ack.seq,
    id: ack.id,
    ts: ack.ts,
    clientId: entry.clientId,
    author: author.name,
    authorId: author.userId,
    text: entry.text,
    ...(entry.mentions ? { mentions: [...entry.mentions] } : {}),
    ...(entry.replyTo === undefined ? {} : { replyTo: entry.replyTo }),
    ...(entry.attachments ? { attachments: [...entry.attachments] } : {}),
  };
}
