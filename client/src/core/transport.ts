/**
 * The contract between the chat core and a network transport. The core speaks
 * only this interface, so WebSocket, long-polling and Ajax polling are
 * interchangeable and the UI never learns which one carries the traffic
 * beyond the label it shows.
 */
import type {
  Ack,
  ByeEvent,
  HistoryOk,
  HistoryRequest,
  JoinOk,
  JoinRequest,
  LeaveRequest,
  MessagesEvent,
  PresenceEvent,
  SendOk,
  SendRequest,
  TypingEvent,
  TypingRequest,
} from '../../../shared/protocol.ts';

/** The live carrier of a connection, as shown to the user. */
export type TransportKind = 'websocket' | 'long-polling' | 'ajax';

/** Which carrier the user asked for (`?transport=`); `auto` picks the best that works. */
export type TransportPreference = 'auto' | 'websocket' | 'polling' | 'ajax';

/**
 * Why a transport stopped. `refused` and `timeout` mean it never opened;
 * `lost` means an open connection broke; `unresponsive` means it stayed open
 * but stopped answering requests; `server-closed` means the server ended it
 * on purpose (shutdown, `bye`), which says nothing about the network path.
 */
export type CloseCause = 'refused' | 'timeout' | 'lost' | 'unresponsive' | 'server-closed';

/** How a transport stopped: `unauthorized` means the session token was refused. */
export interface CloseInfo {
  unauthorized?: boolean;
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
}

/**
 * One connection attempt and, once open, its live session. Requests always
 * resolve (never reject): a transport failure becomes an `unavailable` ack.
 */
export interface Transport {
  open(): void;
  /** Closes for good; no listener call follows. */
  close(): void;
  join(req: JoinRequest): Promise<Ack<JoinOk>>;
  send(req: SendRequest): Promise<Ack<SendOk>>;
  leave(req: LeaveRequest): Promise<Ack<object>>;
  history(req: HistoryRequest): Promise<Ack<HistoryOk>>;
  typing(req: TypingRequest): void;
  /**
   * One round trip to the server through this connection, answered `true`
   * when the server replied. `room` names a room the request may touch.
   */
  ping(room: string): Promise<boolean>;
  /** How long silence from the server is normal; past it the connection is presumed dead. */
  silenceLimitMs(): number;
}

/** Makes a fresh transport of the given kind for each connection attempt (and each background probe). */
export type TransportFactory = (kind: TransportKind, token: string, listener: TransportListener) => Transport;

/** Label shown in the status line for each carrier. */
export const TRANSPORT_LABELS: Record<TransportKind, string> = {
  websocket: 'WebSocket',
  'long-polling': 'Long-polling',
  ajax: 'Ajax polling',
};

/** The carrier a forced preference pins, or null for `auto`. */
export function forcedKind(preference: TransportPreference): TransportKind | null {
  switch (preference) {
    case 'websocket':
      return 'websocket';
    case 'polling':
      return 'long-polling';
    case 'ajax':
      return 'ajax';
    case 'auto':
      return null;
  }
}

/** Reads `?transport=` leniently: anything unknown means `auto`. */
export function parseTransportPreference(value: string | null | undefined): TransportPreference {
  switch (value) {
    case 'websocket':
    case 'polling':
    case 'ajax':
      return value;
    case 'long-polling':
      return 'polling';
    default:
      return 'auto';
  }
}
