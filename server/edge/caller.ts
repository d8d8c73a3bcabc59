import { fail, type Ack, type Fail } from '../../shared/protocol.ts';
import type { Identity, Subscriber } from '../rooms/types.ts';

/*
 * Who calls the edge and how it answers: the terms every carrier and every
 * handler share, apart from the edge itself (so a handler module need not
 * import the edge that imports it).
 */

/** Receives an answer synchronously, at the moment it is given (see `ChatEdge.ask`). */
export type Respond<T> = (ack: Ack<T>) => void;

/** The rooms a connection is in: the part of `Set` the edge uses (a `Set` is one). */
export interface JoinedRooms extends Iterable<string> {
  readonly size: number;
  has(room: string): boolean;
  add(room: string): unknown;
  delete(room: string): unknown;
  clear(): void;
}

/** A socket connection's view of the edge: who it is, and which rooms it is in. */
export interface Connection {
  readonly sub: Subscriber;
  readonly joined: JoinedRooms;
  /** Joins sent to a room and not yet answered (they count against the room cap). */
  joining: number;
}

/** Who is calling, as the carrier established it. */
export interface Caller {
  /** From a verified session token only; absent for a caller without one. */
  identity: Identity | undefined;
  /** Set for socket.io calls; absent for REST. */
  conn?: Connection | undefined;
  /**
   * The client's network address, as a key for per-address budgets (an IPv6
   * client counts by its /64; behind a trusted proxy, from X-Forwarded-For).
   */
  address: string;
  /** REST only: the request's User-Agent (shown with the session it opens). */
  userAgent?: string | undefined;
  /** REST only: the page's origin, when the server trusts it for passkeys (see `webOrigin`). */
  origin?: string | undefined;
}

/** A caller the edge has authenticated. */
export type UserCaller = Caller & { identity: Identity };

/** The answer when the store failed below the protocol: typed, and retried by the client as after a failed commit. */
export const STORE_DOWN: Fail = fail('unavailable', 'the server could not do that just now; try again', 1000);
