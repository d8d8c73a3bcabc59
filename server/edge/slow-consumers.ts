import { dropQueued, queuedBytes, terminateLater } from './engine-internals.ts';
import type { ChatServer, ChatSocket } from './socket-edge.ts';

/** Time a slow consumer gets to read its `bye` before its socket is destroyed. */
const TERMINATE_AFTER_MS = 2_000;

/**
 * A channel's subscribers are inspected at most this often. Walking 2,000
 * subscribers after every one of hundreds of broadcasts per second costs more
 * than the broadcasts; between checks a consumer can fall behind by at most
 * one window of the room's (rate-limited) traffic beyond the byte bound.
 */
const CHECK_EVERY_MS = 50;

/**
 * Slow consumers are a denial-of-service vector: a client that stops reading
 * would otherwise make the server hold every broadcast for it. After each
 * broadcast to a channel, any subscriber with more than `maxBytes` queued is
 * told `bye { reason: "slow_consumer" }` and disconnected; its buffers are
 * freed, and the client resumes later from its last seq without loss.
 */
export class SlowConsumerGuard {
  private readonly lastCheck = new Map<string, number>();
  /** Channels with a trailing check pending: a burst that ends inside a window is still checked. */
  private readonly trailing = new Set<string>();

  constructor(
    private readonly io: ChatServer,
    /** Bytes queued to one connection past which it is cut. */
    readonly maxBytes: number,
    private readonly onEvict: (socketId: string, bytes: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  check(channel: string): void {
    const ids = this.io.sockets.adapter.rooms.get(channel);
    if (!ids) {
      this.lastCheck.delete(channel);
      return;
    }
    const t = this.now();
    const wait = (this.lastCheck.get(channel) ?? -Infinity) + CHECK_EVERY_MS - t;
    if (wait > 0) {
      if (!this.trailing.has(channel)) {
        this.trailing.add(channel);
        setTimeout(() => {
          this.trailing.delete(channel);
          this.check(channel);
        }, wait).unref();
      }
      return;
    }
    this.lastCheck.set(channel, t);
    for (const id of ids) {
      const socket = this.io.sockets.sockets.get(id);
      if (socket) this.cutIfOver(socket);
    }
  }

  /**
   * Every byte to a connection counts, answers as well as broadcasts: the
   * socket edge calls this before serving a command and after answering it.
   * A connection over its budget is cut (true) and gets no more work.
   */
  cutIfOver(socket: ChatSocket): boolean {
    if (!socket.connected) return true;
    const bytes = queuedBytes(socket.conn);
    if (bytes <= this.maxBytes) return false;
    this.onEvict(socket.id, bytes);
    // The backlog is useless now (the client resumes from its last seq) and
    // a long-polling transport would otherwise hold it until the next poll.
    dropQueued(socket.conn);
    socket.emit('bye', { reason: 'slow_consumer', retryAfterMs: 1000 });
    socket.disconnect(true);
    // A WebSocket close handshake waits behind the queued bytes; a client
    // that is not reading never completes it, so destroy the socket soon.
    terminateLater(socket.conn, TERMINATE_AFTER_MS);
    return true;
  }
}
