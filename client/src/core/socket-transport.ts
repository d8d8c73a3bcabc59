/**
 * socket.io as a Transport, on one carrier: WebSocket only, or HTTP
 * long-polling (optionally allowed to upgrade itself to WebSocket, which
 * socket.io does without a new session). socket.io's built-in reconnection
 * is off: the chat core's state machine decides which carrier to try and when
 * to retry, and each attempt is a fresh transport.
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
import type { CloseInfo, Transport, TransportKind, TransportListener } from './transport.ts';

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SocketTransportOptions {
  /** Server origin; '' means the page's own. */
  url: string;
  token: string;
  kind: 'websocket' | 'long-polling';
  listener: TransportListener;
  /** On long-polling, let socket.io probe WebSocket and move the session there (automatic mode). */
  upgrade?: boolean;
  /** socket.io's own connect timeout: a backstop, as the chat core's deadline normally ends an attempt first. */
  connectTimeoutMs?: number;
  /** Ack timeout for requests; an unanswered request means the connection is dead. */
  requestTimeoutMs?: number;
  /** socket.io's `io`, injectable for tests. */
  connect?: typeof io;
}

const UNAUTHORIZED = 'unauthorized';
/** Added to the server's heartbeat window before silence counts as death (network jitter). */
const SILENCE_SLACK_MS = 5000;
/** Assumed heartbeat window until the handshake tells the real one (socket.io's defaults: 25 s + 20 s). */
const DEFAULT_HEARTBEAT_MS = 45_000;

export class SocketTransport implements Transport {
  private socket: ChatSocket | null = null;
  private finished = false;
  private byeRetryAfterMs: number | undefined;
  private serverSaidBye = false;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  /** Requests awaiting an answer, settled as `unavailable` if the transport ends first. */
  private readonly pending = new Set<() => void>();

  constructor(private readonly opts: SocketTransportOptions) {}

  open(): void {
    const { kind, url, token, upgrade = false } = this.opts;
    const connect = this.opts.connect ?? io;
    const transports = kind === 'websocket' ? ['websocket'] : upgrade ? ['polling', 'websocket'] : ['polling'];
    const socket: ChatSocket = connect(url, {
      path: '/socket.io',
      transports,
      upgrade: kind === 'long-polling' && upgrade,
      auth: { token },
      reconnection: false,
      forceNew: true,
      timeout: this.opts.connectTimeoutMs ?? 20_000,
    });
    this.socket = socket;

    // Handlers are registered synchronously, before any event can fire. The
    // engine exists as soon as `io()` returns (autoConnect opens it at once).
    const engine = socket.io.engine as ChatSocket['io']['engine'] | undefined;
    engine?.on('handshake', (data: { pingInterval?: number; pingTimeout?: number }) => {
      if (typeof data.pingInterval === 'number' && typeof data.pingTimeout === 'number') {
        this.heartbeatMs = data.pingInterval + data.pingTimeout;
      }
    });
    // Any packet, server pings included, proves the connection alive.
    engine?.on('heartbeat', () => {
      if (this.socket === socket && !this.finished) this.opts.listener.heard();
    });
    engine?.on('upgrade', () => {
      if (this.socket === socket && !this.finished) this.opts.listener.kindChanged(kindOf(socket));
    });
    socket.on('connect', () => {
      if (this.socket !== socket || this.finished) return;
      this.opts.listener.opened(kindOf(socket));
    });
    socket.on('connect_error', (err: Error) => {
      if (this.socket !== socket || this.finished) return;
      if (err.message === UNAUTHORIZED) return this.finish({ unauthorized: true });
      this.finish({ cause: err.message === 'timeout' ? 'timeout' : 'refused' });
    });
    socket.on('disconnect', (reason) => {
      if (this.socket !== socket || this.finished) return;
      const byServer = this.serverSaidBye || reason === 'io server disconnect';
      this.finish({
        cause: byServer ? 'server-closed' : 'lost',
        ...(this.byeRetryAfterMs === undefined ? {} : { retryAfterMs: this.byeRetryAfterMs }),
      });
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
      this.serverSaidBye = true;
      this.byeRetryAfterMs = ev.retryAfterMs;
      this.opts.listener.bye(ev);
    });
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

  /**
   * A round trip to the server (`ping`, which touches no room). Any answer,
   * even a refusal, proves the path carries replies.
   */
  ping(_room: string): Promise<boolean> {
    const socket = this.socket;
    if (!socket?.connected || this.finished) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (ok: boolean) => {
        this.pending.delete(abandon);
        resolve(ok);
      };
      const abandon = () => settle(false);
      this.pending.add(abandon);
      socket.timeout(this.requestTimeoutMs).emit('ping', {}, (err) => settle(!err));
    });
  }

  silenceLimitMs(): number {
    return this.heartbeatMs + SILENCE_SLACK_MS;
  }

  private finish(info: CloseInfo): void {
    if (this.finished) return;
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
    for (const abandon of [...this.pending]) abandon();
  }

  private get requestTimeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 10_000;
  }

  /**
   * Emits with an ack timeout. A request the server never answers means the
   * connection is dead though still "open" (a proxy holding replies): the
   * transport closes, so the core reconnects and the caller's work is retried
   * rather than counted as the server's refusal. Never rejects.
   */
  private request<T extends object>(
    emit: (socket: ChatSocket, done: (err: Error | null, res: unknown) => void) => void,
    parse: (raw: unknown) => Ack<T>,
  ): Promise<Ack<T>> {
    const socket = this.socket;
    if (!socket?.connected || this.finished) return Promise.resolve(fail('unavailable', 'Not connected.'));
    return new Promise((resolve) => {
      const abandon = () => {
        this.pending.delete(abandon);
        resolve(fail('unavailable', 'The connection closed before the server answered.'));
      };
      this.pending.add(abandon);
      emit(socket, (err, res) => {
        if (!this.pending.delete(abandon)) return;
        if (!err) return resolve(parse(res));
        // Close first, so the caller sees the connection gone when its answer arrives.
        this.finish({ cause: 'unresponsive' });
        resolve(fail('unavailable', 'The server did not answer in time.'));
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
