/**
 * Ajax polling as a Transport: short REST requests on a timer, for networks
 * where neither WebSocket nor long-polling survives (some proxies cut or hold
 * any request kept open). It trades latency for load, so the interval adapts:
 * short while messages flow or the user sends, growing while the room is
 * quiet, and never shorter than the server asked for with `retry-after`.
 * Each poll asks only for what follows the last seq seen.
 *
 * Each poll also carries who is present (the poll itself keeps this client
 * present) and who is typing.
 *
 * This module is a poller and an HTTP client, nothing more: every request is
 * a command of the shared table sent over its REST route, and the rules of
 * resuming (which epoch, how far behind) are the server's, applied by the
 * same room code that answers a socket `join`.
 */
import {
  COMMANDS,
  ErrorEnvelope,
  LIMITS,
  fail,
  pathParams,
  type Ack,
  type CommandName,
  type OkOf,
  type PageOk,
  type RequestOf,
  type RestCommand,
} from '../../../shared/protocol.ts';
import { parseOk } from './inbound.ts';
import { roomsAnswer, type ClientCommand, type CloseInfo, type Transport, type TransportListener } from './transport.ts';

export interface AjaxTiming {
  /** Poll interval while a conversation is active (a message arrived or was sent). */
  activeMs: number;
  /** The interval grows by this factor after each poll that brought nothing… */
  growth: number;
  /** …up to this, while the room is quiet. */
  idleMaxMs: number;
  /** A request unanswered this long means the path is dead. */
  requestTimeoutMs: number;
  /** How long a server's `retry-after` keeps raising the floor of the interval. */
  floorHoldMs: number;
}

export const DEFAULT_AJAX_TIMING: AjaxTiming = {
  activeMs: 1000,
  growth: 1.5,
  idleMaxMs: 8000,
  requestTimeoutMs: 10_000,
  floorHoldMs: 60_000,
};

export interface AjaxTransportOptions {
  url: string;
  token: string;
  listener: TransportListener;
  timing?: Partial<AjaxTiming>;
  fetch?: typeof fetch;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Largest page the REST reads may ask for. */
const PAGE = LIMITS.historyMaxPage;

type Failure = Ack<never> & { ok: false };

/** The commands this transport sends straight to their REST route; the type check below keeps them routable. */
type AjaxRest = Exclude<ClientCommand, 'join' | 'leave' | 'rooms'>;

/** Who is in a list, told apart by userId where the answer gives users: what presence changes are judged by. */
function memberKey(users: PageOk['users'], names: string[]): string {
  return (users ?? names).map((u) => (typeof u === 'string' ? u : u.userId)).join('\n');
}
const everyCommandRoutable: AjaxRest extends RestCommand ? true : never = true;
void everyCommandRoutable;
type HttpResult = { ok: true; body: unknown } | { ok: false; status: number; error: Failure };

export class AjaxTransport implements Transport {
  /** Next seq cursor per joined room. */
  private readonly cursors = new Map<string, { after: number; epoch: string }>();
  /** Last presence and typing passed on per room, so only changes are reported. */
  private readonly seen = new Map<string, { members: string; typing: string; count: number }>();
  private readonly aborter = new AbortController();
  private readonly timing: AjaxTiming;
  private timer: unknown = null;
  private finished = false;
  private polling = false;
  private opened = false;
  /** The current poll interval. */
  private intervalMs: number;
  /** The server's `retry-after`, honoured as a floor until `floorUntil`. */
  private floorMs = 0;
  private floorUntil = 0;

  constructor(private readonly opts: AjaxTransportOptions) {
    this.timing = { ...DEFAULT_AJAX_TIMING, ...opts.timing };
    this.intervalMs = this.timing.activeMs;
  }

