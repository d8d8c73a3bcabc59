import {
  HistoryRequest,
  JoinRequest,
  LIMITS,
  LeaveRequest,
  ReadQuery,
  RoomName,
  PingRequest,
  SendRequest,
  TypingRequest,
  fail,
  parsePayload,
  type Ack,
  type HistoryOk,
  type JoinOk,
  type PingOk,
  type ReadOk,
  type SendOk,
} from '../../shared/protocol.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { RoomRegistry } from '../rooms/registry.ts';
import type { Identity, Reply, RoomCommand, Subscriber } from '../rooms/types.ts';

/** Rooms one connection may be in at once. */
export const MAX_ROOMS_PER_CONNECTION = 100;

export interface EdgeDeps {
  rooms: RoomRegistry;
  /** Per connection and per identity (one user's tabs and bots share the identity's bucket). */
  sendLimiter: RateLimiter;
  joinLimiter: RateLimiter;
  /** REST reads per identity and room: the server's floor for Ajax poll intervals. */
  readLimiter: RateLimiter;
}

/** Receives a room's answer synchronously, in the room's turn (see `ChatEdge.ask`). */
export type Respond<T> = (ack: Ack<T>) => void;

/** A connection's view of the edge: who it is, and which rooms it is in. */
export interface Connection {
  readonly sub: Subscriber;
  readonly joined: Set<string>;
}

/**
 * The one place every network payload passes, whatever transport it came on:
 * validated against the shared schema, checked for access and rate, then
 * turned into a room command. Every call resolves to an ack; none throws.
 */
export class ChatEdge {
  constructor(private readonly deps: EdgeDeps) {}

  /** Decides whether `who` may use `room`. Every room is public for now; one helper keeps it that way. */
  canAccess(_who: Identity, _room: string): boolean {
    return true;
  }

  async join(conn: Connection, payload: unknown, respond?: Respond<JoinOk>): Promise<Ack<JoinOk>> {
    const req = parsePayload(JoinRequest, payload);
    if (!req.ok) return req;
    const { room, since, epoch } = req.value;
    const denied = this.check(conn.sub.identity, room);
    if (denied) return denied;
    if (!conn.joined.has(room) && conn.joined.size >= MAX_ROOMS_PER_CONNECTION) {
      return fail('forbidden', `a connection may be in at most ${MAX_ROOMS_PER_CONNECTION} rooms`);
    }
    const wait = this.deps.joinLimiter.takeAll(limitKeys(conn.sub.id, conn.sub.identity));
    if (wait > 0) return fail('rate_limited', 'joining too fast', wait);
    return this.ask<JoinOk>(room, (reply) => ({ kind: 'join', sub: conn.sub, since, epoch, reply }), (ack) => {
      if (ack.ok) conn.joined.add(room);
      respond?.(ack);
    });
  }

  async leave(conn: Connection, payload: unknown, respond?: Respond<object>): Promise<Ack<object>> {
    const req = parsePayload(LeaveRequest, payload);
    if (!req.ok) return req;
    const { room } = req.value;
    if (!conn.joined.has(room)) return fail('not_found', `not in room ${room}`);
    conn.joined.delete(room);
    return this.ask<object>(room, (reply) => ({ kind: 'leave', sub: conn.sub, reply }), respond);
  }

  /** `connId` is absent for REST sends, which are limited per identity only. */
  async send(who: Identity, payload: unknown, connId?: string, respond?: Respond<SendOk>): Promise<Ack<SendOk>> {
    const req = parsePayload(SendRequest, payload);
    if (!req.ok) return req;
    const { room, text, clientId } = req.value;
    const denied = this.check(who, room);
    if (denied) return denied;
    const wait = this.deps.sendLimiter.takeAll(limitKeys(connId, who));
    if (wait > 0) return fail('rate_limited', 'sending too fast', wait);
    return this.ask<SendOk>(room, (reply) => ({ kind: 'send', author: who, text, clientId, reply }), respond);
  }

  /** A round trip for liveness checks and transport probes; touches no room. */
  async ping(payload: unknown): Promise<Ack<PingOk>> {
    const req = parsePayload(PingRequest, payload);
    if (!req.ok) return req;
    return { ok: true, ts: Date.now() };
  }

  /** "I am typing": the room decides how long it lasts and whom to tell. */
  async typing(conn: Connection, payload: unknown, respond?: Respond<object>): Promise<Ack<object>> {
    const req = parsePayload(TypingRequest, payload);
    if (!req.ok) return req;
    const { room } = req.value;
    if (!conn.joined.has(room)) return fail('not_found', `join room ${room} before typing in it`);
    return this.ask<object>(room, (reply) => ({ kind: 'typing', sub: conn.sub, reply }), respond);
  }

  async history(who: Identity, payload: unknown, respond?: Respond<HistoryOk>): Promise<Ack<HistoryOk>> {
    const req = parsePayload(HistoryRequest, payload);
    if (!req.ok) return req;
    const { room, before, limit = LIMITS.historyDefaultPage } = req.value;
    const denied = this.check(who, room);
    if (denied) return denied;
    return this.ask<HistoryOk>(room, (reply) => ({ kind: 'history', before, limit, reply }), respond);
  }

  /**
   * REST read: `?after=N` for what follows, `?before=N` for an older page,
   * neither for the latest page. A read with `after` is an Ajax client's
   * poll, which also renews its presence in the room.
   */
  async read(who: Identity, roomParam: unknown, query: unknown): Promise<Ack<ReadOk>> {
    const room = parsePayload(RoomName, roomParam);
    if (!room.ok) return room;
    const q = parsePayload(ReadQuery, query);
    if (!q.ok) return q;
    const denied = this.check(who, room.value);
    if (denied) return denied;
    const wait = this.deps.readLimiter.take(`u:${who.userId}:${room.value}`);
    if (wait > 0) return fail('rate_limited', 'polling too fast', wait);
    const { after, before, limit = LIMITS.historyDefaultPage } = q.value;
    const poller = after !== undefined ? who : undefined;
    return this.ask<ReadOk>(room.value, (reply) => ({ kind: 'read', after, before, limit, poller, reply }));
  }

  /** Called once when a connection goes: it leaves every room it was in. */
  async disconnected(conn: Connection): Promise<void> {
    const rooms = [...conn.joined];
    conn.joined.clear();
    this.deps.joinLimiter.forget(`c:${conn.sub.id}`);
    this.deps.sendLimiter.forget(`c:${conn.sub.id}`);
    await this.deps.rooms.leaveAll(conn.sub, rooms);
  }

  private check(who: Identity, room: string): Ack<never> | undefined {
    return this.canAccess(who, room) ? undefined : fail('forbidden', `no access to room ${room}`);
  }

  /**
   * Hands a command to its room. `respond` is called with the answer at the
   * moment the room gives it, inside the room's turn: an answer written to a
   * socket then is queued before anything the room broadcasts afterwards (a
   * join's answer before the first live message, a send's ack before the
   * broadcast carrying it), which a promise continuation would not guarantee.
   */
  private ask<T>(room: string, build: (reply: Reply<T>) => RoomCommand, respond?: Respond<T>): Promise<Ack<T>> {
    return new Promise((resolve) =>
      this.deps.rooms.dispatch(
        room,
        build((ack) => {
          respond?.(ack);
          resolve(ack);
        }),
      ),
    );
  }
}

function limitKeys(connId: string | undefined, who: Identity): string[] {
  return connId === undefined ? [`u:${who.userId}`] : [`c:${connId}`, `u:${who.userId}`];
}
