/**
 * Just enough of the socket.io v5 / engine.io v4 wire protocol for a load
 * generator, spoken by hand: one `ws` socket or one pair of HTTP requests per
 * client, no socket.io-client (whose per-socket machinery would make the
 * generator the bottleneck long before the server).
 *
 * Frames:  engine.io `0` open, `2` ping, `3` pong, `4` message; a message is a
 * socket.io packet: `40` connect, `42[id][…]` event, `43<id>[…]` ack,
 * `44` connect error. Long-polling joins several packets with \x1e.
 */
import http from 'node:http';
import WebSocket from 'ws';
import type { MessagesEvent } from '../../shared/protocol.ts';

/** Counts one delivery per message object: each carries exactly one `"seq":` key. */
const SEQ_KEY = Buffer.from('"seq":');
const MESSAGES_PREFIX = Buffer.from('42["messages"');
const TEXT_T = Buffer.from('"text":"t');

/** An ack as it comes off the wire, before its command's ok schema (`shared/commands.ts`) says what else it holds. */
export type Ack = { ok: boolean; [k: string]: unknown };

/** What a client does with the `messages` frames it receives. */
export interface Sink {
  /** Called with each `messages` packet; `count` messages in it. */
  messages(frame: Buffer, count: number): void;
}

export function countMessages(frame: Buffer): number {
  let n = 0;
  for (let i = frame.indexOf(SEQ_KEY); i !== -1; i = frame.indexOf(SEQ_KEY, i + 6)) n++;
  return n;
}

/**
 * Send timestamps embedded by publishers (`t<ms>:` at the start of the text),
 * read without parsing the JSON. `now - t` is the send→receive latency.
 */
export function sentTimes(frame: Buffer, out: number[]): void {
  for (let i = frame.indexOf(TEXT_T); i !== -1; i = frame.indexOf(TEXT_T, i + 9)) {
    let j = i + 9;
    let v = 0;
    let frac = 0;
    let scale = 0;
    for (; j < frame.length; j++) {
      const c = frame[j] as number;
      if (c >= 48 && c <= 57) {
        if (scale) {
          frac += (c - 48) / scale;
          scale *= 10;
        } else v = v * 10 + (c - 48);
      } else if (c === 46 && !scale) scale = 10;
      else break;
    }
    out.push(v + frac);
  }
}

/** Seqs of the messages in a frame, in order (parses the JSON: for correctness checks). */
export function seqsOf(packet: string): number[] {
  const arr = JSON.parse(packet.slice(packet.indexOf('['))) as [string, MessagesEvent];
  return arr[1].messages.map((m) => m.seq);
}

/** A 100-byte (by default) text that starts with the send time. */
export function stampedText(sentAt: number, bytes: number): string {
  const head = `t${sentAt.toFixed(3)}:`;
  return head + 'x'.repeat(Math.max(1, bytes - head.length));
}

let idCounter = 0;
const idPrefix = `b${process.pid.toString(36)}${Date.now().toString(36)}`;
/** Unique clientId matching ^[A-Za-z0-9_-]{8,64}$. */
export function clientId(): string {
  return `${idPrefix}_${(idCounter++).toString(36)}`;
}

interface Pending {
  resolve(a: Ack): void;
  reject(e: Error): void;
}

/** Shared by both socket.io transports: acks, the connect handshake, events. */
abstract class SioBase {
  protected nextId = 0;
  protected readonly acks = new Map<number, Pending>();
  protected connected: ((sid: string) => void) | undefined;
  protected failed: ((e: Error) => void) | undefined;
  sink: Sink | undefined;
  /** Fires when the transport goes away, whoever closed it. */
  onClose: (() => void) | undefined;
  closed = false;

  protected abstract sendPacket(p: string): void;

