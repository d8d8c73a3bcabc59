import { getDefaultHighWaterMark } from 'node:stream';
import type { EventName, EventOf } from '../../shared/protocol.ts';
import { directWebSocket } from './engine-internals.ts';
import type { SlowConsumerGuard } from './slow-consumers.ts';
import type { ChatServer, ChatSocket } from './socket-edge.ts';

/**
 * How a broadcast reaches the WebSocket subscribers of a channel (the
 * BROADCAST_FRAMES setting): `direct`, one WebSocket frame built per
 * broadcast and the same bytes written to every subscriber's TCP socket;
 * `engine`, through socket.io's adapter and engine.io, which queue, flush and
 * complete a write per socket.
 */
export type BroadcastPath = 'direct' | 'engine';

const SOCKET_HIGH_WATER_MARK = getDefaultHighWaterMark(false);

/**
 * Delivers a room's events to the sockets subscribed to its channel on this
 * node. socket.io's adapter already encodes a broadcast once, but then hands
 * it to each socket's engine.io connection, which wraps it in a packet,
 * emits `packetCreate`, `flush` and `drain` on the socket and the server,
 * writes the WebSocket header and body as two chunks (a corked `writev`) and
 * waits for each write's callback before it writes that socket again. With
 * thousands of subscribers that per-socket machinery costs more than the
 * system calls themselves; written directly, a subscriber costs one
 * `write` of a shared buffer.
 *
 * A socket is written directly only when engine.io holds nothing back for it
 * (`directWebSocket`): what engine.io handed over before (the sender's ack,
 * written inside the same room turn) is already in the TCP socket's buffer
 * and so goes first. Any other socket (long-polling, an upgrade in progress,
 * a WebSocket with packets queued behind an unfinished write) gets the
 * encoded packet through engine.io, behind what it queued.
 *
 * Every byte still counts in the connection's outbound budget: a socket
 * written directly is checked right after its write (its WebSocket's
 * `bufferedAmount` is all it has queued), and cut if over; a broadcast that
 * went through engine.io to anyone leaves the channel to the slow-consumer
 * guard's periodic walk, as before.
 */
export class SocketBroadcaster {
  /**
   * Per channel broadcast to, its sockets and their engine.io connections, as
   * long as its membership does not change: the loop then reaches each
   * connection without a lookup and two hops through socket.io's objects.
   * Any join or leave of the channel drops its entry (two pointers per
   * subscriber); the next broadcast builds it again.
   */
  private readonly members = new Map<string, { sockets: ChatSocket[]; conns: unknown[] }>();

  constructor(
    private readonly io: ChatServer,
    private readonly path: BroadcastPath,
    private readonly guard: SlowConsumerGuard,
  ) {
    const forget = (channel: string) => this.members.delete(channel);
    const adapter = io.sockets.adapter;
    adapter.on('join-room', forget);
    adapter.on('leave-room', forget);
    adapter.on('delete-room', forget);
  }

  private membersOf(channel: string, ids: Set<string>): { sockets: ChatSocket[]; conns: unknown[] } {
    let m = this.members.get(channel);
    if (m) return m;
    m = { sockets: [], conns: [] };
    const sockets = this.io.sockets.sockets;
    for (const id of ids) {
      const socket = sockets.get(id);
      if (!socket) continue;
      m.sockets.push(socket);
      m.conns.push(socket.conn);
    }
    this.members.set(channel, m);
    return m;
  }

  /** Sends `event` to every socket in `channel`; returns how many sockets that was. */
  emit<E extends Exclude<EventName, 'bye'>>(channel: string, event: E, payload: EventOf<E>): number {
    const ids = this.io.sockets.adapter.rooms.get(channel);
    if (!ids || ids.size === 0) return 0;
    const subscribers = ids.size;
    if (this.path === 'engine') {
      // The event map types each emit; the caller's signature already checked this pair.
      (this.io.to(channel).emit as (ev: string, p: unknown) => boolean)(event, payload);
      this.guard.check(channel);
      return subscribers;
    }
    // socket.io's encoding of an event without an ack in the main namespace
    // (socket.io-parser: packet type 2, then the JSON array; no event carries binary).
    const packet = `2${JSON.stringify([event, payload])}`;
    let frame: Buffer | undefined;
    let viaEngine = false;
    let over: ChatSocket[] | undefined;
    const { sockets, conns } = this.membersOf(channel, ids);
    const maxBytes = this.guard.maxBytes;
    // A TCP socket's write() answers true while it holds less than its
    // high-water mark (Node's default: the server sets none); with a budget
    // at least that large such a socket is within it, and only the others
    // need their bytes counted.
    const checkEach = maxBytes < SOCKET_HIGH_WATER_MARK;
    for (let i = 0; i < conns.length; i++) {
      const ws = directWebSocket(conns[i]);
      if (ws) {
        // "4": engine.io's message packet type, which engine.io would prefix.
        const below = ws._socket.write((frame ??= wsTextFrame(`4${packet}`)));
        if ((!below || checkEach) && ws.bufferedAmount > maxBytes) (over ??= []).push(sockets[i] as ChatSocket);
      } else {
        (sockets[i] as ChatSocket).conn.write(packet);
        viaEngine = true;
      }
    }
    // Cut after the loop: a disconnect leaves the channel being walked.
    if (over) for (const socket of over) this.guard.cutIfOver(socket);
    if (viaEngine) this.guard.check(channel);
    return subscribers;
  }
}

/**
 * One final, unmasked WebSocket text frame carrying `text` (RFC 6455 §5.2):
 * the bytes `ws` sends for it with compression off, as one buffer.
 */
export function wsTextFrame(text: string): Buffer {
  const { frame, at } = textFrameOf(Buffer.byteLength(text));
  frame.write(text, at, 'utf8');
  return frame;
}

/**
 * A buffer for a final, unmasked WebSocket text frame of `n` payload bytes,
 * its header written; `at` is where the payload goes.
 */
export function textFrameOf(n: number): { frame: Buffer; at: number } {
  const head = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) {
    frame[1] = n;
  } else if (n < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  return { frame, at: head };
}
