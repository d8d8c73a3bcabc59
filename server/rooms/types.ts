import type { Ack, JoinOk, HistoryOk, ReadOk, SendOk, MessagesEvent, PresenceEvent, TypingEvent } from '../../shared/protocol.ts';

/** Who is acting, as established by the auth middleware and nothing else. */
export interface Identity {
  userId: string;
  name: string;
  /** When the session token proving this identity expires (ms since epoch). */
  expiresAt?: number;
}

/** One connection's membership of a room (a socket, or an Ajax poller). */
export interface Subscriber {
  /** Unique per connection. */
  readonly id: string;
  readonly identity: Identity;
  /** Starts delivery of this room's broadcasts to the connection. */
  subscribe(channel: string): void;
  unsubscribe(channel: string): void;
}

/** Sends one event to every subscriber of a channel, encoding it once. */
export interface Broadcaster {
  emit(channel: string, event: 'messages', payload: MessagesEvent): void;
  emit(channel: string, event: 'presence', payload: PresenceEvent): void;
  emit(channel: string, event: 'typing', payload: TypingEvent): void;
}

export type Reply<T> = (ack: Ack<T>) => void;

/** The commands a room fiber serves, one at a time, in mailbox order. */
export type RoomCommand =
  | { kind: 'join'; sub: Subscriber; since?: number | undefined; epoch?: string | undefined; reply: Reply<JoinOk> }
  /** `disconnected`: the connection dropped (presence keeps the user for a grace period). */
  | { kind: 'leave'; sub: Subscriber; disconnected?: boolean; reply?: Reply<object> }
  | { kind: 'typing'; sub: Subscriber; reply?: Reply<object> }
  | { kind: 'send'; author: Identity; text: string; clientId: string; reply: Reply<SendOk> }
  | { kind: 'history'; before: number; limit: number; reply: Reply<HistoryOk> }
  /** `poller`: an Ajax client polling for news; the poll renews its presence lease. */
  | { kind: 'read'; after?: number | undefined; before?: number | undefined; limit: number; poller?: Identity; reply: Reply<ReadOk> }
  /** Enqueued by the room's deadline timer: expire typing, presence, or retire. */
  | { kind: 'tick' };
