/**
 * Every place Fiberchat reaches into engine.io's internals, and nowhere else.
 * Checked against engine.io 6.6.12 (socket.io 4.8.4, ws 8.23.0);
 * engine-internals.test.ts fails if one of these shapes changes, so an
 * upgrade cannot silently turn a guard into a no-op.
 *
 * - `Socket#writeBuffer`: engine.io's queue of packets not yet handed to the
 *   transport (long-polling between polls, or a WebSocket that is flushing).
 * - `transport.socket.bufferedAmount`: bytes the `ws` socket has accepted but
 *   not yet written to the kernel.
 * - `transport.socket.terminate()`: destroys a WebSocket without the close
 *   handshake, which a client that stopped reading would never complete.
 * - `Socket#request`: the handshake's IncomingMessage, kept for the
 *   connection's whole life although nothing reads it after the handshake.
 * - `transport.socket._socket`: the TCP socket under a `ws` WebSocket, which
 *   a broadcast writes its pre-framed bytes to (see `directWebSocket`).
 */
import type { Writable } from 'node:stream';

/** An engine.io connection as Fiberchat sees it (`socket.conn` of a socket.io socket). */
export interface EngineConn {
  readyState: string;
  writeBuffer: Array<{ data?: unknown }>;
  transport: { name: string; socket?: { bufferedAmount?: number; terminate?: () => void; readyState?: number; _socket?: Writable } };
  request: { headers: Record<string, string | string[] | undefined>; rawHeaders: string[]; socket?: { remoteAddress?: string } } | null;
  /** Set by `captureClientAddress`; our own property on engine.io's object. */
  fiberchatAddress?: string;
}

/**
 * The carrier of a connection, named as everywhere in Fiberchat (metrics,
 * logs, the client): engine.io calls long-polling `polling`, and this is the
 * one place that translates.
 */
export type SocketCarrier = 'websocket' | 'long-polling';

export function transportOf(conn: unknown): SocketCarrier {
  return (conn as EngineConn).transport.name === 'websocket' ? 'websocket' : 'long-polling';
}

/**
 * Bytes waiting to go to one connection: engine.io's packet queue plus the
 * WebSocket's unflushed bytes.
 */
export function queuedBytes(conn: unknown): number {
  const c = conn as EngineConn;
  let n = 0;
  for (const p of c.writeBuffer) {
    if (typeof p.data === 'string') n += p.data.length;
    else if (p.data instanceof Uint8Array || p.data instanceof ArrayBuffer) n += p.data.byteLength;
  }
  return n + (c.transport.socket?.bufferedAmount ?? 0);
}

/** `ws`'s readyState of an open WebSocket. */
const WS_OPEN = 1;

/** A `ws` WebSocket as a broadcast writes to it: its TCP socket, and the bytes not yet handed to the kernel. */
export interface DirectWebSocket {
  _socket: Writable;
  readonly bufferedAmount: number;
}

/**
 * The WebSocket whose TCP socket a broadcast frame may be written to
 * directly, or undefined when the frame must go through engine.io: the
 * connection is open on a WebSocket and engine.io holds nothing back for
 * it. Everything engine.io already handed over (an ack written this turn,
 * say) is in the TCP socket's buffer, so bytes written now go after it, and
 * bytes engine.io queues later go after these: the connection's order is
 * kept. `queuedBytes` still counts them (the WebSocket's `bufferedAmount`
 * includes the TCP socket's buffer).
 */
export function directWebSocket(conn: unknown): DirectWebSocket | undefined {
  const c = conn as EngineConn;
  if (c.readyState !== 'open' || c.writeBuffer.length > 0 || c.transport.name !== 'websocket') return undefined;
  const ws = c.transport.socket;
  // ws marks a WebSocket CLOSING the moment its TCP socket ends or fails, so
  // an open one's TCP socket is writable; one destroyed a moment ago (its
  // close event still to come) drops the write without an error event.
  return ws?.readyState === WS_OPEN && ws._socket ? (ws as DirectWebSocket) : undefined;
}

/** Discards what is queued for a connection that is being cut (it resumes from its last seq). */
export function dropQueued(conn: unknown): void {
  (conn as EngineConn).writeBuffer.splice(0);
}

/** Destroys a WebSocket connection's TCP socket after `afterMs`, if it is still there. */
export function terminateLater(conn: unknown, afterMs: number): void {
  const ws = (conn as EngineConn).transport.socket;
  if (ws?.terminate) setTimeout(() => ws.terminate?.(), afterMs).unref();
}

/**
 * Reads the client's address from the handshake request (its TCP peer, and
 * X-Forwarded-For when `resolve` trusts that peer) and keeps it on the
 * connection, so per-address caps can use it after the request is let go.
 * Call from engine.io's `connection` event, before `releaseHandshakeRequest`.
 */
export function captureClientAddress(conn: unknown, resolve: (peer: string | undefined, xff: string | string[] | undefined) => string): void {
  const c = conn as EngineConn;
  c.fiberchatAddress = resolve(c.request?.socket?.remoteAddress, c.request?.headers['x-forwarded-for']);
}

/** The address `captureClientAddress` kept. */
export function clientAddressOf(conn: unknown): string {
  return (conn as EngineConn).fiberchatAddress ?? 'unknown';
}

/**
 * Lets go of the handshake request a new connection would otherwise keep for
 * its whole life (headers, raw headers, parser leftovers: about 1 KB each).
 * Identity comes from the CONNECT packet's auth, so nothing reads it later;
 * socket.io then builds `socket.handshake` with empty headers and query.
 * Call from engine.io's `connection` event, before socket.io's handshake.
 */
export function releaseHandshakeRequest(conn: unknown): void {
  const c = conn as EngineConn;
  const req = c.request;
  c.request = null;
  // On a direct WebSocket connection engine.io's upgrade path also leaves the
  // request reachable from listeners on the TCP socket for the connection's
  // life; the upgrade is complete, so empty what it holds.
  if (req && c.transport.name === 'websocket') {
    req.headers = {};
    req.rawHeaders = [];
  }
}
