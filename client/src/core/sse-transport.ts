/**
 * Server-Sent Events as a Transport: what the server sends arrives on one
 * EventSource stream, and every command goes over its REST route, exactly
 * as Ajax polling sends it (the REST half of `AjaxTransport` is reused, its
 * poller never started). It sits between long-polling and Ajax polling: it
 * passes proxies that refuse WebSocket upgrades, holds no request per
 * delivery, and needs no sticky session.
 *
 * A stream is opened with a single-use ticket (`POST /api/stream-ticket`),
 * never with the session token in the URL. Its rooms are fixed for its
 * life, so a join or a leave opens a new stream (the joins and leaves of
 * one moment share one), and the new stream starts every room from the
 * position the last one reached (its last event id, `shared/stream.ts`):
 * the server resumes each by the rules of `join { since, epoch }`, so the
 * switch loses and repeats nothing. A stream that breaks ends the transport;
 * the core reconnects and resumes as for any carrier.
 */
import {
  STREAM_EVENTS,
  StreamTicket,
  fail,
  formatStreamId,
  type Ack,
  type EventName,
  type EventOf,
  type OkOf,
  type RequestOf,
  type StreamPosition,
} from '../../../shared/protocol.ts';
import { AjaxTransport } from './ajax-transport.ts';
import { parseEvent, parseOk, warnDropped } from './inbound.ts';
import { roomsAnswer, type ClientCommand, type CloseInfo, type Transport, type TransportListener } from './transport.ts';

/** The part of the browser's EventSource this transport uses. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void): void;
  onerror: ((ev: Event) => void) | null;
  close(): void;
}

export interface SseTransportOptions {
  url: string;
  token: string;
  listener: TransportListener;
  fetch?: typeof fetch;
  /** Makes the stream (the browser's EventSource by default). */
  eventSource?: (url: string) => EventSourceLike;
}

/** Silence past this means the stream is dead: the server sends a heartbeat event every 10 s. */
const SILENCE_LIMIT_MS = 25_000;

type JoinAnswer = (ack: Ack<OkOf<'join'>>) => void;

export class SseTransport implements Transport {
  private readonly rest: AjaxTransport;
  /** The rooms of the stream, each with where its stream stands (null: not joined yet, from its latest page). */
  private readonly rooms = new Map<string, StreamPosition | null>();
  /** Joins waiting for their room's `joined` (or `refused`) event. */
  private readonly pending = new Map<string, JoinAnswer>();
  /** How many are in each room, from its joins and presence events (the `rooms` command's count). */
  private readonly present = new Map<string, number>();
  private stream: EventSourceLike | null = null;
  /** Bumped per stream: events of a replaced stream are ignored. */
  private generation = 0;
  private reopenQueued = false;
  private opened = false;
  private finished = false;

  constructor(private readonly opts: SseTransportOptions) {
    const outer = opts.listener;
    // The REST half: a dead path there ends this transport too (the core reconnects).
    this.rest = new AjaxTransport({
      url: opts.url,
      token: opts.token,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      listener: {
        ...outer,
        opened: () => {},
        kindChanged: () => {},
        closed: (info) => this.finish(this.opened && info.cause === 'refused' ? { ...info, cause: 'lost' } : info),
      },
    });
  }

