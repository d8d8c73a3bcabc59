/**
 * Ajax polling as a Transport: short REST requests on a timer, for networks
 * where neither WebSocket nor long-polling survives (some proxies cut any
 * request held open). It trades latency for load, so the interval is
 * modest and each poll asks only for what follows the last seq seen.
 *
 * Presence and typing travel only on live connections, so over Ajax the
 * member list stays empty and typing signals are not sent.
 */
import { z } from 'zod';
import { ErrorBody, LIMITS, fail, type Ack, type Message, type ReadOk } from '../../../shared/protocol.ts';
import { parseReadOk, parseSendOk } from './inbound.ts';
import type { Transport, TransportListener } from './transport.ts';

export interface AjaxTransportOptions {
  url: string;
  token: string;
  listener: TransportListener;
  /** Time between polls of each joined room. */
  pollIntervalMs?: number;
  fetch?: typeof fetch;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const ErrorEnvelope = z.object({ error: ErrorBody });

/** Largest page the REST reads may ask for. */
const PAGE = LIMITS.historyMaxPage;

type HttpResult = { ok: true; body: unknown } | { ok: false; status: number; error: Ack<never> & { ok: false } };

export class AjaxTransport implements Transport {
  /** Next seq cursor per joined room. */
  private readonly cursors = new Map<string, { after: number; epoch: string }>();
  private readonly aborter = new AbortController();
  private timer: unknown = null;
  private finished = false;
  private polling = false;

  constructor(private readonly opts: AjaxTransportOptions) {}

  private get fetchImpl(): typeof fetch {
    // Bound: the browser's fetch throws "Illegal invocation" when called as another object's method.
    return this.opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  open(): void {
    void this.fetchJson('GET', '/healthz').then((r) => {
      if (this.finished) return;
      if (!r.ok) return this.finish({});
      this.opts.listener.opened('ajax');
      this.schedule();
    });
  }

  close(): void {
    this.finished = true;
    this.stopTimer();
    this.aborter.abort();
  }

  join: Transport['join'] = async (req) => {
    const latest = () => this.read(req.room, `before=${Number.MAX_SAFE_INTEGER}&limit=${LIMITS.joinPage}`);
    let page: ReadOk | Ack<never>;
    let recovered = false;
    let messages: Message[] = [];
    if (req.since !== undefined && req.epoch !== undefined) {
      const replay = await this.replay(req.room, req.since, req.epoch);
      if (replay === null) {
        page = await latest();
      } else if ('ok' in replay) {
        return replay;
      } else {
        page = replay.page;
        messages = replay.messages;
        recovered = true;
      }
    } else {
      page = await latest();
    }
    if ('ok' in page) return page;
    if (!recovered) messages = page.messages;
    this.cursors.set(req.room, { after: page.lastSeq, epoch: page.epoch });
    return { ok: true, room: req.room, epoch: page.epoch, lastSeq: page.lastSeq, messages, members: [], recovered };
  };

  send: Transport['send'] = async (req) => {
    const r = await this.fetchJson('POST', `/api/rooms/${encodeURIComponent(req.room)}/messages`, {
      text: req.text,
      clientId: req.clientId,
    });
    if (!r.ok) return r.error;
    const ok = parseSendOk(r.body);
    if (!ok) return fail('unavailable', 'The server sent an unexpected answer.');
    // Fetch the new message (and anything before it) now rather than at the next tick.
    this.pollSoon();
    return { ok: true, ...ok };
  };

  leave: Transport['leave'] = async (req) => {
    this.cursors.delete(req.room);
    return { ok: true };
  };

  history: Transport['history'] = async (req) => {
    const page = await this.read(req.room, `before=${req.before}&limit=${req.limit ?? LIMITS.historyDefaultPage}`);
    if ('ok' in page) return page;
    return { ok: true, messages: page.messages };
  };

  typing(): void {
    // Typing is ephemeral and only worth sending on a live connection.
  }

  /** Reads everything after `since`; null when the gap cannot be replayed (other epoch, or too far behind). */
  private async replay(
    room: string,
    since: number,
    epoch: string,
  ): Promise<{ page: ReadOk; messages: Message[] } | Ack<never> | null> {
    const messages: Message[] = [];
    let after = since;
    for (;;) {
      const page = await this.read(room, `after=${after}&limit=${PAGE}`);
      if ('ok' in page) return page;
      if (page.epoch !== epoch || page.lastSeq - since > LIMITS.replayMax) return null;
      messages.push(...page.messages);
      const last = page.messages[page.messages.length - 1];
      if (last === undefined || last.seq >= page.lastSeq) return { page, messages };
      after = last.seq;
    }
  }

  private async read(room: string, query: string): Promise<ReadOk | (Ack<never> & { ok: false })> {
    const r = await this.fetchJson('GET', `/api/rooms/${encodeURIComponent(room)}/messages?${query}`);
    if (!r.ok) return r.error;
    return parseReadOk(r.body) ?? fail('unavailable', 'The server sent an unexpected answer.');
  }

  private schedule(): void {
    this.stopTimer();
    if (this.finished) return;
    const set = this.opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.timer = set(() => void this.poll(), this.opts.pollIntervalMs ?? 1500);
  }

  private pollSoon(): void {
    if (!this.polling) void this.poll();
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    const clear = this.opts.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
    clear(this.timer);
    this.timer = null;
  }

  /** One round: ask each joined room for what follows its cursor. */
  private async poll(): Promise<void> {
    if (this.finished || this.polling) return;
    this.polling = true;
    this.stopTimer();
    try {
      for (const [room, cursor] of [...this.cursors]) {
        const page = await this.read(room, `after=${cursor.after}&limit=${PAGE}`);
        if (this.finished) return;
        if ('ok' in page) {
          // The server is gone or refuses us: let the core reconnect with backoff.
          if (page.error.code === 'unavailable' || page.error.code === 'rate_limited') {
            return this.finish(page.error.retryAfterMs === undefined ? {} : { retryAfterMs: page.error.retryAfterMs });
          }
          continue;
        }
        // A new epoch means the log was reset: reconnecting makes the core re-join and reload.
        if (page.epoch !== cursor.epoch) return this.finish({});
        if (!this.cursors.has(room)) continue;
        const last = page.messages[page.messages.length - 1];
        if (last !== undefined) {
          this.cursors.set(room, { after: last.seq, epoch: page.epoch });
          this.opts.listener.messages({ room, messages: page.messages });
        }
      }
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  private finish(info: { unauthorized?: boolean; retryAfterMs?: number }): void {
    if (this.finished) return;
    this.close();
    this.opts.listener.closed(info);
  }

  private async fetchJson(method: 'GET' | 'POST', path: string, body?: object): Promise<HttpResult> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.opts.url}${path}`, {
        method,
        signal: this.aborter.signal,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { ok: false, status: 0, error: fail('unavailable', 'Could not reach the server.') };
    }
    let data: unknown = null;
    try {
      data = await res.json();
    } catch {
      // Empty or non-JSON body; judged by status below.
    }
    if (res.ok) return { ok: true, body: data };
    if (res.status === 401) {
      this.finish({ unauthorized: true });
      return { ok: false, status: 401, error: fail('unauthorized', 'Your session has expired.') };
    }
    const env = ErrorEnvelope.safeParse(data);
    const error = env.success
      ? ({ ok: false, error: env.data.error } as const)
      : fail(res.status >= 500 ? 'unavailable' : 'bad_request', `The server answered HTTP ${res.status}.`);
    return { ok: false, status: res.status, error };
  }
}
