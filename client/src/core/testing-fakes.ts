/**
 * Fakes for unit tests of the chat core: a transport driven by hand, a clock
 * with manual timers, and a session API. No sockets, no DOM.
 */
import type {
  Ack,
  HistoryOk,
  JoinOk,
  Message,
  OkOf,
  RequestOf,
  SendOk,
} from '../../../shared/protocol.ts';
import type { SessionApi } from './session.ts';
import type { TimerApi } from './timers.ts';
import type { ClientCommand, CloseInfo, Transport, TransportKind, TransportListener } from './transport.ts';

type JoinRequest = RequestOf<'join'>;
type SendRequest = RequestOf<'send'>;
type HistoryRequest = RequestOf<'history'>;
type LeaveRequest = RequestOf<'leave'>;

interface Pending<Req, Res> {
  req: Req;
  reply: (res: Res) => void;
}

/** A transport whose every request waits until the test answers it (pings answer at once unless told). */
export class FakeTransport implements Transport {
  opens = 0;
  closed = false;
  /** How pings answer: at once with true/false, or only when the test calls `answerPings`. */
  pingMode: 'ok' | 'fail' | 'manual' = 'ok';
  readonly pings: Array<(ok: boolean) => void> = [];
  /** Silence longer than this makes the client drop the connection. */
  silenceMs = Number.POSITIVE_INFINITY;
  readonly joins: Pending<JoinRequest, Ack<JoinOk>>[] = [];
  readonly sends: Pending<SendRequest, Ack<SendOk>>[] = [];
  readonly histories: Pending<HistoryRequest, Ack<HistoryOk>>[] = [];
  readonly leaves: LeaveRequest[] = [];
  readonly typings: string[] = [];
  /** Commands without a list of their own, in the order sent. */
  readonly others: Array<{ name: string; req: unknown; reply: (res: Ack<object>) => void }> = [];

  constructor(
    readonly kind: TransportKind,
    readonly token: string,
    readonly listener: TransportListener,
  ) {}

  open(): void {
    this.opens++;
  }
  close(): void {
    this.closed = true;
  }
  /** Routes each command to the list a test answers from (pings answer by `pingMode`). */
  request<K extends ClientCommand>(name: K, req: RequestOf<K>): Promise<Ack<OkOf<K>>> {
    type Answer = Promise<Ack<OkOf<K>>>;
    switch (name) {
      case 'join':
        return new Promise((reply) => this.joins.push({ req: req as JoinRequest, reply })) as Answer;
      case 'send':
        return new Promise((reply) => this.sends.push({ req: req as SendRequest, reply })) as Answer;
      case 'history':
        return new Promise((reply) => this.histories.push({ req: req as HistoryRequest, reply })) as Answer;
      case 'leave':
        this.leaves.push(req as LeaveRequest);
        return Promise.resolve({ ok: true }) as Answer;
      case 'typing':
        this.typings.push((req as RequestOf<'typing'>).room + ((req as RequestOf<'typing'>).stop ? ':stop' : ''));
        return Promise.resolve({ ok: true }) as Answer;
      case 'ping': {
        const answer = (ok: boolean): Ack<OkOf<'ping'>> => (ok ? { ok: true, ts: 1 } : { ok: false, error: { code: 'unavailable', message: 'no answer' } });
        if (this.pingMode !== 'manual') return Promise.resolve(answer(this.pingMode === 'ok')) as Answer;
        return new Promise((resolve) => this.pings.push((ok) => resolve(answer(ok)))) as Answer;
      }
      case 'rooms':
        return Promise.resolve({ ok: true, rooms: [] }) as Answer;
      default:
        // Every other command waits in `others` until the test answers it.
        return new Promise((reply) => this.others.push({ name, req, reply: reply as (res: Ack<object>) => void })) as Answer;
    }
  }
  silenceLimitMs(): number {
    return this.silenceMs;
  }

  /** Opens, by default on the kind it was made for. */
  connect(kind: TransportKind = this.kind): void {
    this.listener.opened(kind);
  }
  drop(info: CloseInfo = {}): void {
    this.listener.closed(info);
  }
  answerPings(ok: boolean): void {
    for (const reply of this.pings.splice(0)) reply(ok);
  }
}

/** Collects every transport the client creates, newest last. */
export class FakeTransports {
  readonly all: FakeTransport[] = [];
  readonly factory = (kind: TransportKind, token: string, listener: TransportListener): FakeTransport => {
    const t = new FakeTransport(kind, token, listener);
    this.all.push(t);
    return t;
  };
  get last(): FakeTransport {
    const t = this.all[this.all.length - 1];
    if (!t) throw new Error('no transport was created');
    return t;
  }
}

/** A clock whose timers fire only when the test advances time. */
export class ManualClock implements TimerApi {
  now = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };
  /** Number of armed timers. */
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in deadline order, each at its own deadline. */
  advance(ms: number): void {
    this.runUntil(this.now + ms, false);
  }
  /**
   * The machine sleeps for `ms`: no timer fires meanwhile, then every overdue
   * one fires late, at the wake-up time, as after a real sleep.
   */
  sleep(ms: number): void {
    this.runUntil(this.now + ms, true);
  }

  private runUntil(target: number, late: boolean): void {
    if (late) this.now = target;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!best || entry[1].at < best[1].at)) best = entry;
      if (!best) break;
      this.timers.delete(best[0]);
      if (!late) this.now = best[1].at;
      best[1].fn();
    }
    this.now = target;
  }
}

/** A session API that signs anyone in, or refuses with `refusal` while the test sets one. */
export function fakeSessionApi(userId = 'u-alice'): SessionApi & { calls: string[]; refusal: string | null } {
  const api = {
    calls: [] as string[],
    refusal: null as string | null,
    create: async (name: string) => {
      api.calls.push(name);
      if (api.refusal !== null) return { ok: false as const, message: api.refusal };
      return { ok: true as const, session: { token: `tok-${name}`, name, userId, expiresAt: Number.MAX_SAFE_INTEGER, sessionId: `sid-${name}`, registered: false } };
    },
    register: async (name: string, _password: string, token?: string) => {
      api.calls.push(`register:${name}${token ? `:${token}` : ''}`);
      if (api.refusal !== null) return { ok: false as const, message: api.refusal };
      return { ok: true as const, session: { token: `acct-${name}`, name, userId, expiresAt: Number.MAX_SAFE_INTEGER, sessionId: `sid-${name}`, registered: true } };
    },
    login: async (name: string) => {
      api.calls.push(`login:${name}`);
      if (api.refusal !== null) return { ok: false as const, message: api.refusal };
      return { ok: true as const, session: { token: `login-${name}`, name, userId, expiresAt: Number.MAX_SAFE_INTEGER, sessionId: `sid-login-${name}`, registered: true } };
    },
    passkey: async () => {
      api.calls.push('passkey');
      if (api.refusal !== null) return { ok: false as const, message: api.refusal };
      return { ok: true as const, session: { token: 'pk-token', name: 'alice', userId, expiresAt: Number.MAX_SAFE_INTEGER, sessionId: 'sid-pk', registered: true } };
    },
    end: async (session: { sessionId?: string | undefined }) => {
      api.calls.push(`end:${session.sessionId ?? ''}`);
    },
  };
  return api;
}

/** A message as the server would store it. */
export function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    room: 'lobby',
    seq,
    id: `m${seq}`,
    author: 'bob',
    authorId: 'u-bob',
    text: `message ${seq}`,
    ts: 1_700_000_000_000 + seq,
    ...over,
  };
}

/** Lets pending promise callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
