/**
 * Clients for the cluster tests, written to the protocol the way a careful
 * bot would be: socket.io clients on WebSocket or long-polling, and Ajax
 * pollers over REST. Each keeps, per room, what it was delivered and notes
 * every departure from the invariants (a gap, a message out of order, a
 * resume that was not recovered); senders retry with the same clientId
 * until a send is acked, and record every answer they got.
 *
 * Node's socket.io client keeps no cookies, so the HAProxy cookie that pins
 * a long-polling session to its node is passed as a header; after a drop
 * the client asks HAProxy again (sending its old cookie, as a browser
 * would) and takes the cookie it is given, which names a live node.
 */
import { io } from 'socket.io-client';
import type { Ack, ErrorCode, JoinOk, Message, PageOk, SendOk, SessionOk } from '../../../shared/protocol.ts';
import type { ChatSocket } from '../harness.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function newSession(base: string, name: string): Promise<SessionOk> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error(`session ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as SessionOk;
}

/** The STICKY cookie HAProxy hands a client that sends `cookie` (its old one, or none): the node it will use. */
export async function cookieFrom(base: string, cookie: string | undefined): Promise<string | undefined> {
  const res = await fetch(`${base}/healthz`, { headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  const set = res.headers.get('set-cookie');
  return set ? set.split(';')[0] : cookie;
}

/** What one subscriber was delivered in one room, and what was wrong with it. */
export class RoomView {
  epoch: string | undefined;
  /** Highest seq delivered. */
  last = 0;
  /** Every message, in the order delivered, each seq once. */
  readonly messages: Message[] = [];
  /** Messages delivered again (allowed only around a reconnect: the client de-duplicates by seq). */
  redelivered = 0;
  /** Departures from the invariants, in words. */
  readonly problems: string[] = [];

  constructor(
    readonly room: string,
    readonly who: string,
  ) {}

  /** Takes messages in delivery order: each must be the next seq, or one already had. */
  take(messages: readonly Message[], how: string): void {
    for (const m of messages) {
      if (m.room !== this.room) this.problems.push(`${this.who} ${how}: a message of room ${m.room} in ${this.room}`);
      if (m.seq <= this.last) {
        this.redelivered++;
        continue;
      }
      if (m.seq !== this.last + 1) this.problems.push(`${this.who} ${how} in ${this.room}: seq ${m.seq} after ${this.last}`);
      this.last = m.seq;
      this.messages.push(m);
    }
  }

  /** The answer to a join or a poll: `recovered: false` means the server could not resume (a problem in every test here). */
  resumed(epoch: string, recovered: boolean, messages: readonly Message[], how: string): void {
    // Holding nothing, any epoch is as good as another (a room that has stored nothing proposes one per node).
    if (this.last > 0 && epoch !== this.epoch) this.problems.push(`${this.who} ${how} in ${this.room}: epoch changed after seq ${this.last}`);
    if (!recovered) {
      this.problems.push(`${this.who} ${how} in ${this.room}: recovered false after seq ${this.last}`);
    }
    this.epoch = epoch;
    this.take(messages, how);
  }

  seqs(): number[] {
    return this.messages.map((m) => m.seq);
  }
}

/** Every answer a sender got, by outcome: `ok`, `duplicate`, an error code, or `timeout` (no answer in time). */
export type Outcome = 'ok' | 'duplicate' | ErrorCode | 'timeout' | 'network';

export interface SendRecord {
  room: string;
  clientId: string;
  /** The acked seq, once acked. */
  seq?: number;
  /** Every answer, in order, with the retry hint of refusals and, for `network`, what failed. */
  answers: Array<{ outcome: Outcome; retryAfterMs?: number; detail?: string }>;
}

/** Something that sends reliably: retries with the same clientId until acked (or `give up` after `deadline`). */
export interface Sender {
  readonly name: string;
  send(room: string, text: string, clientId: string, deadline?: number): Promise<SendRecord>;
}

const RETRYABLE: ReadonlySet<Outcome> = new Set(['unavailable', 'rate_limited', 'timeout', 'network']);

async function sendWithRetry(
  attempt: () => Promise<{ outcome: Outcome; retryAfterMs?: number; seq?: number; detail?: string }>,
  rec: SendRecord,
  deadline: number,
): Promise<SendRecord> {
  for (let tries = 0; ; tries++) {
    const a = await attempt();
    rec.answers.push({
      outcome: a.outcome,
      ...(a.retryAfterMs === undefined ? {} : { retryAfterMs: a.retryAfterMs }),
      ...(a.detail === undefined ? {} : { detail: a.detail }),
    });
    if (a.seq !== undefined) {
      rec.seq = a.seq;
      return rec;
    }
    if (!RETRYABLE.has(a.outcome) || Date.now() > deadline) return rec;
    // The server's hint, else a short backoff with jitter (a refused connection says nothing).
    await sleep(a.retryAfterMs ?? Math.min(1000, 100 * 2 ** Math.min(tries, 3)) * (0.5 + Math.random()));
  }
}

export interface SocketPeerOptions {
  name: string;
  /** Where to connect: HAProxy, or one node directly. */
  base: string;
  session: SessionOk;
  transport: 'websocket' | 'polling';
  /** A Cookie header to start with (`SERVERID=node-2` pins this client to node-2 through HAProxy). */
  cookie?: string;
  /** Joined on every connection, resuming each from its last seq. */
  rooms: readonly string[];
  /** After a drop, come back through `base` (default true). */
  reconnect?: boolean;
  /** How long an emit waits for its ack (default 5 s). */
  ackTimeoutMs?: number;
}

/**
 * A socket.io client that stays: it joins its rooms on every connection,
 * resuming each with `since` and `epoch`, and after a drop connects again
 * (a new engine.io session, through the balancer) with backoff.
 */
export class SocketPeer implements Sender {
  readonly views = new Map<string, RoomView>();
  /** Engine.io session ids, one per connection made. */
  readonly sessions: string[] = [];
  /** Why each connection ended (socket.io's disconnect reasons, or `bye <reason>`). */
  readonly drops: string[] = [];
  /** Every join answer that was not ok, by code. */
  readonly joinRefusals: string[] = [];
  cookie: string | undefined;
  socket: ChatSocket | undefined;
  private closed = false;
  private ready: Promise<void> = Promise.resolve();
  private readyResolve: () => void = () => undefined;

  constructor(readonly opts: SocketPeerOptions) {
    this.cookie = opts.cookie;
    for (const room of opts.rooms) this.views.set(room, new RoomView(room, opts.name));
    this.waitReady();
  }

  get name(): string {
    return this.opts.name;
  }

  get connected(): boolean {
    return this.socket?.connected === true && this.isReady;
  }

  private isReady = false;

  private waitReady(): void {
    this.isReady = false;
    this.ready = new Promise((r) => (this.readyResolve = r));
  }

  /** Connects and joins every room; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Resolves once connected with every room joined (waits through reconnects). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private async connect(): Promise<void> {
    const socket = io(this.opts.base, {
      auth: { token: this.opts.session.token },
      transports: [this.opts.transport],
      reconnection: false,
      forceNew: true,
      timeout: 5000,
      ...(this.cookie ? { extraHeaders: { cookie: this.cookie } } : {}),
    }) as ChatSocket;
    this.socket = socket;
    // Registered before any join, so nothing broadcast after a join's answer is missed.
    socket.on('messages', (ev) => this.views.get(ev.room)?.take(ev.messages, 'live'));
    socket.on('bye', (ev) => this.drops.push(`bye ${ev.reason}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
    this.sessions.push(socket.io.engine.id);
    socket.once('disconnect', (reason) => {
      this.drops.push(reason);
      this.waitReady();
      if (!this.closed && this.opts.reconnect !== false) void this.comeBack();
    });
    for (const room of this.opts.rooms) await this.join(socket, room);
    this.isReady = socket.connected;
    if (socket.connected) this.readyResolve();
  }

  private async join(socket: ChatSocket, room: string): Promise<void> {
    const view = this.views.get(room) as RoomView;
    for (;;) {
      const since = view.epoch === undefined ? {} : { since: view.last, epoch: view.epoch };
      // The answer is taken in the ack callback, not after an awaited promise: a `messages` packet
      // that follows the answer in the same read runs its handler before any promise continuation
      // (PROTOCOL.md, join), and must find the answer already applied.
      const ack = await new Promise<Ack<{ epoch: string; recovered: boolean; messages: Message[] }> | undefined>((resolve) => {
        socket.timeout(this.opts.ackTimeoutMs ?? 5000).emit('join', { room, ...since }, (err: Error | null, a: Ack<JoinOk>) => {
          if (err) return resolve(undefined);
          if (a.ok) view.resumed(a.epoch, a.recovered, a.messages, since.since === undefined ? 'join' : 'resume');
          resolve(a);
        });
      });
      if (ack === undefined) {
        if (!socket.connected) return; // dropped: the next connection joins again
        continue;
      }
      if (ack.ok) return;
      this.joinRefusals.push(ack.error.code);
      if (!socket.connected) return;
      await sleep(ack.error.retryAfterMs ?? 250);
    }
  }

  /** Reconnects with backoff until it works (or the peer is closed). */
  private async comeBack(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
      if (this.closed) return;
      try {
        // A browser sends its old cookie and takes the one HAProxy answers with: a live node.
        this.cookie = await cookieFrom(this.opts.base, this.cookie).catch(() => this.cookie);
        await this.connect();
        return;
      } catch {
        // refused or timed out: try again
      }
    }
  }

  async send(room: string, text: string, clientId: string, deadline = Date.now() + 60_000): Promise<SendRecord> {
    const rec: SendRecord = { room, clientId, answers: [] };
    return sendWithRetry(async () => {
      // While reconnecting, wait (bounded) for the next connection, as an outbox does.
      await Promise.race([this.ready, sleep(3000)]);
      const socket = this.socket;
      if (!socket?.connected) return { outcome: 'network' };
      try {
        const ack: Ack<SendOk> = await socket.timeout(this.opts.ackTimeoutMs ?? 5000).emitWithAck('send', { room, text, clientId });
        if (ack.ok) return { outcome: ack.duplicate ? 'duplicate' : 'ok', seq: ack.seq };
        return { outcome: ack.error.code, ...(ack.error.retryAfterMs !== undefined ? { retryAfterMs: ack.error.retryAfterMs } : {}) };
      } catch {
        return { outcome: 'timeout' };
      }
    }, rec, deadline);
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.closed = true;
    this.socket?.disconnect();
  }
}

export interface AjaxPeerOptions {
  name: string;
  /** Each request goes to the next of these in turn (HAProxy without a cookie round-robins by itself). */
  bases: readonly string[];
  session: SessionOk;
  rooms: readonly string[];
  /** Pause between polls of a room (default 250 ms). */
  intervalMs?: number;
}

/**
 * An Ajax client: REST only, no stickiness. It polls each room with
 * `?after=&epoch=` and sends with POST, each request to the next base in
 * turn, so consecutive requests land on different nodes.
 */
export class AjaxPeer implements Sender {
  readonly views = new Map<string, RoomView>();
  /** Polls answered, and polls that failed (status or network), by what happened. */
  polls = 0;
  readonly pollFailures: string[] = [];
  private next = 0;
  private closed = false;
  private loops: Array<Promise<void>> = [];

  constructor(readonly opts: AjaxPeerOptions) {
    for (const room of opts.rooms) this.views.set(room, new RoomView(room, opts.name));
  }

  get name(): string {
    return this.opts.name;
  }

  private base(): string {
    const b = this.opts.bases[this.next++ % this.opts.bases.length];
    if (b === undefined) throw new Error('no base');
    return b;
  }

  private headers(json = false): Record<string, string> {
    return { authorization: `Bearer ${this.opts.session.token}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  /** One poll of a room: what follows its last seq (or the latest page, the first time). */
  async poll(room: string): Promise<{ status: number; body?: PageOk }> {
    const view = this.views.get(room) as RoomView;
    const q = view.epoch === undefined ? '?limit=200' : `?after=${view.last}&epoch=${encodeURIComponent(view.epoch)}&limit=200`;
    let res: Response;
    try {
      res = await fetch(`${this.base()}/api/rooms/${room}/messages${q}`, { headers: this.headers() });
    } catch (err) {
      this.pollFailures.push(`network ${(err as Error).message}`);
      return { status: 0 };
    }
    if (!res.ok) {
      this.pollFailures.push(`status ${res.status}`);
      await res.arrayBuffer();
      return { status: res.status };
    }
    const body = (await res.json()) as PageOk;
    this.polls++;
    if (view.epoch === undefined) {
      // The first poll is the latest page: where this reader starts.
      view.epoch = body.epoch;
      view.last = body.messages.length > 0 ? (body.messages[0] as Message).seq - 1 : body.lastSeq;
      view.take(body.messages, 'first poll');
    } else {
      view.resumed(body.epoch, body.recovered ?? true, body.messages, 'poll');
    }
    return { status: 200, body };
  }

  /** Polls every room until `close()`; a room's poll goes on at once while it returns a full page. */
  start(): void {
    for (const room of this.opts.rooms) {
      this.loops.push(
        (async () => {
          while (!this.closed) {
            const r = await this.poll(room);
            const full = r.body !== undefined && r.body.messages.length === 200;
            if (!full) await sleep(this.opts.intervalMs ?? 250);
          }
        })(),
      );
    }
  }

  /** Polls each room until it reached `lastSeq` (or the time is up). */
  async catchUp(lastSeq: Record<string, number>, timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const [room, last] of Object.entries(lastSeq)) {
      while ((this.views.get(room)?.last ?? 0) < last && Date.now() < until) await sleep(50);
    }
  }

  async send(room: string, text: string, clientId: string, deadline = Date.now() + 60_000): Promise<SendRecord> {
    const rec: SendRecord = { room, clientId, answers: [] };
    return sendWithRetry(async () => {
      let res: Response;
      try {
        res = await fetch(`${this.base()}/api/rooms/${room}/messages`, {
          method: 'POST',
          headers: this.headers(true),
          body: JSON.stringify({ text, clientId }),
        });
      } catch (err) {
        // A node that died mid-request, or a connection closed under the request.
        const cause = (err as { cause?: { code?: string; message?: string; socket?: { bytesWritten?: number; bytesRead?: number } } }).cause;
        // undici's socket errors say how far the connection got: nothing read on a connection that wrote
        // more than this request is a reused keep-alive connection closed under it.
        const io = cause?.socket ? ` (connection wrote ${cause.socket.bytesWritten} B, read ${cause.socket.bytesRead} B)` : '';
        return { outcome: 'network', detail: `fetch: ${cause?.code ?? cause?.message ?? (err as Error).message}${io}` };
      }
      const raw = await res.text().catch((err: unknown) => `(body unreadable: ${(err as Error).message})`);
      let body: SendOk | { error: { code: ErrorCode; retryAfterMs?: number } };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        // Not the server's answer: HAProxy's own page (no server available, a backend that closed on it).
        return { outcome: 'network', detail: `HTTP ${res.status}: ${raw.slice(0, 80)}` };
      }
      if ('error' in body) {
        return { outcome: body.error.code, ...(body.error.retryAfterMs !== undefined ? { retryAfterMs: body.error.retryAfterMs } : {}) };
      }
      return { outcome: body.duplicate ? 'duplicate' : 'ok', seq: body.seq };
    }, rec, deadline);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.loops);
  }
}

/**
 * Sends `count` messages spread over `rooms` from `senders`, each sender
 * keeping at most `window` in flight and taking the next message as soon as
 * one is acked (so faster transports send more), each retried until acked.
 * Texts and clientIds are unique per call (`tag`). Resolves with every record.
 */
export async function burst(
  senders: readonly Sender[],
  rooms: readonly string[],
  count: number,
  opts: {
    tag: string;
    window?: number | ((s: Sender) => number);
    onSent?: (n: number) => void;
    deadlineMs?: number;
    /** Checked before each new send: true ends the burst early (what was sent is finished). */
    stop?: () => boolean;
  },
): Promise<SendRecord[]> {
  const records: SendRecord[] = [];
  let issued = 0;
  let done = 0;
  const deadline = Date.now() + (opts.deadlineMs ?? 120_000);
  await Promise.all(
    senders.map(async (s) => {
      const w = typeof opts.window === 'function' ? opts.window(s) : (opts.window ?? 16);
      const lane = async () => {
        while (issued < count && !opts.stop?.()) {
          const n = issued++;
          const room = rooms[n % rooms.length] as string;
          const clientId = `${opts.tag}-${n.toString(36)}-${s.name}`.slice(0, 64).padEnd(8, '0');
          const rec = await s.send(room, `${opts.tag} ${n} from ${s.name}`, clientId, deadline);
          records.push(rec);
          opts.onSent?.(++done);
        }
      };
      await Promise.all(Array.from({ length: w }, lane));
    }),
  );
  return records;
}
