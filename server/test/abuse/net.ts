/**
 * Clients for hostile-client tests, each bound to a chosen loopback address
 * (127.0.0.2 … 127.0.0.250) so one machine can play many client addresses:
 * plain HTTP requests, socket.io clients, and engine.io spoken by hand over a
 * raw WebSocket, for the clients a browser would never be (one that stops
 * reading, one that never authenticates).
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { io as connect } from 'socket.io-client';
import WebSocket from 'ws';
import type { Ack, SessionOk } from '../../../shared/protocol.ts';
import type { ChatSocket } from '../harness.ts';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request from `localAddress`; resolves with the status and body (never rejects on a status). */
export function httpRequest(
  url: string,
  opts: { method?: 'GET' | 'POST' | 'DELETE'; path: string; body?: string; headers?: Record<string, string>; localAddress?: string; agent?: Agent; timeoutMs?: number },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.path, url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        // A body always has its length: without it Node sends a DELETE's body unframed, and the server reads it as the next request.
        headers: { ...(opts.body !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) }), ...opts.headers },
        localAddress: opts.localAddress,
        agent: opts.agent,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A session for `name`, created from `localAddress`; throws with the status when refused. */
export async function sessionFrom(url: string, name: string, localAddress?: string): Promise<SessionOk> {
  const res = await httpRequest(url, { method: 'POST', path: '/api/session', body: JSON.stringify({ name }), localAddress });
  if (res.status !== 200) throw new Error(`session refused: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as SessionOk;
}

/** A socket.io client over WebSocket from `localAddress`; resolves once connected, rejects with the connect_error. */
export function socketFrom(url: string, token: string, localAddress?: string, timeoutMs = 10_000): Promise<ChatSocket> {
  const socket = connect(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
    ...(localAddress && { localAddress }),
  } as Parameters<typeof connect>[1]) as ChatSocket;
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
}

/** Emits `event` and waits for its ack, or answers a synthetic timeout after `timeoutMs`. */
export function ask<T = object>(socket: ChatSocket, event: string, payload: unknown, timeoutMs = 10_000): Promise<Ack<T> | { ok: false; error: { code: 'timeout'; message: string; retryAfterMs?: number } }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: { code: 'timeout', message: `no answer to ${event} in ${timeoutMs} ms` } }), timeoutMs);
    (socket as unknown as { emit(e: string, p: unknown, cb: (a: Ack<T>) => void): void }).emit(event, payload, (a: Ack<T>) => {
      clearTimeout(timer);
      resolve(a);
    });
  });
}

/** How a hand-made socket.io handshake ended. */
export type HandshakeOutcome = 'connected' | 'dropped' | `refused:${string}`;

/**
 * engine.io v4 spoken by hand over a raw WebSocket: the client a browser
 * would never be. It answers the server's pings while it reads; `stopReading`
 * pauses its TCP socket (nothing is read from then on) and keeps the
 * connection alive with a blind pong every few seconds, as a hostile client
 * that wants the server to queue for it would.
 */
export class RawEngine {
  readonly ws: WebSocket;
  readonly frames: string[] = [];
  /** Resolves when the TCP connection is gone, however it went. */
  readonly closed: Promise<void>;
  /** Answers (socket.io acks) read so far: ok ones, and refusals by error code. */
  readonly answers = { ok: 0, refused: {} as Record<string, number> };
  bytesRead = 0;
  private nextAck = 1;
  private pong: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(url: string, localAddress?: string) {
    const u = new URL(url);
    this.ws = new WebSocket(`ws://${u.host}/socket.io/?EIO=4&transport=websocket`, { localAddress, perMessageDeflate: false });
    this.ws.on('message', (d: Buffer) => {
      this.bytesRead += d.length;
      // Answers may be megabytes: look at their head only, and keep only small frames.
      const head = d.subarray(0, 200).toString();
      if (head === '2') this.send('3');
      else if (head.startsWith('43')) this.countAnswer(head);
      if (d.length < 64 * 1024 && this.frames.length < 1000) this.frames.push(d.toString());
      for (const w of this.waiters) w();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.ws.once('close', () => {
        clearInterval(this.pong);
        for (const w of this.waiters) w();
        resolve();
      }),
    );
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves when the WebSocket is open (true) or failed to open (false). */
  opened(): Promise<boolean> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve(true);
    if (this.ws.readyState > WebSocket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
  }

  private countAnswer(head: string): void {
    const m = /^43\d+\[\{"ok":(true|false)(?:,"error":\{"code":"([a-z_]+)")?/.exec(head);
    if (!m) return;
    if (m[1] === 'true') this.answers.ok++;
    else this.answers.refused[m[2] ?? 'unknown'] = (this.answers.refused[m[2] ?? 'unknown'] ?? 0) + 1;
  }

  /** Sends socket.io's CONNECT with `token`; resolves with how the server answered. */
  async handshake(token: string, timeoutMs = 10_000): Promise<HandshakeOutcome> {
    if (!(await this.opened())) return 'dropped';
    this.send(`40${JSON.stringify({ token })}`);
    const frame = await this.waitFor((f) => f.startsWith('40') || f.startsWith('44'), timeoutMs);
    if (frame === undefined) return 'dropped';
    if (frame.startsWith('40')) return 'connected';
    try {
      return `refused:${(JSON.parse(frame.slice(2)) as { message?: string }).message ?? 'unknown'}`;
    } catch {
      return 'refused:unknown';
    }
  }

  /** Emits a socket.io event with an ack id (so the server answers it); returns the id. */
  emit(event: string, payload: unknown): number {
    const id = this.nextAck++;
    this.send(`42${id}${JSON.stringify([event, payload])}`);
    return id;
  }

  send(frame: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  /** The first frame (seen or to come) that matches, or undefined on close or timeout. */
  waitFor(match: (frame: string) => boolean, timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const done = (v: string | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const check = () => {
        const f = this.frames.find(match);
        if (f !== undefined) done(f);
        else if (this.ws.readyState > WebSocket.OPEN) done(undefined);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Stops reading (pauses the TCP socket) but keeps answering pings blindly, every `pongEveryMs`. */
  stopReading(pongEveryMs = 4_000): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    this.pong = setInterval(() => this.send('3'), pongEveryMs);
  }

  /** Destroys the TCP socket at once (no close handshake, which a paused socket could not finish). */
  destroy(): void {
    clearInterval(this.pong);
    this.ws.terminate();
  }
}

export interface UploadAnswer {
  /** The server's status, or 0 when the connection ended without an answer. */
  status: number;
  body: string;
  /** From the request's first byte to the answer. */
  ms: number;
  /** Bytes of the file written before the answer came. */
  sent: number;
}

/**
 * One upload (`POST /api/rooms/:room/files`, one multipart part named
 * `file`) written by hand on a socket from `localAddress`, so its pace and
 * framing are the caller's: `declared` is the Content-Length to claim
 * (`'chunked'`: none), and `chunks` the file's bytes, written as fast as the
 * socket takes them (await between them to pace). Stops writing once the
 * server answers or closes.
 */
export function rawUpload(
  url: string,
  opts: { token: string; room: string; localAddress?: string; name?: string; declared?: number | 'chunked'; chunks: AsyncIterable<Buffer> | Iterable<Buffer> },
): Promise<UploadAnswer> {
  const u = new URL(url);
  const { head, tail } = framing(opts.name);
  const chunked = opts.declared === 'chunked';
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0;
    let answered = false;
    const got: Buffer[] = [];
    const sock = tcpConnect({ host: u.hostname, port: Number(u.port), localAddress: opts.localAddress });
    const finish = () => {
      if (answered) return;
      answered = true;
      const text = Buffer.concat(got).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), ms: performance.now() - t0, sent });
      sock.destroy();
    };
    sock.on('data', (d: Buffer) => {
      got.push(d);
      const text = Buffer.concat(got).toString();
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text)?.[1];
      if (end >= 0 && length !== undefined && Buffer.byteLength(text) - end - 4 >= Number(length)) finish();
    });
    sock.on('error', finish);
    sock.on('close', finish);
    const write = (b: Buffer) =>
      new Promise<void>((done) => {
        if (answered || sock.destroyed) return done();
        const framed = chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b;
        if (sock.write(framed)) return done();
        const go = () => {
          sock.off('drain', go).off('close', go);
          done();
        };
        sock.on('drain', go).on('close', go);
      });
    sock.once('connect', () => {
      void (async () => {
        const length = typeof opts.declared === 'number' ? `Content-Length: ${opts.declared}` : 'Transfer-Encoding: chunked';
        sock.write(
          `POST /api/rooms/${opts.room}/files HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${opts.token}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${length}\r\n\r\n`,
        );
        await write(head);
        for await (const c of opts.chunks) {
          if (answered) return;
          await write(c);
          sent += c.length;
        }
        await write(tail);
        if (chunked && !answered) sock.write('0\r\n\r\n');
      })();
    });
  });
}

const BOUNDARY = 'fiberchatabuse0123456789';

/** The multipart part's head and the body's closing boundary around one file named `name`. */
function framing(name = 'upload.bin'): { head: Buffer; tail: Buffer } {
  return {
    head: Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    tail: Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  };
}

/** The multipart framing `rawUpload` adds around a file of `size` bytes named `name`: for an honest Content-Length. */
export function multipartLength(size: number, name?: string): number {
  const { head, tail } = framing(name);
  return head.length + size + tail.length;
}