  private get fetchImpl(): typeof fetch {
    // Bound: the browser's fetch throws "Illegal invocation" when called as another object's method.
    return this.opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  open(): void {
    // The first request proves the path and the token (a refused token ends the transport as unauthorized).
    void this.call('ping', {}).then((r) => {
      if (this.finished) return;
      if (!r.ok) return this.finish({ cause: 'refused' });
      this.opened = true;
      this.opts.listener.opened('ajax');
      this.schedule();
    });
  }

  close(): void {
    this.finished = true;
    this.stopTimer();
    this.aborter.abort();
  }

  /** The current wait between polls (for tests and the status details). */
  get pollIntervalMs(): number {
    return this.floorUntil > this.now() ? Math.max(this.intervalMs, this.floorMs) : this.intervalMs;
  }

  /**
   * Sends one command. `join` and `leave` are this transport's poll cursors
   * (a join's first answer is a REST read with the resume point, the same
   * rules as a socket join); every other command goes over its own REST
   * route.
   */
  request<K extends ClientCommand>(name: K, req: RequestOf<K>): Promise<Ack<OkOf<K>>> {
    type Answer = Promise<Ack<OkOf<K>>>;
    switch (name) {
      case 'join':
        return this.join(req as RequestOf<'join'>) as Answer;
      case 'leave':
        this.cursors.delete((req as RequestOf<'leave'>).room);
        return Promise.resolve({ ok: true }) as Answer;
      case 'send':
        return this.call('send', req as RequestOf<'send'>).then((res) => {
          // The user is talking: poll fast, and fetch the new message (and anything before it) now.
          if (res.ok) {
            this.active();
            this.pollSoon();
          }
          return res;
        }) as Answer;
      case 'rooms':
        // This transport's "connection" is its set of poll cursors; each poll told it the room's end and who is there.
        return Promise.resolve(
          roomsAnswer([...this.cursors].map(([room, c]) => ({ room, lastSeq: c.after, members: this.seen.get(room)?.count ?? 0 }))),
        ) as Answer;
      default:
        // Every other command has a REST route of its own.
        return this.call(name as AjaxRest, req as RequestOf<AjaxRest>) as Answer;
    }
  }

  /**
   * Starts polling a room: its REST join answers exactly what a socket join
   * does (the server decides by the same rule whether it can replay, and
   * answers the whole replay or the latest page with `recovered: false`);
   * polls then follow from its `lastSeq`.
   */
  private async join(req: RequestOf<'join'>): Promise<Ack<OkOf<'join'>>> {
    const joined = await this.call('join', req);
    if (!joined.ok) return joined;
    this.cursors.set(req.room, { after: joined.lastSeq, epoch: joined.epoch });
    this.active();
    this.seen.set(req.room, { members: memberKey(joined.users, joined.members), typing: '', count: joined.members.length });
    return joined;
  }

  /**
   * One command over its REST route, derived from the table: path parameters
   * from the request, the other fields as the query string (GET) or the JSON
   * body (POST); the answer parsed by the command's `ok` schema.
   */
  private async call<K extends RestCommand>(name: K, req: RequestOf<K>): Promise<Ack<OkOf<K>>> {
    const route = COMMANDS[name].rest;
    const fields: Record<string, unknown> = { ...(req as object) };
    let path: string = route.path;
    for (const param of pathParams(route)) {
      path = path.replace(`:${param}`, encodeURIComponent(String(fields[param])));
      delete fields[param];
    }
    let r: HttpResult;
    if (route.method === 'GET') {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) query.set(k, String(v));
      const qs = query.toString();
      r = await this.fetchJson('GET', qs === '' ? path : `${path}?${qs}`);
    } else {
      r = await this.fetchJson('POST', path, fields);
    }
    if (!r.ok) return r.error;
    const ok = parseOk(name as CommandName, r.body) as OkOf<K> | null;
    return ok ? { ok: true, ...ok } : fail('unavailable', 'The server sent an unexpected answer.');
  }

  silenceLimitMs(): number {
    // A poll is due at least every idleMaxMs (or the server's floor) and may take requestTimeoutMs.
    return Math.max(this.timing.idleMaxMs, this.floorMs) + this.timing.requestTimeoutMs + 5000;
  }

  /** A conversation is going on: poll at the fast rate. */
  private active(): void {
    this.intervalMs = this.timing.activeMs;
  }

  /** The next poll `delayMs` from now (by default one interval). */
  private schedule(delayMs = this.pollIntervalMs): void {
    this.stopTimer();
    if (this.finished) return;
    const set = this.opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.timer = set(() => void this.poll(), delayMs);
  }

  private pollSoon(): void {
    if (!this.polling && this.opened) void this.poll();
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    const clear = this.opts.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
    clear(this.timer);
    this.timer = null;
  }

  /** Passes on presence and typing from a poll when they changed since the last one. */
  private reportPresence(room: string, page: PageOk): void {
    const now = { members: memberKey(page.users, page.members), typing: memberKey(page.typingUsers, page.typing), count: page.members.length };
    const before = this.seen.get(room);
    this.seen.set(room, now);
    if (before?.members !== now.members) this.opts.listener.presence({ room, members: page.members, users: page.users });
    if (before?.typing !== now.typing) this.opts.listener.typing({ room, typing: page.typing, users: page.typingUsers });
  }

