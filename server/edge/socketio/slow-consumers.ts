import { dropQueued, queuedBytes, terminateLater } from './engine-internals.ts';
import type { EventOf } from '../../../shared/protocol.ts';

/** The part of a socket.io socket the guard uses. */
export interface GuardedSocket {
  readonly id: string;
  readonly connected: boolean;
  readonly conn: unknown;
  emit(event: 'bye', payload: EventOf<'bye'>): unknown;
  disconnect(close: boolean): unknown;
}

/** Time a slow consumer gets to read its `bye` before its socket is destroyed. */
const TERMINATE_AFTER_MS = 2_000;

/**
 * A connection written through engine.io's queue is inspected at most this
 * often. Measuring a long-polling connection's queue walks its packets, and
 * doing that after each of hundreds of broadcasts per second would cost more
 * than the broadcasts; between checks a consumer can fall behind by at most
 * one window of its rooms' (rate-limited) traffic beyond the byte bound.
 */
const CHECK_EVERY_MS = 50;

/**
 * Slow consumers are a denial-of-service vector: a client that stops reading
 * would otherwise make the server hold every broadcast for it. A connection
 * with more than `maxBytes` queued is told `bye { reason: "slow_consumer" }`
 * and disconnected; its buffers are freed, and the client resumes later from
 * its last seq without loss. A WebSocket written directly is checked right
 * after its write (its `bufferedAmount` is all it holds); one written through
 * engine.io is `watch`ed and checked within `CHECK_EVERY_MS`, with every
 * other connection written that way meanwhile.
 */
export class SlowConsumerGuard {
  private readonly watched = new Set<GuardedSocket>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Bytes queued to one connection past which it is cut. */
    readonly maxBytes: number,
    private readonly onEvict: (socketId: string, bytes: number) => void = () => {},
  ) {}

  /** Something went to `socket` through engine.io's queue: its bytes are counted within one check window. */
  watch(socket: GuardedSocket): void {
    this.watched.add(socket);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const due = [...this.watched];
      this.watched.clear();
      for (const s of due) this.cutIfOver(s);
    }, CHECK_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Every byte to a connection counts, answers as well as broadcasts: the
   * socket edge calls this before serving a command and after answering it.
   * A connection over its budget is cut (true) and gets no more work.
   */
  cutIfOver(socket: GuardedSocket): boolean {
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