  private get fetchImpl(): typeof fetch {
    return this.opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  open(): void {
    void this.connect();
  }

  close(): void {
    this.finished = true;
    this.stream?.close();
    this.stream = null;
    this.rest.close();
    this.answerPending(fail('unavailable', 'Not connected.'));
  }

  silenceLimitMs(): number {
    return SILENCE_LIMIT_MS;
  }

  request<K extends ClientCommand>(name: K, req: RequestOf<K>): Promise<Ack<OkOf<K>>> {
    type Answer = Promise<Ack<OkOf<K>>>;
    switch (name) {
      case 'join':
        return this.join(req as RequestOf<'join'>) as Answer;
      case 'leave': {
        const { room } = req as RequestOf<'leave'>;
        this.present.delete(room);
        if (this.rooms.delete(room)) this.reopenSoon();
        return Promise.resolve({ ok: true }) as Answer;
      }
      case 'rooms':
        return Promise.resolve(
          roomsAnswer([...this.rooms].map(([room, at]) => ({ room, lastSeq: at?.seq ?? 0, members: this.present.get(room) ?? 0 }))),
        ) as Answer;
      default:
        return this.rest.request(name, req);
    }
  }

  private join(req: RequestOf<'join'>): Promise<Ack<OkOf<'join'>>> {
    if (this.finished) return Promise.resolve(fail('unavailable', 'Not connected.'));
    this.rooms.set(req.room, req.since !== undefined && req.epoch !== undefined ? { epoch: req.epoch, seq: req.since } : null);
    this.pending.get(req.room)?.(fail('unavailable', 'Joined again.'));
    const answer = new Promise<Ack<OkOf<'join'>>>((resolve) => this.pending.set(req.room, resolve));
    this.reopenSoon();
    return answer;
  }

  /** One new stream for every join and leave of this moment. */
  private reopenSoon(): void {
    if (this.reopenQueued || this.finished) return;
    this.reopenQueued = true;
    queueMicrotask(() => {
      this.reopenQueued = false;
      if (!this.finished && this.opened) void this.connect();
    });
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const ticket = await this.ticket();
    if (this.finished || generation !== this.generation) return;
    if (!ticket.ok) return this.finish(ticket.info);
    const positions = new Map<string, StreamPosition>();
    for (const [room, at] of this.rooms) if (at) positions.set(room, at);
    const qs = new URLSearchParams({ ticket: ticket.ticket, rooms: [...this.rooms.keys()].join(',') });
    if (positions.size > 0) qs.set('lastEventId', formatStreamId(positions));
    const make = this.opts.eventSource ?? ((u: string) => new EventSource(u) as unknown as EventSourceLike);
    this.stream?.close();
    const stream = make(`${this.opts.url}/api/stream?${qs}`);
    this.stream = stream;
    const live = () => generation === this.generation && !this.finished;
    const on = (type: string, handle: (data: unknown) => void) =>
      stream.addEventListener(type, (ev) => {
        if (!live()) return;
        this.opts.listener.heard();
        let data: unknown;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return warnDropped(type);
        }
        handle(data);
      });
    const push = <E extends EventName>(name: E, deliver: (ev: EventOf<E>) => void) =>
      on(name, (data) => {
        const ev = parseEvent(name, data);
        if (ev) deliver(ev);
        else warnDropped(name);
      });
    on(STREAM_EVENTS.ready, () => {
      if (this.opened) return;
      this.opened = true;
      this.opts.listener.opened('sse');
    });
    on(STREAM_EVENTS.heartbeat, () => {});
    on(STREAM_EVENTS.joined, (data) => this.joined(data));
    on(STREAM_EVENTS.refused, (data) => {
      const { room, error } = data as { room?: unknown; error?: { code?: unknown; message?: unknown } };
      if (typeof room !== 'string') return warnDropped('refused');
      this.rooms.delete(room);
      const answer = this.pending.get(room);
      this.pending.delete(room);
      const refused = fail('unavailable', 'The server refused the room.');
      answer?.(typeof error?.code === 'string' ? ({ ok: false, error } as typeof refused) : refused);
    });
    push('messages', (ev) => {
      const at = this.rooms.get(ev.room);
      if (at === undefined) return; // left meanwhile
      const last = ev.messages.at(-1)?.seq;
      if (at && last !== undefined && last > at.seq) at.seq = last;
      this.opts.listener.messages(ev);
    });
    push('presence', (ev) => {
      if (!this.rooms.has(ev.room)) return;
      this.present.set(ev.room, ev.members.length);
      this.opts.listener.presence(ev);
    });
    push('typing', (ev) => this.rooms.has(ev.room) && this.opts.listener.typing(ev));
    push('read', (ev) => this.opts.listener.read(ev));
    push('invited', (ev) => this.opts.listener.invited(ev));
    push('removed', (ev) => {
      this.rooms.delete(ev.room);
      this.opts.listener.removed?.(ev);
    });
    push('bye', (ev) => {
      this.opts.listener.bye(ev);
      this.finish({ cause: 'server-closed', ...(ev.retryAfterMs === undefined ? {} : { retryAfterMs: ev.retryAfterMs }) });
    });
    stream.onerror = () => {
      if (!live()) return;
      // EventSource would retry with the same (spent) ticket: the core reconnects instead, with a new one.
      this.finish({ cause: this.opened ? 'lost' : 'refused' });
    };
  }

  /** A room's join answer: a pending join resolves with it; a stream reopened for another room delivers what it replayed. */
  private joined(data: unknown): void {
    const ok = parseOk('join', data);
    if (!ok) return warnDropped('joined');
    if (!this.rooms.has(ok.room)) return;
    this.rooms.set(ok.room, { epoch: ok.epoch, seq: ok.lastSeq });
    this.present.set(ok.room, ok.members.length);
    const answer = this.pending.get(ok.room);
    if (answer) {
      this.pending.delete(ok.room);
      answer({ ok: true, ...ok });
      return;
    }
    if (ok.recovered === false) return this.opts.listener.roomReset(ok.room);
    if (ok.messages.length > 0) this.opts.listener.messages({ room: ok.room, messages: ok.messages });
    this.opts.listener.presence({ room: ok.room, members: ok.members, users: ok.users });
  }

  private async ticket(): Promise<{ ok: true; ticket: string } | { ok: false; info: CloseInfo }> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.opts.url}/api/stream-ticket`, { method: 'POST', headers: { authorization: `Bearer ${this.opts.token}` } });
    } catch {
      return { ok: false, info: { cause: this.opened ? 'lost' : 'refused' } };
    }
    if (res.status === 401) return { ok: false, info: { unauthorized: true } };
    const body = StreamTicket.safeParse(await res.json().catch(() => null));
    if (!res.ok || !body.success) return { ok: false, info: { cause: this.opened ? 'lost' : 'refused' } };
    return { ok: true, ticket: body.data.ticket };
  }

  private answerPending(ack: Ack<never>): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const answer of waiting) answer(ack);
  }

  private finish(info: CloseInfo): void {
    if (this.finished) return;
    this.close();
    this.opts.listener.closed(info);
  }
}