  private async poll(): Promise<void> {
    if (this.finished || this.polling) return;
    this.polling = true;
    this.stopTimer();
    const startedAt = this.now();
    let got = false;
    try {
      for (const [room, cursor] of [...this.cursors]) {
        const page = await this.call('page', { room, after: cursor.after, epoch: cursor.epoch, limit: PAGE });
        if (this.finished) return;
        // Failures that end the transport were handled in fetchJson; a refusal for one room skips it.
        if (!page.ok) {
          // A room that answers not_found was closed to this user (removed from a private room):
          // polling stops, as a socket subscription ends with the `removed` event.
          if (page.error.code === 'not_found' && this.cursors.delete(room)) this.opts.listener.removed?.({ room });
          continue;
        }
        if (!this.cursors.has(room)) continue;
        if (page.recovered === false) {
          // The server cannot continue from the cursor (the log was reset, or
          // this client fell too far behind): stop polling the room until the
          // core re-joins and reloads it.
          this.cursors.delete(room);
          this.opts.listener.roomReset(room);
          continue;
        }
        this.reportPresence(room, page);
        const last = page.messages[page.messages.length - 1];
        if (last !== undefined) {
          got = true;
          this.cursors.set(room, { after: last.seq, epoch: page.epoch });
          this.opts.listener.messages({ room, messages: page.messages });
        }
      }
    } finally {
      this.polling = false;
      if (got) this.active();
      else this.intervalMs = Math.min(this.timing.idleMaxMs, Math.round(this.intervalMs * this.timing.growth));
      // Polls start one interval apart, however long each took: the interval
      // is the cadence (what the server's poll floor counts), and a message
      // waits half of it on average, not half of it plus a round trip.
      this.schedule(Math.max(0, this.pollIntervalMs - (this.now() - startedAt)));
    }
  }

  private finish(info: CloseInfo): void {
    if (this.finished) return;
    this.close();
    this.opts.listener.closed(info);
  }

  /**
   * One request. A dead path (no answer, a network error, a gateway error
   * from a proxy, the server restarting) ends the transport before the
   * caller sees the failure, so the core reconnects and retries rather than
   * counting it against a message. `retry-after` raises the poll floor.
   */
  private async fetchJson(method: 'GET' | 'POST', path: string, body?: object): Promise<HttpResult> {
    const unavailable = (cause: CloseInfo['cause'], retryAfterMs?: number): HttpResult => {
      this.finish({ cause: this.opened ? cause : 'refused', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
      return { ok: false, status: 0, error: fail('unavailable', 'Could not reach the server.') };
    };
    if (this.finished) return { ok: false, status: 0, error: fail('unavailable', 'Not connected.') };
    const request = new AbortController();
    const onAbort = () => request.abort();
    this.aborter.signal.addEventListener('abort', onAbort);
    let timedOut = false;
    const set = this.opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    const clear = this.opts.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
    const timer = set(() => {
      timedOut = true;
      request.abort();
    }, this.timing.requestTimeoutMs);
    let res: Response;
    let data: unknown = null;
    try {
      res = await this.fetchImpl(`${this.opts.url}${path}`, {
        method,
        signal: request.signal,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      try {
        data = await res.json();
      } catch {
        // Empty or non-JSON body; judged by status below.
      }
    } catch {
      if (this.finished) return { ok: false, status: 0, error: fail('unavailable', 'Not connected.') };
      return unavailable(timedOut ? 'unresponsive' : 'lost');
    } finally {
      clear(timer);
      this.aborter.signal.removeEventListener('abort', onAbort);
    }
    if (this.finished) return { ok: false, status: 0, error: fail('unavailable', 'Not connected.') };
    if (res.ok) {
      this.opts.listener.heard();
      return { ok: true, body: data };
    }
    if (res.status === 401) {
      this.finish({ unauthorized: true });
      return { ok: false, status: 401, error: fail('unauthorized', 'Your session has expired.') };
    }
    const env = ErrorEnvelope.safeParse(data);
    const retryAfterMs = env.success && env.data.error.retryAfterMs !== undefined
      ? env.data.error.retryAfterMs
      : retryAfterHeader(res.headers.get('retry-after'));
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      // Our server answers 503 while restarting; a proxy answers 502/504 while it is down.
      return unavailable(env.success ? 'server-closed' : 'lost', retryAfterMs);
    }
    this.opts.listener.heard();
    if (retryAfterMs !== undefined) {
      this.floorMs = retryAfterMs;
      this.floorUntil = this.now() + this.timing.floorHoldMs;
    }
    const error: Failure = env.success
      ? { ok: false, error: { ...env.data.error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) } }
      : fail(res.status >= 500 ? 'unavailable' : 'bad_request', `The server answered HTTP ${res.status}.`);
    return { ok: false, status: res.status, error };
  }
}

/** `retry-after` in seconds (the HTTP-date form is not used by our server), as ms. */
function retryAfterHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const s = Number(value);
  return Number.isFinite(s) && s >= 0 ? Math.round(s * 1000) : undefined;
}
