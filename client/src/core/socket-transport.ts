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
  type EventName,
  type EventOf,
  type OkOf,
  type RequestOf,
  type ServerToClientEvents,
} from '../../../shared/protocol.ts';
import { parseAck, parseEvent, warnDropped } from './inbound.ts';
import type { ClientCommand, CloseInfo, Transport, TransportKind, TransportListener } from './transport.ts';

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
const TOO_MANY_CONNECTIONS = 'too_many_connections';
/**
 * The pause after a connection-cap refusal when the server names none. Long
 * on purpose: the cap is lifted only when other connections of this address
 * or identity close. Retrying sooner does not hasten that, and falling back
 * to another transport would only move the load the server is shedding.
 */
export const REFUSED_RETRY_MS = 10_000;
/** The longest pause a refusal may ask for; a larger figure is taken as this. */
const REFUSED_RETRY_MAX_MS = 5 * 60_000;
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
    // engine.io names long-polling `polling`.
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
    // A middleware refusal arrives as `connect_error` with the server's message (and
    // its `data`, if any); anything else here is the network or the transport failing.
    socket.on('connect_error', (err: Error & { data?: unknown }) => {
      if (this.socket !== socket || this.finished) return;
      if (err.message === UNAUTHORIZED) return this.finish({ unauthorized: true });
      if (err.message === TOO_MANY_CONNECTIONS) {
        // Said on purpose by the server, so not the carrier's fault: back off rather than try the next transport.
        return this.finish({ cause: 'server-closed', refusal: 'too_many_connections', retryAfterMs: refusalPause(err.data) });
      }
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
    // Every pushed event is validated by its shared schema; one that does not match is dropped with a warning.
    const on = <E extends EventName>(name: E, deliver: (ev: EventOf<E>) => void) => {
      (socket as unknown as { on(ev: string, fn: (p: unknown) => void): void }).on(name, (payload) => {
        const ev = parseEvent(name, payload);
        if (ev) deliver(ev);
        else warnDropped(name);
      });
    };
    on('messages', (ev) => this.opts.listener.messages(ev));
    on('presence', (ev) => this.opts.listener.presence(ev));
    on('typing', (ev) => this.opts.listener.typing(ev));
    on('read', (ev) => this.opts.listener.read(ev));
    on('invited', (ev) => this.opts.listener.invited(ev));
    on('removed', (ev) => this.opts.listener.removed?.(ev));
    on('bye', (ev) => {
      this.serverSaidBye = true;
      this.byeRetryAfterMs = ev.retryAfterMs;
      this.opts.listener.bye(ev);
    });
  }

  close(): void {
    this.finished = true;
    this.dispose();
  }

  /**
   * Emits a command with an ack timeout and parses the answer with the
   * table's schema. A request the server never answers means the connection
   * is dead though still "open" (a proxy holding replies): the transport
   * closes, so the core reconnects and the caller's work is retried rather
   * than counted as the server's refusal. Never rejects.
   */
  request<K extends ClientCommand>(name: K, req: RequestOf<K>): Promise<Ack<OkOf<K>>> {
    const socket = this.socket;
    if (!socket?.connected || this.finished) return Promise.resolve(fail('unavailable', 'Not connected.'));
    // The typed event map cannot index by a generic name; the table types `req` and the answer.
    const emitter = socket.timeout(this.requestTimeoutMs) as unknown as {
      emit(ev: string, payload: unknown, done: (err: Error | null, res: unknown) => void): void;
    };
    return new Promise((resolve) => {
      const abandon = () => {
        this.pending.delete(abandon);
        resolve(fail('unavailable', 'The connection closed before the server answered.'));
      };
      this.pending.add(abandon);
      emitter.emit(name, req, (err, res) => {
        if (!this.pending.delete(abandon)) return;
        if (!err) return resolve(parseAck(name, res));
        // Close first, so the caller sees the connection gone when its answer arrives.
        this.finish({ cause: 'unresponsive' });
        resolve(fail('unavailable', 'The server did not answer in time.'));
      });
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
}

/** The pause a refusal asks for (`data.retryAfterMs`), within bounds, or the default. */
function refusalPause(data: unknown): number {
  const asked = typeof data === 'object' && data !== null ? (data as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  if (typeof asked !== 'number' || !Number.isFinite(asked) || asked < 0) return REFUSED_RETRY_MS;
  return Math.min(Math.round(asked), REFUSED_RETRY_MAX_MS);
}

function kindOf(socket: ChatSocket): TransportKind {
  return socket.io.engine.transport.name === 'websocket' ? 'websocket' : 'long-polling';
}
