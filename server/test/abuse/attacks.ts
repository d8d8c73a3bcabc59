/**
 * The attacks of the threat model, each a function of the server it targets
 * and of a size: `full` (the threat table's figures), `quick` (a few seconds
 * each, `npm run abuse`) or `ci` (the vitest suite). Every attack is bounded
 * in time and count, targets loopback only, and closes what it opened. Each
 * comes from its own loopback address, so per-address budgets see it as one
 * client and the victim as another.
 *
 * They speak only the parts of the protocol every version since 1.4 has
 * (session, join, send, history, REST reads), so the same attacks measure
 * the server before and after a change; (h) needs uploads (2.6).
 */
import { Agent } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Ack, SendOk } from '../../../shared/protocol.ts';
import type { ChatSocket } from '../harness.ts';
import { metric, roomRows, sleep } from './measure.ts';
import { ask, httpRequest, multipartLength, rawUpload, RawEngine, sessionFrom, socketFrom, type HandshakeOutcome, type UploadAnswer } from './net.ts';

export type Size = 'full' | 'quick' | 'ci';

/** One loopback address per role, so each is its own client to the server. */
export const ADDRESSES = {
  victim: '127.0.0.200',
  newcomers: ['127.0.0.201', '127.0.0.202', '127.0.0.203'],
  seeders: ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'],
  slowReader: '127.0.0.2',
  prober: '127.0.0.3',
  hydra: '127.0.0.4',
  tcp: '127.0.0.5',
  crowd: '127.0.0.6',
  reader: '127.0.0.7',
  /** One address guessing passwords of many names. */
  scanner: '127.0.0.8',
  /** Many addresses guessing one account's password (a botnet, scaled down). */
  guessers: Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`),
  /** Many addresses signing in with the right password, 50 a second together. */
  signers: Array.from({ length: 100 }, (_, i) => `127.0.2.${i + 1}`),
  /** Uploads that trickle (a slowloris on the upload route). */
  trickler: '127.0.0.9',
  /** Oversized uploads, declared and undeclared. */
  bulk: '127.0.0.15',
  /** Someone uploading an ordinary file during the attack. */
  calmUploader: '127.0.0.204',
} as const;

/** A running server to attack. */
export interface Target {
  url: string;
  pid: number;
  /** Its SQLite file, read (never written) to count rows. */
  dbFile: string;
}

export interface AttackContext {
  /** Aborted when the run must stop early (the server's memory passed the safety limit). */
  signal: AbortSignal;
  /**
   * A newcomer (a fresh identity from `address`, outside the attacker's
   * process) connects and opens `room`: how it went and how long it took.
   */
  newcomer(address: string, room: string): Promise<string>;
}

/** What the attacker saw, by name. */
export type Figures = Record<string, string | number | boolean>;

export interface Attack {
  id: 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h';
  title: string;
  /** Runs before the victim starts and memory is measured (seeding). */
  prepare?(t: Target): Promise<void>;
  run(t: Target, size: Size, ctx: AttackContext): Promise<Figures>;
}

/** The room the reading attacks aim at: 200 messages of 4,000 emoji each (16 KB of UTF-8 apiece). */
export const BIG_ROOM = 'big';
const BIG_TEXT = '😀'.repeat(4000);
const BIG_MESSAGES = 200;

/**
 * Fills BIG_ROOM through the front door, from several addresses and
 * identities so that default send budgets allow it in about a second.
 */
export async function seedBigRoom(url: string): Promise<void> {
  const per = Math.ceil(BIG_MESSAGES / ADDRESSES.seeders.length);
  // Seeded already (one server for several attacks)?
  const probe = await sessionFrom(url, 'probe', ADDRESSES.seeders[0]);
  const latest = await httpRequest(url, { path: `/api/rooms/${BIG_ROOM}/messages?before=1000000000&limit=1`, headers: { authorization: `Bearer ${probe.token}` }, localAddress: ADDRESSES.seeders[0] });
  if (latest.status === 200 && (JSON.parse(latest.body) as { lastSeq: number }).lastSeq >= BIG_MESSAGES) return;
  await Promise.all(
    ADDRESSES.seeders.map(async (address, i) => {
      const s = await sessionFrom(url, `seeder${i}`, address);
      const socket = await socketFrom(url, s.token, address);
      try {
        for (let k = 0; k < per; ) {
          const a = await ask<SendOk>(socket, 'send', { room: BIG_ROOM, text: BIG_TEXT, clientId: `seed-${i}-${k}-${Date.now()}` });
          if (a.ok) k++;
          else if (a.error.code === 'rate_limited') await sleep(a.error.retryAfterMs ?? 100);
          else throw new Error(`seeding: ${a.error.code} ${a.error.message}`);
        }
      } finally {
        socket.disconnect();
      }
    }),
  );
}

/**
 * Calls `fn(k)` `perSecond` times a second, catching up after a slow tick,
 * until `total` calls were made or `maxSeconds` passed or `stop()` says so.
 * Returns the number of calls.
 */
async function paced(perSecond: number, total: number, maxSeconds: number, stop: () => boolean, fn: (k: number) => void): Promise<number> {
  const start = performance.now();
  let k = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (k >= total || elapsed >= maxSeconds * 1000 || stop()) return k;
    const due = Math.min(Math.floor((elapsed * perSecond) / 1000) + 1, total);
    while (k < due) fn(k++);
    await sleep(5);
  }
}

function tally(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

function describeCounts(c: Record<string, number>): string {
  const parts = Object.entries(c).sort((x, y) => y[1] - x[1]);
  return parts.length === 0 ? '–' : parts.map(([k, n]) => `${n} ${k}`).join(', ');
}

// ---------------------------------------------------------------------------

/**
 * (a) A raw WebSocket that stops reading yet keeps its connection alive with
 * blind pongs, asking for the biggest history page there is 50 times a
 * second: without a bound, every answer waits in the server's memory. It
 * reconnects whenever it is cut, for as long as the attack lasts.
 */
export const slowReader: Attack = {
  id: 'a',
  title: 'non-reading socket asks history 50/s',
  prepare: (t) => seedBigRoom(t.url),
  async run(t, size, ctx) {
    const seconds = { full: 20, quick: 4, ci: 2 }[size];
    const s = await sessionFrom(t.url, 'slowreader', ADDRESSES.slowReader);
    const deadline = performance.now() + seconds * 1000;
    let asked = 0;
    let connections = 0;
    let cut = 0;
    const refused: Record<string, number> = {};
    while (performance.now() < deadline && !ctx.signal.aborted) {
      const raw = new RawEngine(t.url, ADDRESSES.slowReader);
      connections++;
      const h = await raw.handshake(s.token, 5_000);
      if (h !== 'connected') {
        tally(refused, h);
        raw.destroy();
        await sleep(200);
        continue;
      }
      raw.stopReading();
      let gone = false;
      void raw.closed.then(() => (gone = true));
      const left = (deadline - performance.now()) / 1000;
      asked += await paced(50, Infinity, left, () => gone || ctx.signal.aborted, () =>
        raw.emit('history', { room: BIG_ROOM, before: 1e9, limit: 200 }),
      );
      if (gone) cut++;
      raw.destroy();
    }
    return { 'history asked': asked, connections, 'cut by the server': cut, 'handshakes refused': describeCounts(refused) };
  },
};

/**
 * (b) One identity asks for scrollback and the latest page of 10,100
 * made-up rooms in three seconds, over sockets and REST: without a bound
 * each would start a room fiber (and, before rooms were written with their
 * first message, a row), filling the room table (MAX_ROOMS 10,000) so that
 * nobody else could open a room.
 */
export const roomProbe: Attack = {
  id: 'b',
  title: 'reads of made-up rooms (10,100 in 3 s)',
  async run(t, size, ctx) {
    // In CI, fewer requests over the same rooms logic: the server shares two cores with the attacker and other suites.
    const { socketShare, restShare } = size === 'ci' ? { socketShare: 1_500, restShare: 600 } : { socketShare: 8_100, restShare: 2_000 };
    const seconds = 3;
    const rowsBefore = roomRows(t.dbFile);
    const liveBefore = await metric(t.url, 'fiberchat_rooms_active');
    const s = await sessionFrom(t.url, 'prober', ADDRESSES.prober);
    const sockets = await Promise.all(Array.from({ length: 16 }, () => socketFrom(t.url, s.token, ADDRESSES.prober)));
    const history: Record<string, number> = {};
    const rest: Record<string, number> = {};
    const answered: Array<Promise<void>> = [];
    const historyDone = paced(socketShare / seconds, socketShare, 3 * seconds, () => ctx.signal.aborted, (k) => {
      answered.push(
        ask(sockets[k % sockets.length] as ChatSocket, 'history', { room: `ghost-${k}`, before: 1000, limit: 50 }).then((a) =>
          tally(history, a.ok ? 'ok' : a.error.code),
        ),
      );
    });
    // REST: half scrollback (`?before=`), half the latest page (how an Ajax client opens a room).
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (let k = next++; k < restShare && !ctx.signal.aborted; k = next++) {
        const due = started + (k * seconds * 1000) / restShare;
        if (due > performance.now()) await sleep(due - performance.now());
        const path = k % 2 === 0 ? `/api/rooms/phantom-${k}/messages?before=1000` : `/api/rooms/phantom-${k}/messages`;
        try {
          const r = await httpRequest(t.url, { path, headers: { authorization: `Bearer ${s.token}` }, localAddress: ADDRESSES.prober, agent, timeoutMs: 10_000 });
          tally(rest, String(r.status));
        } catch {
          tally(rest, 'error');
        }
      }
    };
    await Promise.all([historyDone, ...Array.from({ length: 16 }, worker)]);
    await Promise.all(answered);
    agent.destroy();
    for (const socket of sockets) socket.disconnect();
    const rowsGained = roomRows(t.dbFile) - rowsBefore;
    const liveRooms = await metric(t.url, 'fiberchat_rooms_active');
    const joined = await ctx.newcomer(ADDRESSES.newcomers[0], 'brand-new-room');
    return {
      'socket history': describeCounts(history),
      'REST reads (status)': describeCounts(rest),
      'rooms rows gained': rowsGained,
      'room fibers started': liveRooms - liveBefore,
      'newcomer opens a room': joined,
    };
  },
};

/**
 * (c) One token opens thousands of authenticated sockets in three seconds,
 * holding every one it gets; then one address opens raw TCP connections that
 * never speak. Meanwhile newcomers from other addresses must still connect.
 */
export const connectionFlood: Attack = {
  id: 'c',
  title: 'connection flood: 5,000 sockets on one token, then raw TCP',
  async run(t, size, ctx) {
    // In CI just past the caps (32 sockets per identity, 512 TCP connections per address): enough to prove them, light on a shared machine.
    const { sockets: n, tcp } = { full: { sockets: 5000, tcp: 1200 }, quick: { sockets: 5000, tcp: 1200 }, ci: { sockets: 300, tcp: 560 } }[size];
    const seconds = 3;
    const s = await sessionFrom(t.url, 'hydra', ADDRESSES.hydra);
    const raws: RawEngine[] = [];
    const outcomes: Record<string, number> = {};
    const handshakes: Array<Promise<HandshakeOutcome>> = [];
    let during: Promise<string> = Promise.resolve('not tried (stopped early)');
    const launchedAt = performance.now();
    const launched = paced(n / seconds, n, 4 * seconds, () => ctx.signal.aborted, (k) => {
      const raw = new RawEngine(t.url, ADDRESSES.hydra);
      raws.push(raw);
      const h = raw.handshake(s.token, 10_000);
      handshakes.push(h);
      void h.then((o) => tally(outcomes, o));
      if (k === Math.floor(n / 2)) during = ctx.newcomer(ADDRESSES.newcomers[0], 'during-flood');
    });
    await launched;
    const launchSeconds = (performance.now() - launchedAt) / 1000;
    await Promise.all(handshakes);
    const held = raws.filter((r) => r.isOpen && r.frames.some((f) => f.startsWith('40'))).length;
    for (const r of raws) r.destroy();
    await sleep(500);

    // Raw TCP from one address, never a byte sent.
    const socks: Socket[] = [];
    let closedEarly = 0;
    await paced(tcp, tcp, 4, () => ctx.signal.aborted, () => {
      const sock = tcpConnect({ host: new URL(t.url).hostname, port: Number(new URL(t.url).port), localAddress: ADDRESSES.tcp });
      sock.on('error', () => {});
      sock.once('close', () => closedEarly++);
      socks.push(sock);
    });
    await sleep(1000);
    const tcpHeld = socks.filter((x) => !x.destroyed && x.readyState === 'open').length;
    const afterTcp = await ctx.newcomer(ADDRESSES.newcomers[1], 'after-tcp-flood');
    for (const x of socks) x.destroy();
    return {
      'sockets opened': `${raws.length} in ${launchSeconds.toFixed(1)} s`,
      'handshakes': describeCounts(outcomes),
      'sockets held': held,
      'newcomer during the flood': await during,
      'raw TCP opened': socks.length,
      'raw TCP held after 1 s': tcpHeld,
      'raw TCP closed by the server': closedEarly,
      'newcomer after the TCP flood': afterTcp,
    };
  },
};

/**
 * (d) Cheap identities from one address: as many sessions as the address is
 * given (about 30 a minute), each sending into one room at its own full
 * rate. What matters is how many sends per second that address gets through.
 */
export const identityCrowd: Attack = {
  id: 'd',
  title: 'many identities from one address send into one room',
  async run(t, size, ctx) {
    const seconds = { full: 60, quick: 6, ci: 4 }[size];
    const start = performance.now();
    const end = start + seconds * 1000;
    const sockets: ChatSocket[] = [];
    const senders: Array<Promise<void>> = [];
    const acceptedAt: number[] = [];
    const refused: Record<string, number> = {};
    let asked = 0;
    let sessionsRefused = 0;
    const send = async (socket: ChatSocket, i: number) => {
      let k = 0;
      await paced(20, Infinity, (end - performance.now()) / 1000, () => ctx.signal.aborted, () => {
        asked++;
        socket.emit('send', { room: 'crowd', text: `crowd ${i} ${k}`, clientId: `crowd-${i}-${k++}-${process.pid}` }, (a: Ack<SendOk>) => {
          if (a.ok) acceptedAt.push(performance.now() - start);
          else tally(refused, a.error.code);
        });
      });
    };
    for (let i = 0; performance.now() < end && !ctx.signal.aborted; i++) {
      const r = await httpRequest(t.url, { method: 'POST', path: '/api/session', body: JSON.stringify({ name: `crowd${i}` }), localAddress: ADDRESSES.crowd });
      if (r.status !== 200) {
        sessionsRefused++;
        await sleep(Math.min(2000, end - performance.now()));
        continue;
      }
      const socket = await socketFrom(t.url, (JSON.parse(r.body) as { token: string }).token, ADDRESSES.crowd);
      sockets.push(socket);
      senders.push(send(socket, i));
    }
    await Promise.all(senders);
    await sleep(500); // the last acks
    for (const socket of sockets) socket.disconnect();
    const elapsed = seconds;
    const perSecond = new Array<number>(Math.ceil(elapsed) + 1).fill(0);
    for (const ms of acceptedAt) perSecond[Math.min(perSecond.length - 1, Math.floor(ms / 1000))]! += 1;
    return {
      identities: sockets.length,
      'sessions refused': sessionsRefused,
      'sends asked': asked,
      'sends accepted': acceptedAt.length,
      'accepted per second': Math.round(acceptedAt.length / elapsed),
      'most accepted in one second': Math.max(...perSecond),
      'refused': describeCounts(refused),
      seconds: elapsed,
    };
  },
};

/**
 * (e) A client that reads its answers and asks for the biggest history
 * page 50 times a second: the server must not spend its time (or everyone's
 * latency) serializing megabytes for one client.
 */
export const historyFlood: Attack = {
  id: 'e',
  title: 'reading client asks history 50/s',
  prepare: (t) => seedBigRoom(t.url),
  async run(t, size, ctx) {
    const seconds = { full: 20, quick: 4, ci: 2 }[size];
    const s = await sessionFrom(t.url, 'reader', ADDRESSES.reader);
    const deadline = performance.now() + seconds * 1000;
    let asked = 0;
    let ok = 0;
    let cut = 0;
    let bytes = 0;
    const refused: Record<string, number> = {};
    // Like any determined client, it reconnects when it is cut (a reader that falls behind is a slow consumer too).
    while (performance.now() < deadline && !ctx.signal.aborted) {
      const raw = new RawEngine(t.url, ADDRESSES.reader);
      const h = await raw.handshake(s.token, 5_000);
      if (h !== 'connected') {
        tally(refused, h);
        raw.destroy();
        await sleep(200);
        continue;
      }
      const n = await paced(50, Infinity, (deadline - performance.now()) / 1000, () => ctx.signal.aborted || !raw.isOpen, () =>
        raw.emit('history', { room: BIG_ROOM, before: 1e9, limit: 200 }),
      );
      asked += n;
      // The answers still due, for up to 5 s.
      const answered = () => raw.answers.ok + Object.values(raw.answers.refused).reduce((a, b) => a + b, 0);
      for (let i = 0; i < 50 && raw.isOpen && answered() < n; i++) await sleep(100);
      if (!raw.isOpen) cut++;
      ok += raw.answers.ok;
      for (const [code, k] of Object.entries(raw.answers.refused)) tally(refused, code, k);
      bytes += raw.bytesRead;
      raw.destroy();
    }
    return {
      'history asked': asked,
      'answered ok': ok,
      refused: describeCounts(refused),
      'cut by the server': cut,
      'MB read': Math.round(bytes / 1e5) / 10,
    };
  },
};

/** The account every sign-in attack aims at, made by `prepare`. */
export const TARGET_ACCOUNT = { name: 'target-account', password: 'the right passphrase for it' };

async function ensureTargetAccount(url: string): Promise<void> {
  const r = await httpRequest(url, { method: 'POST', path: '/api/accounts', body: JSON.stringify(TARGET_ACCOUNT), localAddress: ADDRESSES.seeders[0] });
  // 409: made by an earlier attack on the same server.
  if (r.status !== 201 && r.status !== 409) throw new Error(`making the target account: ${r.status} ${r.body.slice(0, 200)}`);
}

function signIn(url: string, name: string, password: string, localAddress: string) {
  return httpRequest(url, { method: 'POST', path: '/api/login', body: JSON.stringify({ name, password }), localAddress, timeoutMs: 15_000 });
}

/**
 * (f) Password guessing, both ways at once for `seconds`: twenty addresses
 * guess one account's password (40 guesses a second together), and one
 * address guesses the passwords of ever new names (20 a second). What
 * matters is how many guesses were actually checked: `401`s, against the
 * per-account and per-address budgets of failures.
 */
export const passwordGuessing: Attack = {
  id: 'f',
  title: 'password guessing: 20 addresses on one account, one address on many names',
  prepare: (t) => ensureTargetAccount(t.url),
  async run(t, size, ctx) {
    const seconds = { full: 60, quick: 6, ci: 4 }[size];
    const onAccount: Record<string, number> = {};
    const byScanner: Record<string, number> = {};
    const pending: Array<Promise<void>> = [];
    const guess = (into: Record<string, number>, name: string, address: string, k: number) => {
      pending.push(
        signIn(t.url, name, `guess ${k} ${process.pid}`, address).then(
          (r) => tally(into, String(r.status)),
          () => tally(into, 'network'),
        ),
      );
    };
    const stop = () => ctx.signal.aborted;
    await Promise.all([
      paced(40, Infinity, seconds, stop, (k) => guess(onAccount, TARGET_ACCOUNT.name, ADDRESSES.guessers[k % ADDRESSES.guessers.length] as string, k)),
      paced(20, Infinity, seconds, stop, (k) => guess(byScanner, `scanned-name-${k}`, ADDRESSES.scanner, k)),
    ]);
    await Promise.all(pending);
    // The owner, from an address of their own, after the attack: limited too (see SECURITY.md, "locking someone out").
    const owner = await signIn(t.url, TARGET_ACCOUNT.name, TARGET_ACCOUNT.password, ADDRESSES.newcomers[0]);
    return {
      seconds,
      'guesses on the account': Object.values(onAccount).reduce((a, b) => a + b, 0),
      'guesses on the account checked (401)': onAccount['401'] ?? 0,
      'guesses on the account refused (429)': onAccount['429'] ?? 0,
      'guesses by the scanner': Object.values(byScanner).reduce((a, b) => a + b, 0),
      'scanner guesses checked (401)': byScanner['401'] ?? 0,
      'other answers': describeCounts(Object.fromEntries([...Object.entries(onAccount), ...Object.entries(byScanner)].filter(([k]) => k !== '401' && k !== '429'))),
      "owner's sign-in after": owner.status,
    };
  },
};

/**
 * (g) 50 sign-ins a second with the right password, from a hundred
 * addresses: each is a 32 MiB scrypt hash of about 0.15 s, more than two
 * cores can do. The hashes run on the thread pool, at most two at once; the
 * event loop (every room fiber) must not stall while they do, and what the
 * pool cannot take is answered `503` at once rather than queued without end.
 */
export const signInFlood: Attack = {
  id: 'g',
  title: '50 sign-ins a second with the right password',
  prepare: (t) => ensureTargetAccount(t.url),
  async run(t, size, ctx) {
    const seconds = { full: 30, quick: 6, ci: 4 }[size];
    const answers: Record<string, number> = {};
    const okMs: number[] = [];
    const pending: Array<Promise<void>> = [];
    const asked = await paced(50, Infinity, seconds, () => ctx.signal.aborted, (k) => {
      const t0 = performance.now();
      pending.push(
        signIn(t.url, TARGET_ACCOUNT.name, TARGET_ACCOUNT.password, ADDRESSES.signers[k % ADDRESSES.signers.length] as string).then(
          (r) => {
            tally(answers, String(r.status));
            if (r.status === 200) okMs.push(performance.now() - t0);
          },
          () => tally(answers, 'network'),
        ),
      );
    });
    await Promise.all(pending);
    okMs.sort((a, b) => a - b);
    const at = (q: number) => (okMs.length === 0 ? NaN : Math.round(okMs[Math.min(okMs.length - 1, Math.floor(q * okMs.length))] as number));
    return {
      seconds,
      'sign-ins asked': asked,
      'signed in (200)': answers['200'] ?? 0,
      'busy (503)': answers['503'] ?? 0,
      'other answers': describeCounts(Object.fromEntries(Object.entries(answers).filter(([k]) => k !== '200' && k !== '503'))),
      'sign-in p50 (ms)': at(0.5),
      'sign-in p99 (ms)': at(0.99),
    };
  },
};

const MIB = 2 ** 20;

/** `count` chunks of `bytes` each, one every `everyMs` (never faster), stopping early once `stop()` says so. */
async function* trickle(bytes: number, everyMs: number, count: number, stop: () => boolean): AsyncGenerator<Buffer> {
  for (let i = 0; i < count && !stop(); i++) {
    yield Buffer.alloc(bytes, 0x61);
    await sleep(everyMs);
  }
}

/** `total` bytes in chunks of 256 KiB, as fast as the socket takes them. */
function* bulk(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
}

/**
 * (h) Uploads as a weapon: from one address, five identities start four
 * uploads each that trickle 64 bytes a second (a slowloris on the upload
 * route, which the 15 s request timeout no longer bounds: uploads keep a
 * budget of their own), and another address sends a file declared 1 GiB
 * and 100 MiB without a length. The caps hold the trickles to 16 places, the
 * rate cuts them (408) once their grace and window pass, the oversized ones
 * are refused without being stored or held in memory, and someone else's
 * ordinary 1 MiB upload is stored at once meanwhile.
 */
export const uploadFlood: Attack = {
  id: 'h',
  title: 'trickling and oversized uploads',
  async run(t, _size, ctx) {
    const room = 'uploads';
    const trickling = await Promise.all(Array.from({ length: 5 }, (_, i) => sessionFrom(t.url, `trickler${i}`, ADDRESSES.trickler)));
    const stop = () => ctx.signal.aborted;
    const t0 = performance.now();
    // 64 B/s for at most 60 s: far below any budget, and the whole attack ends by itself even if nothing cuts it.
    const trickles = trickling.flatMap((s) =>
      Array.from({ length: 4 }, () => rawUpload(t.url, { token: s.token, room, localAddress: ADDRESSES.trickler, declared: multipartLength(3840), chunks: trickle(64, 1000, 60, stop) })),
    );
    await sleep(2000);
    const big = await sessionFrom(t.url, 'bulk', ADDRESSES.bulk);
    const declared = await rawUpload(t.url, { token: big.token, room, localAddress: ADDRESSES.bulk, declared: 2 ** 30, chunks: bulk(2 ** 30) });
    const undeclared = await rawUpload(t.url, { token: big.token, room, localAddress: ADDRESSES.bulk, declared: 'chunked', chunks: bulk(100 * MIB) });
    const calm = await sessionFrom(t.url, 'calm-uploader', ADDRESSES.calmUploader);
    const ordinary = await rawUpload(t.url, { token: calm.token, room, localAddress: ADDRESSES.calmUploader, declared: multipartLength(MIB), chunks: bulk(MIB) });
    const ends: UploadAnswer[] = await Promise.all(trickles);
    const by: Record<string, number> = {};
    for (const e of ends) tally(by, String(e.status));
    const cut = ends.filter((e) => e.status === 408);
    const longest = Math.max(...ends.map((e) => e.ms));
    return {
      'trickles started': ends.length,
      'trickles refused at once (429)': ends.filter((e) => e.status === 429 && e.ms < 1500).length,
      'trickles cut (408)': cut.length,
      'trickle answers': describeCounts(by),
      'longest trickle held (s)': Math.round(longest / 100) / 10,
      'declared 1 GiB: status': declared.status,
      'declared 1 GiB: MiB sent before the answer': Math.round(declared.sent / MIB),
      'undeclared 100 MiB: status': undeclared.status,
      'undeclared 100 MiB: MiB sent before the answer': Math.round(undeclared.sent / MIB),
      'ordinary 1 MiB upload: status': ordinary.status,
      'ordinary 1 MiB upload (ms)': Math.round(ordinary.ms),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
  },
};

export const ATTACKS: readonly Attack[] = [slowReader, roomProbe, connectionFlood, identityCrowd, historyFlood, passwordGuessing, signInFlood, uploadFlood];
