/**
 * socket.io as a Transport, on WebSocket or HTTP long-polling.
 *
 * In `auto` mode it tries WebSocket alone first; if that cannot connect within
 * a few seconds (a proxy that swallows upgrades tends to hang rather than
 * refuse) it falls back to long-polling, which socket.io may later upgrade to
 * WebSocket on its own. socket.io's built-in reconnection is off: the chat
 * core's state machine decides when to retry, and each attempt is a fresh
 * transport.
 */
import { io, type Socket } from 'socket.io-client';
import {
  fail,
  type Ack,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../../shared/protocol.ts';
import {
  parseByeEvent,
  parseEmptyAck,
  parseHistoryAck,
  parseJoinAck,
  parseMessagesEvent,
  parsePresenceEvent,
  parseSendAck,
  parseTypingEvent,
} from './inbound.ts';
import type { Transport, TransportKind, TransportListener } from './transport.ts';

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SocketTransportOptions {
  /** Server origin; '' means the page's own. */
  url: string;
  token: string;
  mode: 'auto' | 'websocket' | 'polling';
  listener: TransportListener;
  /** How long WebSocket gets before `auto` falls back to long-polling. */
  websocketDeadlineMs?: number;
  /** Connect timeout once no fallback is left. */
  connectTimeoutMs?: number;
  /** Ack timeout for requests. */
  requestTimeoutMs?: number;
  /** In `auto` mode, start on long-polling (still upgradable) instead of trying WebSocket first. */
  pollingFirst?: boolean;
  /** Called when `auto` gave up on WebSocket and fell back to long-polling. */
  onFallback?: () => void;
  /** socket.io's `io`, injectable for tests. */
  connect?: typeof io;
}

const UNAUTHORIZED = 'unauthorized';

export class SocketTransport implements Transport {
  private socket: ChatSocket | null = null;
  private finished = false;
  private retryAfterMs: number | undefined;

  constructor(private readonly opts: SocketTransportOptions) {}

  open(): void {
    const { mode, pollingFirst } = this.opts;
    this.attempt(mode === 'polling' || (mode === 'auto' && pollingFirst) ? 'polling' : 'websocket');
  }

  close(): void {
    this.finished = true;
    this.dispose();
  }

  join: Transport['join'] = (req) =>
    this.request((s, done) => s.timeout(this.requestTimeoutMs).emit('join', req, done), parseJoinAck);
  send: Transport['send'] = (req) =>
    this.request((s, done) => s.timeout(this.requestTimeoutMs).emit('send', req, done), parseSendAck);
  leave: Transport['leave'] = (req) =>
    this.request((s, done) => s.timeout(this.requestTimeoutMs).emit('leave', req, done), parseEmptyAck);
  history: Transport['history'] = (req) =>
    this.request((s, done) => s.timeout(this.requestTimeoutMs).emit('history', req, done), parseHistoryAck);

  typing(req: { room: string }): void {
    if (this.socket?.connected) this.socket.emit('typing', req);
  }

  private attempt(first: 'websocket' | 'polling'): void {
    const { mode, url, token } = this.opts;
    const fallbackLeft = mode === 'auto' && first === 'websocket';
    const transports = first === 'websocket' ? ['websocket'] : mode === 'auto' ? ['polling', 'websocket'] : ['polling'];
    const connect = this.opts.connect ?? io;
    const socket: ChatSocket = connect(url, {
      path: '/socket.io',
      transports,
      upgrade: mode === 'auto',
      auth: { token },
      reconnection: false,
      forceNew: true,
      timeout: fallbackLeft ? (this.opts.websocketDeadlineMs ?? 3000) : (this.opts.connectTimeoutMs ?? 10_000),
    });
    this.socket = socket;

    // Handlers are registered synchronously, before any event can fire.
    socket.on('connect', () => {
      if (this.socket !== socket || this.finished) return;
      const engine = socket.io.engine;
      engine.on('upgrade', () => {
        if (this.socket === socket && !this.finished) this.opts.listener.kindChanged(kindOf(socket));
      });
      this.opts.listener.opened(kindOf(socket));
    });
    socket.on('connect_error', (err: Error) => {
      if (this.socket !== socket || this.finished) return;
      if (err.message === UNAUTHORIZED) return this.finish({ unauthorized: true });
      if (fallbackLeft) {
        this.dispose();
        this.opts.onFallback?.();
        return this.attempt('polling');
      }
      this.finish({});
    });
    socket.on('disconnect', () => {
      if (this.socket !== socket || this.finished) return;
      this.finish(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs });
    });
    socket.on('messages', (payload) => {
      const ev = parseMessagesEvent(payload);
      if (ev) this.opts.listener.messages(ev);
      else warnDropped('messages');
    });
    socket.on('presence', (payload) => {
      const ev = parsePresenceEvent(payload);
      if (ev) this.opts.listener.presence(ev);
      else warnDropped('presence');
    });
    socket.on('typing', (payload) => {
      const ev = parseTypingEvent(payload);
      if (ev) this.opts.listener.typing(ev);
      else warnDropped('typing');
    });
    socket.on('bye', (payload) => {
      const ev = parseByeEvent(payload);
      if (!ev) return warnDropped('bye');
      this.retryAfterMs = ev.retryAfterMs;
      this.opts.listener.bye(ev);
    });
  }

  private finish(info: { unauthorized?: boolean; retryAfterMs?: number }): void {
    this.finished = true;
    this.dispose();
    this.opts.listener.closed(info);
  }

  private dispose(): void {
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.removeAllListeners();
      s.disconnect();
    }
  }

  private get requestTimeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 10_000;
  }

  /** Emits with an ack timeout; a timeout or a drop resolves as `unavailable` so callers never hang. */
  private request<T extends object>(
    emit: (socket: ChatSocket, done: (err: Error | null, res: unknown) => void) => void,
    parse: (raw: unknown) => Ack<T>,
  ): Promise<Ack<T>> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve(fail('unavailable', 'Not connected.'));
    return new Promise((resolve) => {
      emit(socket, (err, res) => {
        resolve(err ? fail('unavailable', 'The server did not answer in time.') : parse(res));
      });
    });
  }
}

function kindOf(socket: ChatSocket): TransportKind {
  return socket.io.engine.transport.name === 'websocket' ? 'websocket' : 'long-polling';
}

/** Logs the event name only, never its body (it may carry message text). */
function warnDropped(event: string): void {
  console.warn(`fiberchat: dropped a malformed "${event}" event`);
}
