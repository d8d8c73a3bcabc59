/**
 * The Server-Sent Events carrier's own pieces of the protocol (since 2.2):
 * the stream ticket and the event ids that let a stream resume.
 *
 * An event id lists every room of the stream with its position:
 * `room=epoch:seq` items joined by `,` (room names are `[a-z0-9_-]`, epochs
 * base64url, so neither holds a separator). A client that reconnects sends
 * the last id it saw (as `Last-Event-ID`, or `lastEventId` in the query) and
 * each room resumes after its seq, by the rules of `join { since, epoch }`.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { RoomName } from './schemas.ts';

/** `POST /api/stream-ticket` answers this: a single-use ticket for `GET /api/stream`, valid until `expiresAt`. */
export const StreamTicket = z.object({ ticket: z.string().min(1).max(512), expiresAt: z.number() });
export type StreamTicket = z.infer<typeof StreamTicket>;

/** The events of a stream besides the rooms' own (`messages`, `presence`, `typing`) and the user's notices. */
export const STREAM_EVENTS = {
  /** First on every stream: `{ protocol, heartbeatMs, rooms }`. */
  ready: 'ready',
  /** A room's join answer (the `join` command's `ok` body); carries the id. */
  joined: 'joined',
  /** A room of the stream could not be joined: `{ room, error }`. */
  refused: 'refused',
  /** Every `heartbeatMs` (EventSource shows no comments to the page, so the heartbeat is an event). */
  heartbeat: 'heartbeat',
} as const;

/** How long a ticket may wait to be used. */
export const STREAM_TICKET_TTL_MS = 30_000;

export interface StreamPosition {
  epoch: string;
  seq: number;
}

/** The id of a stream event: every room's position after it. */
export function formatStreamId(positions: ReadonlyMap<string, StreamPosition>): string {
  const items: string[] = [];
  for (const [room, p] of positions) items.push(`${room}=${p.epoch}:${p.seq}`);
  return items.join(',');
}

const Epoch = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** Reads an event id back; anything malformed reads as no position at all (a fresh join). */
export function parseStreamId(id: string | undefined | null): Map<string, StreamPosition> {
  const positions = new Map<string, StreamPosition>();
  if (!id || id.length > 200 * LIMITS.roomsPerConnection) return positions;
  for (const item of id.split(',')) {
    const eq = item.indexOf('=');
    const colon = item.lastIndexOf(':');
    if (eq <= 0 || colon <= eq) return new Map();
    const room = RoomName.safeParse(item.slice(0, eq));
    const epoch = Epoch.safeParse(item.slice(eq + 1, colon));
    const digits = item.slice(colon + 1);
    const seq = /^\d{1,15}$/.test(digits) ? Number(digits) : NaN;
    if (!room.success || !epoch.success || !Number.isSafeInteger(seq)) return new Map();
    positions.set(room.data, { epoch: epoch.data, seq });
  }
  return positions;
}

/**
 * The `rooms` query parameter of `GET /api/stream`: up to
 * `LIMITS.roomsPerConnection` room names, comma-separated, each once. None
 * (absent or empty) is a stream of the user's own notices only.
 */
export const StreamRooms = z
  .string()
  .max(70 * LIMITS.roomsPerConnection)
  .optional()
  .transform((s) => (s === undefined || s === '' ? [] : s.split(',')))
  .pipe(z.array(RoomName).max(LIMITS.roomsPerConnection))
  .refine((rooms) => new Set(rooms).size === rooms.length, 'each room once');