  /** Emits an event and resolves with its ack. */
  emit(event: string, payload: unknown): Promise<Ack> {
    const id = this.nextId++;
    return new Promise<Ack>((resolve, reject) => {
      if (this.closed) return reject(new Error('closed'));
      this.acks.set(id, { resolve, reject });
      this.sendPacket(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  /** Handles one engine.io packet given as a Buffer (WebSocket) or string (polling). */
  protected onPacket(p: Buffer | string): void {
    const c0 = typeof p === 'string' ? p.charCodeAt(0) : p[0];
    if (c0 === 0x32) return this.sendPacket('3'); // ping → pong
    if (c0 !== 0x34) return; // only messages matter past the open
    const c1 = typeof p === 'string' ? p.charCodeAt(1) : p[1];
    if (c1 === 0x32) {
      // event: `messages` is the hot path, counted without parsing
      const buf = typeof p === 'string' ? Buffer.from(p) : p;
      if (this.sink && buf.subarray(0, MESSAGES_PREFIX.length).equals(MESSAGES_PREFIX)) {
        this.sink.messages(buf, countMessages(buf));
      }
      return;
    }
    const s = typeof p === 'string' ? p : p.toString();
    if (c1 === 0x33) {
      const open = s.indexOf('[');
      const id = Number(s.slice(2, open));
      const pending = this.acks.get(id);
      if (!pending) return;
      this.acks.delete(id);
      pending.resolve((JSON.parse(s.slice(open)) as [Ack])[0]);
    } else if (c1 === 0x30) {
      const sid = (JSON.parse(s.slice(2) || '{}') as { sid?: string }).sid ?? '';
      this.connected?.(sid);
    } else if (c1 === 0x34) {
      this.failed?.(new Error(`connect_error ${s.slice(2)}`));
    }
  }

  protected closeAll(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('connection closed');
    for (const p of this.acks.values()) p.reject(err);
    this.acks.clear();
    this.failed?.(err);
    this.onClose?.();
  }

  protected handshake(token: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket.io connect timeout')), timeoutMs);
      this.connected = () => {
        clearTimeout(timer);
        this.connected = undefined;
        this.failed = undefined;
        resolve();
      };
      this.failed = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.sendPacket(`40${JSON.stringify({ token })}`);
    });
  }
}

export interface ConnectOptions {
  port: number;
  token: string;
  /** Source address on 127.0.0.0/8, spreading connections over many 4-tuples. */
  localAddress?: string;
  timeoutMs?: number;
}

/** socket.io over one WebSocket. */
export class SioWs extends SioBase {
  private ws!: WebSocket;

  static async connect(opts: ConnectOptions): Promise<SioWs> {
    const c = new SioWs();
    await c.open(opts);
    return c;
  }

  private async open(opts: ConnectOptions): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const ws = new WebSocket(`ws://127.0.0.1:${opts.port}/socket.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      allowSynchronousEvents: true,
      handshakeTimeout: timeoutMs,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    this.ws = ws;
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('closed during open')));
      ws.once('message', (data: Buffer) => {
        if (data[0] === 0x30) resolve(); // engine.io open packet
        else reject(new Error(`unexpected open packet ${data.toString().slice(0, 40)}`));
      });
    });
    await opened;
    ws.removeAllListeners('error');
    ws.removeAllListeners('close');
    ws.on('message', (data: Buffer) => this.onPacket(data));
    ws.on('error', () => {});
    ws.on('close', () => this.closeAll());
    await this.handshake(opts.token, timeoutMs);
  }

  protected sendPacket(p: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(p);
  }

  /** Closes politely (close frame). */
  close(): void {
    this.ws.close();
    this.closeAll();
  }

  /** Kills the TCP connection without a close frame, as a lost network would. */
  kill(): void {
    this.ws.terminate();
    this.closeAll();
  }

  /** Bytes handed to the socket but not yet written. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
}

/** A keep-alive agent per source address (agents key their pools by localAddress anyway). */
const agents = new Map<string, http.Agent>();
export function agentFor(localAddress: string | undefined): http.Agent {
  const key = localAddress ?? '';
  let a = agents.get(key);
  if (!a) {
    a = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096, ...(localAddress ? { localAddress } : {}) });
    agents.set(key, a);
  }
  return a;
}

export function destroyAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One HTTP request on 127.0.0.1 with a keep-alive agent. */
export function request(
  port: number,
  method: string,
  path: string,
  opts: { body?: string; headers?: Record<string, string>; localAddress?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers, agent: agentFor(opts.localAddress) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * socket.io over engine.io HTTP long-polling: one GET always pending, POSTs
 * one at a time (engine.io refuses overlapping POSTs), packets queued and
 * batched meanwhile.
 */
export class SioPolling extends SioBase {
  private port = 0;
  private sid = '';
  private localAddress: string | undefined;
  private queue: string[] = [];
  private posting = false;

  static async connect(opts: ConnectOptions): Promise<SioPolling> {
    const c = new SioPolling();
    await c.open(opts);
    return c;
  }

  private path(): string {
    return `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`;
  }

  private async open(opts: ConnectOptions): Promise<void> {
    this.port = opts.port;
    this.localAddress = opts.localAddress;
    const r = await request(this.port, 'GET', '/socket.io/?EIO=4&transport=polling', { localAddress: this.localAddress });
    if (r.status !== 200 || !r.body.startsWith('0')) throw new Error(`polling open failed: ${r.status} ${r.body.slice(0, 80)}`);
    this.sid = (JSON.parse(r.body.slice(1)) as { sid: string }).sid;
    const connected = this.handshake(opts.token, opts.timeoutMs ?? 20_000);
    void this.pollLoop();
    await connected;
  }

  private async pollLoop(): Promise<void> {
    while (!this.closed) {
      let r: HttpResult;
      try {
        r = await request(this.port, 'GET', this.path(), { localAddress: this.localAddress });
      } catch {
        this.closeAll();
        return;
      }
      if (r.status !== 200) {
        this.closeAll();
        return;
      }
      for (const p of r.body.split('\x1e')) {
        if (p === '1') {
          this.closeAll(); // engine.io close
          return;
        }
        if (p.length > 0) this.onPacket(p);
      }
    }
  }

  protected sendPacket(p: string): void {
    if (this.closed) return;
    this.queue.push(p);
    if (!this.posting) void this.flush();
  }

  private async flush(): Promise<void> {
    this.posting = true;
    while (this.queue.length > 0 && !this.closed) {
      const body = this.queue.join('\x1e');
      this.queue = [];
      try {
        const r = await request(this.port, 'POST', this.path(), {
          body,
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          localAddress: this.localAddress,
        });
        if (r.status !== 200) this.closeAll();
      } catch {
        this.closeAll();
      }
    }
    this.posting = false;
  }

  close(): void {
    if (this.closed) return;
    // engine.io close packet; the pending GET then ends too.
    request(this.port, 'POST', this.path(), { body: '1', localAddress: this.localAddress }).catch(() => {});
    this.closeAll();
  }
}

/** Source addresses 127.0.0.2 … 127.0.0.(1+n), round robin. */
export function sourceAddress(i: number, spread = 50): string {
  return `127.0.0.${2 + (i % spread)}`;
}

const MESSAGES_EVENT = Buffer.from('event: messages\n');
const EVENT_END = Buffer.from('\n\n');

/**
 * A Server-Sent Events subscriber as a browser's EventSource is one: a
 * ticket (`POST /api/stream-ticket`), then one long `GET /api/stream` read
 * event by event. Each complete `messages` event goes to the sink, counted
 * by its `"seq":` keys without parsing, as the socket.io clients count theirs.
 * Receives only: it sends nothing on the stream.
 */
export class SseSubscriber {
  sink: Sink | undefined;
  onClose: (() => void) | undefined;
  closed = false;
  private req: http.ClientRequest | undefined;
  private rest: Buffer = Buffer.alloc(0);

  static async open(opts: ConnectOptions & { rooms: string[] }): Promise<SseSubscriber> {
    const c = new SseSubscriber();
    await c.connect(opts);
    return c;
  }

  private async connect(opts: ConnectOptions & { rooms: string[] }): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const t = await request(opts.port, 'POST', '/api/stream-ticket', {
      headers: { authorization: `Bearer ${opts.token}` },
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      timeoutMs,
    });
    if (t.status !== 200) throw new Error(`stream ticket refused: ${t.status} ${t.body.slice(0, 120)}`);
    const { ticket } = JSON.parse(t.body) as { ticket: string };
    const qs = new URLSearchParams({ ticket, rooms: opts.rooms.join(',') });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stream did not join in time')), timeoutMs);
      let joined = 0;
      const req = http.request(
        // Its own connection (not the keep-alive pool): a stream holds its socket for its life.
        { host: '127.0.0.1', port: opts.port, method: 'GET', path: `/api/stream?${qs}`, headers: { accept: 'text/event-stream' }, agent: false, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) },
        (res) => {
          if (res.statusCode !== 200) {
            clearTimeout(timer);
            res.resume();
            return reject(new Error(`stream refused: ${res.statusCode}`));
          }
          res.on('data', (chunk: Buffer) => {
            for (const ev of this.events(chunk)) {
              if (ev.subarray(0, MESSAGES_EVENT.length).equals(MESSAGES_EVENT)) this.sink?.messages(ev, countMessages(ev));
              else if (joined < opts.rooms.length && ev.includes('event: joined\n')) {
                if (++joined === opts.rooms.length) {
                  clearTimeout(timer);
                  resolve();
                }
              } else if (ev.includes('event: refused\n')) {
                clearTimeout(timer);
                reject(new Error(`room refused: ${ev.toString().slice(0, 200)}`));
              }
            }
          });
          res.on('close', () => this.end());
          res.on('error', () => this.end());
          if (opts.rooms.length === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      );
      req.on('error', (e) => {
        clearTimeout(timer);
        this.end();
        reject(e);
      });
      req.end();
      this.req = req;
    });
  }

  /** The complete events in what has arrived so far; an event's tail waits for the next chunk. */
  private events(chunk: Buffer): Buffer[] {
    const buf = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: Buffer[] = [];
    let start = 0;
    for (let i = buf.indexOf(EVENT_END); i !== -1; i = buf.indexOf(EVENT_END, start)) {
      out.push(buf.subarray(start, i));
      start = i + 2;
    }
    this.rest = start < buf.length ? Buffer.from(buf.subarray(start)) : Buffer.alloc(0);
    return out;
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }

  /** Rejects: a stream carries nothing from the client (commands go over REST). */
  emit(_event: string, _payload: unknown): Promise<Ack> {
    return Promise.reject(new Error('a stream sends nothing'));
  }

  close(): void {
    this.req?.destroy();
    this.end();
  }

  kill(): void {
    this.close();
  }
}
