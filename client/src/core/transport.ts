/**
 * The contract between the chat core and a network transport. The core speaks
 * only this interface, so WebSocket, long-polling, Server-Sent Events and Ajax polling are
 * interchangeable and the UI never learns which one carries the traffic
 * beyond the label it shows.
 */
import { TRANSPORT_LABELS, type Carrier } from '../../../shared/transports.ts';
import type { Ack, ByeEvent, EventOf, MessagesEvent, OkOf, PresenceEvent, RequestOf, SocketCommand, TypingEvent } from '../../../shared/protocol.ts';

/** The live carrier of a connection, as shown to the user. */
export type TransportKind = Carrier;

/** Which carrier the user asked for (`?transport=`); `auto` picks the best that works. */
export type TransportPreference = 'auto' | TransportKind;

/**
 * The commands a transport carries for the chat core: the socket commands of
 * the shared table. Ajax polling serves the same set over REST (`join` and
 * `leave` become its poll cursors, `history` a REST page).
 */
export type ClientCommand = SocketCommand;

/**
 * Why a transport stopped. `refused` and `timeout` mean it never opened;
 * `lost` means an open connection broke; `unresponsive` means it stayed open
 * but stopped answering requests; `server-closed` means the server ended it
 * on purpose (shutdown, `bye`), which says nothing about the network path.
 */
export type CloseCause = 'refused' | 'timeout' | 'lost' | 'unresponsive' | 'server-closed';

/**
 * Why a server refused to open a connection, as it says in the handshake
 * (socket.io's `connect_error` message). `too_many_connections`: this
 * address or this identity already holds as many connections as the server
 * allows. A refused token is reported apart, as `unauthorized`.
 */
export type ConnectionRefusal = 'too_many_connections';

/** How a transport stopped: `unauthorized` means the session token was refused. */
export interface CloseInfo {
  unauthorized?: boolean;
  /** The server refused the connection on purpose and said why. */
  refusal?: ConnectionRefusal;
  /** Server-requested pause before the next attempt (from `bye` or an error). */
  retryAfterMs?: number;
  /** Absent means `lost`. */
  cause?: CloseCause;
}

/** Callbacks a transport makes; the core registers them before `open()`. */
export interface TransportListener {
  opened(kind: TransportKind): void;
  /** The carrier changed while connected (e.g. long-polling upgraded to WebSocket). */
  kindChanged(kind: TransportKind): void;
  /** The connection failed to open or was lost. Called at most once per transport. */
  closed(info: CloseInfo): void;
  messages(ev: MessagesEvent): void;
  presence(ev: PresenceEvent): void;
  typing(ev: TypingEvent): void;
  bye(ev: ByeEvent): void;
  /** Some traffic arrived from the server (data or heartbeat): the connection is alive. */
  heard(): void;
  /** The room's log was reset (new epoch) under a live subscription: reload it. */
  roomReset(room: string): void;
  /** This user's read position moved in another tab or on another device (socket transports). */
  read(ev: EventOf<'read'>): void;
  /** A room was added to this user's list by someone else (socket transports). */
  invited(ev: EventOf<'invited'>): void;
  /** This user lost access to a room (removed from a private room); its subscription has ended. */
  removed?(ev: EventOf<'removed'>): void;
}

/**
 * One connection attempt and, once open, its live session. Requests always
 * resolve (never reject): a transport failure becomes an `unavailable` ack.
 */
export interface Transport {
  open(): void;
  /** Closes for good; no listener call follows. */
  close(): void;
  /** Sends one command of the shared table and resolves with its answer, parsed by the table's schema. */
  request<K extends ClientCommand>(name: K, req: RequestOf<K>): Promise<Ack<OkOf<K>>>;
  /** How long silence from the server is normal; past it the connection is presumed dead. */
  silenceLimitMs(): number;
}

/**
 * A round trip to the server through `t` (`ping`, which touches no room).
 * Any answer, even a refusal, proves the path carries replies; only a
 * transport failure (`unavailable`) does not.
 */
export async function roundTrip(t: Transport): Promise<boolean> {
  const res = await t.request('ping', {});
  return res.ok || res.error.code !== 'unavailable';
}

/** Makes a fresh transport of the given kind for each connection attempt (and each background probe). */
/**
 * The `rooms` answer of a transport whose "connection" lives in the client
 * (Ajax polling's cursors, a stream's rooms): each room with the last seq
 * the server told it and how many are present, in the order the server's
 * socket answer uses (by name).
 */
export function roomsAnswer(rooms: Iterable<OkOf<'rooms'>['rooms'][number]>): Ack<OkOf<'rooms'>> {
  return { ok: true, rooms: [...rooms].sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0)) };
}

export type TransportFactory = (kind: TransportKind, token: string, listener: TransportListener) => Transport;

/** Label shown in the status line for each carrier (the shared list's). */
export { TRANSPORT_LABELS };

/** The carrier a forced preference pins, or null for `auto`. */
export function forcedKind(preference: TransportPreference): TransportKind | null {
  return preference === 'auto' ? null : preference;
}

/** Reads `?transport=` leniently: `polling` is an alias of `long-polling`; anything unknown means `auto`. */
export function parseTransportPreference(value: string | null | undefined): TransportPreference {
  switch (value) {
    case 'websocket':
    case 'long-polling':
    case 'sse':
    case 'ajax':
      return value;
    case 'polling':
      return 'long-polling';
    default:
      return 'auto';
  }
}
