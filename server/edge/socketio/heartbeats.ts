/**
 * One timer for every connection's heartbeat, in place of engine.io's two
 * `setTimeout`s per connection.
 *
 * engine.io 6.6 arms a `Timeout` (and a closure over the socket) per
 * connection for the next ping, and another while it waits for the pong:
 * about 250 bytes for every idle connection, and one timer callback per
 * ping. `shareHeartbeats` replaces the two methods that arm them
 * (`Socket#schedulePing`, `Socket#resetPingTimeout`) with ones that put a
 * small `Beat` into one process-wide queue ordered by due time, drained by a
 * single timer at most every `GRAIN_MS`. engine.io's own code keeps working
 * on what it holds: it calls `refresh()` on the beat (a pong re-arms the
 * next ping; any packet while a pong is awaited extends the wait once),
 * `clearTimeout` on it (a no-op for a beat) and then forgets it, so a beat
 * is live only while its socket still holds it and is open, which is checked
 * when it comes due. The behaviour is engine.io's: the same packets at the
 * same intervals, late by at most `GRAIN_MS`.
 *
 * Checked against engine.io 6.6.12 (see engine-internals.ts and its shape
 * test): `schedulePing`, `resetPingTimeout`, `pingIntervalTimer`,
 * `pingTimeoutTimer`, `hasRefreshedPingTimeout`, `sendPacket`, `onClose`,
 * `readyState`, `protocol` and `server.opts.pingInterval/pingTimeout`.
 */

/** The part of engine.io's Socket a heartbeat touches. */
interface BeatingSocket {
  readyState: string;
  protocol: number;
  server: { opts: { pingInterval: number; pingTimeout: number } };
  pingIntervalTimer: unknown;
  pingTimeoutTimer: unknown;
  hasRefreshedPingTimeout: boolean;
  sendPacket(type: string): void;
  onClose(reason: string): void;
}

/** Beats due within this of each other are handled by one timer callback. */
export const GRAIN_MS = 25;

const enum Kind {
  /** Time to send a ping (protocol 4). */
  Ping,
  /** The pong (protocol 4) or the client's ping (protocol 3) did not come in time. */
  Timeout,
}

class Beat {
  /** In the queue: a fired beat that is refreshed goes back in. */
  queued = false;
  /** Its place in the queue: `due` when it was queued (a refresh moves `due` later, not the place). */
  key = 0;

  constructor(
    readonly socket: BeatingSocket,
    readonly kind: Kind,
    public due: number,
  ) {}

  /** What engine.io calls on its timers: re-arms the beat for its full duration from now. */
  refresh(): this {
    this.due = performance.now() + durationOf(this.socket, this.kind);
    if (!this.queued) wheel.push(this);
    return this;
  }
}

function durationOf(socket: BeatingSocket, kind: Kind): number {
  const { pingInterval, pingTimeout } = socket.server.opts;
  if (kind === Kind.Ping) return pingInterval;
  return socket.protocol === 3 ? pingInterval + pingTimeout : pingTimeout;
}

/** A binary min-heap of beats by due time, and the one timer that drains it. */
class Wheel {
  private readonly heap: Beat[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private timerAt = Infinity;

  /** Beats waiting (live or not yet found dead): for tests and metrics. */
  get size(): number {
    return this.heap.length;
  }

  push(beat: Beat): void {
    beat.queued = true;
    beat.key = beat.due;
    const heap = this.heap;
    let i = heap.push(beat) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.key <= beat.key) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = beat;
    if (i === 0) this.arm();
  }

  private pop(): Beat | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && heap[r]!.key < heap[l]!.key ? r : l;
      if (heap[child]!.key >= last.key) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }

  /** Sets the timer for the earliest beat, rounded up to the grain, unless it is set earlier already. */
  private arm(): void {
    const first = this.heap[0];
    if (!first) return;
    const at = Math.ceil(first.key / GRAIN_MS) * GRAIN_MS;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.drain(), Math.max(0, at - performance.now()));
    // Like the HTTP server's own sockets, a heartbeat does not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private drain(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    for (let top = this.heap[0]; top && top.key <= now; top = this.heap[0]) {
      this.pop();
      // Refreshed while it waited: back in, at its new time.
      if (top.due > now) this.push(top);
      else {
        top.queued = false;
        fire(top);
      }
    }
    this.arm();
  }
}

const wheel = new Wheel();

function fire(beat: Beat): void {
  const { socket } = beat;
  if (socket.readyState === 'closed') return;
  if (beat.kind === Kind.Ping) {
    if (socket.pingIntervalTimer !== beat) return;
    // engine.io's schedulePing callback.
    socket.hasRefreshedPingTimeout = false;
    socket.sendPacket('ping');
    resetPingTimeout.call(socket);
  } else {
    // Cleared: engine.io sets pingTimeoutTimer to null on a pong or when the transport goes.
    if (socket.pingTimeoutTimer !== beat) return;
    socket.onClose('ping timeout');
  }
}

function schedulePing(this: BeatingSocket): void {
  const beat = new Beat(this, Kind.Ping, performance.now() + durationOf(this, Kind.Ping));
  this.pingIntervalTimer = beat;
  wheel.push(beat);
}

function resetPingTimeout(this: BeatingSocket): void {
  // The beat it replaces is dropped when it comes due: the socket no longer holds it.
  const beat = new Beat(this, Kind.Timeout, performance.now() + durationOf(this, Kind.Timeout));
  this.pingTimeoutTimer = beat;
  wheel.push(beat);
}

const SHARED = Symbol('fiberchat.sharedHeartbeats');

/**
 * Replaces engine.io's per-connection heartbeat timers with the shared
 * wheel, on its Socket class (found as a connection's constructor).
 * Idempotent; false when the class does not have the methods this replaces.
 */
export function shareHeartbeats(socketClass: { prototype: object }): boolean {
  const proto = socketClass.prototype as { schedulePing?: unknown; resetPingTimeout?: unknown; [SHARED]?: true };
  if (proto[SHARED]) return true;
  if (typeof proto.schedulePing !== 'function' || typeof proto.resetPingTimeout !== 'function') return false;
  proto.schedulePing = schedulePing;
  proto.resetPingTimeout = resetPingTimeout;
  proto[SHARED] = true;
  return true;
}

/** Beats in the shared queue (tests: they do not grow with connections that have closed). */
export function queuedBeats(): number {
  return wheel.size;
}
