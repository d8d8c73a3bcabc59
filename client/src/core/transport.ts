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

/** Why a transport stopped: `unauthorized` means the session token was refused. */
export interface CloseInfo {
  unauthorized?: boolean;
  /** Server-requested pause before the next attempt (from `bye` or an error). */
  retryAfterMs?: number;
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
}

/** Makes a fresh transport for each connection attempt. */
export type TransportFactory = (token: string, listener: TransportListener) => Transport;

/** Label shown in the status line for each carrier. */
export const TRANSPORT_LABELS: Record<TransportKind, string> = {
  websocket: 'WebSocket',
  'long-polling': 'Long-polling',
  ajax: 'Ajax polling',
};

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
