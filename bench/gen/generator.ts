/**
 * The load generator: a separate process (pinned to its own core by the
 * orchestrator) that opens many lean socket.io / REST clients on loopback,
 * runs one scenario, and answers with its figures and its own CPU use, so a
 * figure bounded by the generator shows as such. Reads its spec from
 * BENCH_SPEC; talks to the orchestrator over IPC; exits by itself.
 */
import { performance } from 'node:perf_hooks';
import { Reservoir, sleep, summarize } from '../lib/stats.ts';
import type { GenMessage, MarkReply, Spec, Transport } from './spec.ts';
import {
  SioPolling,
  SioWs,
  clientId,
  countMessages,
  destroyAgents,
  request,
  sentTimes,
  seqsOf,
  SseSubscriber,
  sourceAddress,
  stampedText,
  type Ack,
  type Sink,
} from './wire.ts';
import type { JoinOk, PageOk } from '../../shared/protocol.ts';

type Client = SioWs | SioPolling | SseSubscriber;
/** How a subscriber connects: socket.io's two transports, or a Server-Sent Events stream (which joins its rooms as it opens). */
type SubTransport = 'websocket' | 'polling' | 'sse';

const spec = JSON.parse(process.env.BENCH_SPEC ?? '{}') as Spec;
const send = (m: GenMessage) => process.send?.(m);
const log = (text: string) => send({ type: 'log', text });

// Bounded in time whatever happens.
setTimeout(() => {
  log(`deadline of ${spec.deadlineMs} ms passed; exiting`);
  process.exit(3);
}, spec.deadlineMs).unref();
process.on('disconnect', () => process.exit(0)); // the orchestrator went away

let markId = 0;
const markWaiters = new Map<number, (d: Record<string, unknown>) => void>();
process.on('message', (m: MarkReply) => {
  if (m.type === 'marked') markWaiters.get(m.id)?.(m.data);
});
/** Lets the orchestrator sample the server (CPU, memory, event-loop delay) at this point. */
function mark(name: string, target?: string): Promise<Record<string, unknown>> {
  const id = markId++;
  return new Promise((resolve) => {
    markWaiters.set(id, resolve);
    send({ type: 'mark', id, name, ...(target ? { target } : {}) });
  });
}

/** Generator CPU over a window, as a fraction of one core. */
function cpuMeter() {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / (performance.now() - t0);
  };
}

const now = () => performance.now();

async function connect(transport: SubTransport, i: number, token: string, port = spec.port, rooms: string[] = []): Promise<Client> {
  const opts = { port, token, localAddress: sourceAddress(i) };
  if (transport === 'sse') return SseSubscriber.open({ ...opts, rooms });
  return transport === 'websocket' ? SioWs.connect(opts) : SioPolling.connect(opts);
}

/** Joins `room`, unless the client is a stream, which joined its rooms as it opened. */
async function subscribe(c: Client, room: string): Promise<void> {
  if (!(c instanceof SseSubscriber)) await joinOk(c, { room });
}

/** Opens `n` clients with bounded concurrency; each runs `setup` once connected. */
async function openMany(
  n: number,
  transport: SubTransport,
  setup: (c: Client, i: number) => Promise<void>,
  opts: { concurrency?: number; stopAfterFailures?: number; offset?: number; port?: number; tokens?: string[]; rooms?: (i: number) => string[] } = {},
): Promise<{ clients: Client[]; failures: number; firstError?: string; ms: number }> {
  const clients: Client[] = [];
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const t0 = now();
  const stopAfter = opts.stopAfterFailures ?? 0;
  const worker = async () => {
    while (next < n && (stopAfter === 0 || failures < stopAfter)) {
      const i = next++;
      try {
        const tokens = opts.tokens ?? spec.tokens;
        const c = await connect(transport, i + (opts.offset ?? 0), tokens[i % tokens.length] as string, opts.port ?? spec.port, opts.rooms?.(i));
        await setup(c, i);
        clients.push(c);
      } catch (e) {
        failures++;
        firstError ??= (e as Error).message;
        if (stopAfter === 0) throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 64 }, worker));
  return { clients, failures, ...(firstError ? { firstError } : {}), ms: now() - t0 };
}

async function joinOk(c: Client, payload: Record<string, unknown>): Promise<Ack> {
  const a = await c.emit('join', payload);
  if (!a.ok) throw new Error(`join refused: ${JSON.stringify(a)}`);
  return a;
}

function closeAll(clients: Client[]): void {
  for (const c of clients) c.close();
}

// ---------------------------------------------------------------------------

async function fanout(s: Extract<Spec, { kind: 'fanout' }>) {
  const room = 'fanout';
  interface Rig {
    name: string;
    subs: Client[];
    pubs: Client[];
    connectMs: number;
    /** Sends acked ok over the whole run, warm-ups included (checked against what the server committed). */
    acked: number;
    delivered: number;
    frames: number;
    lat: Reservoir;
  }
  const probes = Math.min(20, s.subscribers);
  const times: number[] = [];
  const rigs: Rig[] = [];
  for (const [k, t] of s.targets.entries()) {
    const rig: Rig = { name: t.name, subs: [], pubs: [], connectMs: 0, acked: 0, delivered: 0, frames: 0, lat: new Reservoir() };
    const counter: Sink = {
      messages: (_f, n) => {
        rig.delivered += n;
        rig.frames++;
      },
    };
    const probe: Sink = {
      messages: (f, n) => {
        rig.delivered += n;
        rig.frames++;
        times.length = 0;
        sentTimes(f, times);
        const now_ = now();
        for (const x of times) rig.lat.add(now_ - x);
      },
    };
    const opened = await openMany(
      s.subscribers,
      t.transport ?? 'websocket',
      async (c, i) => {
        c.sink = i < probes ? probe : counter;
        await subscribe(c, room);
      },
      { port: t.port, tokens: t.tokens, offset: k * s.subscribers, rooms: () => [room] },
    );
    rig.subs = opened.clients;
    rig.connectMs = opened.ms;
    for (let i = 0; i < s.publishers; i++) {
      rig.pubs.push(
        await SioWs.connect({ port: t.port, token: t.publisherTokens[i % t.publisherTokens.length] as string, localAddress: sourceAddress(200 + i) }),
      );
    }
    rigs.push(rig);
  }
  const windows: Array<Record<string, unknown>> = [];
  for (let round = 0; round < s.rounds; round++) {
    for (let j = 0; j < rigs.length; j++) {
      const rig = rigs[(j + round) % rigs.length] as Rig; // rotate the order each round
      let running = true;
      let acked = 0;
      let refused = 0;
      const loops = rig.pubs.flatMap((p) =>
        Array.from({ length: s.inFlight }, async () => {
          while (running) {
            try {
              const a = await p.emit('send', { room, text: stampedText(now(), s.textBytes), clientId: clientId() });
              if (a.ok) {
                acked++;
                rig.acked++;
              } else {
                refused++;
                await sleep(5);
              }
            } catch {
              return;
            }
          }
        }),
      );
      await sleep(s.warmupMs);
      const start = await mark('measure-start', rig.name);
      const d0 = rig.delivered;
      const f0 = rig.frames;
      const a0 = acked;
      const r0 = refused;
      const cpu = cpuMeter();
      rig.lat.values.length = 0;
      rig.lat.seen = 0;
      const t0 = now();
      await sleep(s.measureMs);
      const secs = (now() - t0) / 1000;
      const genCpu = cpu();
      const d = rig.delivered - d0;
      const a = acked - a0;
      const frames = rig.frames - f0;
      const end = await mark('measure-end', rig.name);
      running = false;
      await Promise.race([Promise.all(loops), sleep(5000)]);
      windows.push({
        target: rig.name,
        round,
        deliveriesPerSec: d / secs,
        framesPerSec: frames / secs,
        sendsPerSec: a / secs,
        refusedPerSec: (refused - r0) / secs,
        /** Deliveries seen per ack in the window (≈ subscribers when nothing lags or is lost). */
        fanoutRatio: a > 0 ? d / a : 0,
        latencyMs: summarize(rig.lat.values),
        generatorCpu: genCpu,
        server: { start, end },
      });
      await sleep(500); // let the server drain before the next target's window
    }
  }
  for (const rig of rigs) closeAll([...rig.subs, ...rig.pubs]);
  return {
    subscribers: s.subscribers,
    connectMs: Object.fromEntries(rigs.map((r) => [r.name, Math.round(r.connectMs)])),
    acked: Object.fromEntries(rigs.map((r) => [r.name, r.acked])),
    windows,
  };
}

// ---------------------------------------------------------------------------

async function latency(s: Extract<Spec, { kind: 'latency' }>) {
  const room = s.room ?? 'latency';
  const pubPort = s.publisherPort ?? spec.port;
  const lat = new Reservoir();
  let measuring = false;
  let delivered = 0;
  const times: number[] = [];
  const sink: Sink = {
    messages: (f, n) => {
      delivered += n;
      if (!measuring) return;
      times.length = 0;
      sentTimes(f, times);
      const t = now();
      for (const x of times) lat.add(t - x);
    },
  };
  const stoppers: Array<() => void> = [];
  const pollMs = new Reservoir();
  const pollStatus: Record<number, number> = {};
  const postMs = new Reservoir();
  const closers: Array<() => void> = [];
  let sendOne: (i: number, text: string) => Promise<boolean>;

  if (s.transport === 'ajax') {
    const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
    // Each Ajax subscriber polls ?after=<lastSeq>; a full page is followed by
    // an immediate poll, otherwise it waits the client's active interval.
    const first = await request(spec.port, 'GET', `/api/rooms/${room}/messages?limit=1`, { headers: auth(spec.tokens[0] as string) });
    const startSeq = (JSON.parse(first.body) as PageOk).lastSeq;
    let polling = true;
    for (let i = 0; i < s.subscribers; i++) {
      const token = spec.tokens[i % spec.tokens.length] as string;
      const local = sourceAddress(i);
      let after = startSeq;
      const loop = async () => {
        await sleep(Math.random() * s.ajaxIntervalMs); // polls spread over the interval, as independent browsers would
        while (polling) {
          let full = false;
          const p0 = now();
          try {
            const r = await request(spec.port, 'GET', `/api/rooms/${room}/messages?after=${after}&limit=200`, {
              headers: auth(token),
              localAddress: local,
            });
            if (measuring) pollMs.add(now() - p0);
            pollStatus[r.status] = (pollStatus[r.status] ?? 0) + 1;
            if (r.status === 200) {
              const buf = Buffer.from(r.body);
              const n = countMessages(buf);
              if (n > 0) {
                sink.messages(buf, n);
                after = (JSON.parse(r.body) as PageOk).messages.at(-1)?.seq ?? after;
              }
              full = n >= 200;
            }
          } catch {
            // a refused poll just waits for the next one
          }
          // Like the browser client: polls start one interval apart.
          if (!full) await sleep(Math.max(0, s.ajaxIntervalMs - (now() - p0)));
        }
      };
      void loop();
    }
    stoppers.push(() => (polling = false));
    sendOne = async (i, text) => {
      const p0 = now();
      const r = await request(pubPort, 'POST', `/api/rooms/${room}/messages`, {
        body: JSON.stringify({ text, clientId: clientId() }),
        headers: auth(spec.publisherTokens[i % spec.publisherTokens.length] as string),
        localAddress: sourceAddress(200 + i),
      });
      if (measuring) postMs.add(now() - p0);
      return r.status === 200;
    };
  } else {
    const t = s.transport as Exclude<Transport, 'ajax'>;
    const subs = await openMany(s.subscribers, t, async (c) => {
      c.sink = sink;
      await joinOk(c, { room });
    });
    const pubs: Client[] = [];
    for (let i = 0; i < s.publishers; i++) pubs.push(await connect(t, 200 + i, spec.publisherTokens[i % spec.publisherTokens.length] as string, pubPort));
    closers.push(() => closeAll([...subs.clients, ...pubs]));
    sendOne = async (i, text) => (await (pubs[i] as Client).emit('send', { room, text, clientId: clientId() })).ok;
  }

  // Open loop at a fixed rate, paced every 2 ms: sends never wait for acks,
  // so a slow server cannot lower the offered rate (no coordinated omission);
  // each message is stamped when it is written.
  let running = true;
  let inFlight = 0;
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  const t0 = now();
  const pacer = (async () => {
    let due = 0;
    while (running) {
      const target = Math.floor(((now() - t0) / 1000) * s.rate);
      for (; due < target; due++) {
        if (inFlight >= 2000) {
          skipped++;
          continue;
        }
        inFlight++;
        sent++;
        sendOne(due % s.publishers, stampedText(now(), s.textBytes)).then(
          (ok) => {
            inFlight--;
            if (!ok) failed++;
          },
          () => {
            inFlight--;
            failed++;
          },
        );
      }
      await sleep(2);
    }
  })();
  await sleep(s.warmupMs);
  const start = await mark('measure-start');
  const cpu = cpuMeter();
  const d0 = delivered;
  const s0 = sent;
  const m0 = now();
  measuring = true;
  await sleep(s.measureMs);
  measuring = false;
  const secs = (now() - m0) / 1000;
  const genCpu = cpu();
  const end = await mark('measure-end');
  running = false;
  await pacer;
  for (const stop of stoppers) stop();
  await sleep(200);
  for (const close of closers) close();
  return {
    transport: s.transport,
    subscribers: s.subscribers,
    rate: s.rate,
    sendsPerSec: (sent - s0) / secs,
    deliveriesPerSec: (delivered - d0) / secs,
    failed,
    skipped,
    latencyMs: summarize(lat.values),
    ...(s.transport === 'ajax' ? { pollRequestMs: summarize(pollMs.values), postRequestMs: summarize(postMs.values), pollStatus } : {}),
    generatorCpu: genCpu,
    server: { start, end },
  };
}

// ---------------------------------------------------------------------------

async function idle(s: Extract<Spec, { kind: 'idle' }>) {
  const cpu = cpuMeter();
  const r = await openMany(
    s.connections,
    s.transport,
    async (c, i) => {
      await subscribe(c, `idle-${Math.floor(i / s.roomSize)}`);
    },
    { concurrency: s.transport === 'websocket' ? 64 : 32, rooms: (i) => [`idle-${Math.floor(i / s.roomSize)}`] },
  );
  const genCpu = cpu();
  await sleep(s.settleMs);
  const loaded = await mark('loaded');
  closeAll(r.clients);
  return { transport: s.transport, connections: r.clients.length, connectMs: Math.round(r.ms), generatorCpu: genCpu, server: { loaded } };
}

// ---------------------------------------------------------------------------

async function capacity(s: Extract<Spec, { kind: 'capacity' }>) {
  const lat = new Reservoir();
  let measuring = false;
  const times: number[] = [];
  const sink: Sink = {
    messages: (f) => {
      if (!measuring) return;
      times.length = 0;
      sentTimes(f, times);
      const t = now();
      for (const x of times) lat.add(t - x);
    },
  };
  const cpuConnect = cpuMeter();
  const r = await openMany(
    s.connections,
    'websocket',
    async (c, i) => {
      c.sink = sink;
      await joinOk(c, { room: `cap-${Math.floor(i / s.roomSize)}` });
    },
    { concurrency: 128, stopAfterFailures: 50 },
  );
  const connectCpu = cpuConnect();
  const held = () => r.clients.filter((c) => !c.closed).length;
  const chatters = r.clients.filter((_, i) => i % s.chatEvery === 0);
  let running = true;
  let sent = 0;
  let failed = 0;
  let inFlight = 0;
  for (const [k, c] of chatters.entries()) {
    const room = `cap-${Math.floor((k * s.chatEvery) / s.roomSize)}`;
    void (async () => {
      await sleep(Math.random() * s.chatIntervalMs);
      while (running && !c.closed) {
        inFlight++;
        c.emit('send', { room, text: stampedText(now(), s.textBytes), clientId: clientId() }).then(
          (a) => {
            inFlight--;
            if (a.ok) sent++;
            else failed++;
          },
          () => {
            inFlight--;
            failed++;
          },
        );
        await sleep(s.chatIntervalMs);
      }
    })();
  }
  await sleep(Math.min(2000, s.measureMs / 2));
  const start = await mark('measure-start');
  const cpu = cpuMeter();
  const s0 = sent;
  const m0 = now();
  measuring = true;
  await sleep(s.measureMs);
  measuring = false;
  const secs = (now() - m0) / 1000;
  const genCpu = cpu();
  const end = await mark('measure-end');
  running = false;
  // No chatter sends again; wait for the answers to what is in flight (not
  // for each chatter's pause to end), so every send is counted.
  const w0 = now();
  while (inFlight > 0 && now() - w0 < s.chatIntervalMs + 2000) await sleep(10);
  const heldAtEnd = held();
  closeAll(r.clients);
  return {
    requested: s.connections,
    connected: r.clients.length,
    heldAtEnd,
    connectFailures: r.failures,
    ...(r.firstError ? { firstError: r.firstError } : {}),
    connectMs: Math.round(r.ms),
    connectsPerSec: r.clients.length / (r.ms / 1000),
    connectGeneratorCpu: connectCpu,
    chatters: chatters.length,
    sendsPerSec: (sent - s0) / secs,
    failed,
    latencyMs: summarize(lat.values),
    generatorCpu: genCpu,
    server: { start, end },
  };
}

// ---------------------------------------------------------------------------

async function join(s: Extract<Spec, { kind: 'join' }>) {
  // Fill the room: 4 publishers × 64 sends in flight; the room commits each turn as one transaction.
  const pubs = await Promise.all(
    spec.publisherTokens.map((t, i) => SioWs.connect({ port: spec.port, token: t, localAddress: sourceAddress(200 + i) })),
  );
  const f0 = now();
  let issued = 0;
  let acked = 0;
  await Promise.all(
    pubs.flatMap((p) =>
      Array.from({ length: 64 }, async () => {
        while (issued < s.fill) {
          issued++;
          const a = await p.emit('send', { room: s.room, text: stampedText(now(), s.textBytes), clientId: clientId() });
          if (a.ok) acked++;
          else {
            issued--;
            await sleep(5);
          }
        }
      }),
    ),
  );
  const fillMs = now() - f0;
  closeAll(pubs);
  // Let the aftermath of the burst (WAL checkpoint, GC) pass: this measures a
  // join into a large room, not a join during a 100,000-message write burst.
  await sleep(s.settleMs);
  // Then fresh connections join one at a time: join + latest 50, pure latency.
  const conns = await openMany(s.joins, 'websocket', async () => {}, { concurrency: 32 });
  const cpu = cpuMeter();
  const start = await mark('measure-start');
  const lat: number[] = [];
  let lastSeq = 0;
  let pageOk = true;
  for (const c of conns.clients) {
    const t = now();
    const a = (await joinOk(c, { room: s.room })) as Ack & JoinOk;
    lat.push(now() - t);
    lastSeq = a.lastSeq;
    if (a.messages.length !== 50) pageOk = false;
  }
  const genCpu = cpu();
  const end = await mark('measure-end');
  closeAll(conns.clients);
  return {
    stored: lastSeq,
    fillMs: Math.round(fillMs),
    fillPerSec: acked / (fillMs / 1000),
    joins: lat.length,
    pageOf50: pageOk,
    latencyMs: summarize(lat),
    generatorCpu: genCpu,
    server: { start, end },
  };
}

// ---------------------------------------------------------------------------

async function jitter(s: Extract<Spec, { kind: 'jitter' }>) {
  const room = 'jitter';
  const cap = Math.ceil(s.rate * (s.durationMs / 1000) * 2) + 10_000;
  interface Sub {
    i: number;
    client: Client | undefined;
    epoch: string;
    lastSeq: number;
    firstSeq: number;
    seen: Uint8Array;
    raw: number;
    dups: number;
    outOfOrder: number;
    kills: number;
  }
  const catchUp: number[] = [];
  const receive = (sub: Sub, seqs: number[]) => {
    for (const q of seqs) {
      sub.raw++;
      if (q >= cap) continue;
      if (sub.seen[q]) {
        sub.dups++;
        continue;
      }
      if (q < sub.lastSeq) sub.outOfOrder++;
      sub.seen[q] = 1;
      if (q > sub.lastSeq) sub.lastSeq = q;
    }
  };
  const attach = async (sub: Sub, since: number | undefined) => {
    const c = await SioWs.connect({ port: spec.port, token: spec.tokens[sub.i % spec.tokens.length] as string, localAddress: sourceAddress(sub.i) });
    // The server writes the join's answer before any live message of the room,
    // but this promise's continuation runs after the handlers of frames that
    // came in the same read: hold live frames until the answer is counted, as
    // a client that handles the ack in its callback would see them.
    let held: Buffer[] | undefined = [];
    c.sink = { messages: (f) => (held ? held.push(f) : receive(sub, seqsOf(f.toString()))) };
    const a = (await joinOk(c, since === undefined ? { room } : { room, since, epoch: sub.epoch })) as Ack & JoinOk;
    if (since === undefined) {
      sub.epoch = a.epoch;
      sub.firstSeq = a.lastSeq;
      sub.lastSeq = a.lastSeq;
    } else if (!a.recovered) throw new Error('join did not recover');
    receive(
      sub,
      a.messages.map((m) => m.seq).filter((q) => q > sub.firstSeq),
    );
    for (const f of held) receive(sub, seqsOf(f.toString()));
    held = undefined;
    sub.client = c;
  };
  const subs: Sub[] = Array.from({ length: s.subscribers }, (_, i) => ({
    i,
    client: undefined,
    epoch: '',
    lastSeq: 0,
    firstSeq: 0,
    seen: new Uint8Array(cap),
    raw: 0,
    dups: 0,
    outOfOrder: 0,
    kills: 0,
  }));
  for (let k = 0; k < subs.length; k += 32) await Promise.all(subs.slice(k, k + 32).map((sub) => attach(sub, undefined)));
  const pubs = await Promise.all(
    Array.from({ length: s.publishers }, (_, i) =>
      SioWs.connect({ port: spec.port, token: spec.publisherTokens[i % spec.publisherTokens.length] as string, localAddress: sourceAddress(200 + i) }),
    ),
  );
  let running = true;
  let maxSeq = 0;
  let sent = 0;
  let failed = 0;
  const t0 = now();
  const pacer = (async () => {
    let due = 0;
    while (running) {
      const target = Math.floor(((now() - t0) / 1000) * s.rate);
      for (; due < target; due++) {
        sent++;
        (pubs[due % pubs.length] as Client).emit('send', { room, text: stampedText(now(), s.textBytes), clientId: clientId() }).then(
          (a) => {
            if (a.ok) maxSeq = Math.max(maxSeq, a.seq as number);
            else failed++;
          },
          () => failed++,
        );
      }
      await sleep(5);
    }
  })();
  const start = await mark('measure-start');
  const cpu = cpuMeter();
  let killing = true;
  let reconnectFailures = 0;
  const killers = subs.map(async (sub) => {
    await sleep(Math.random() * s.killEveryMs);
    while (killing) {
      (sub.client as SioWs).kill();
      sub.kills++;
      await sleep(s.offlineMs);
      const t = now();
      for (let attempt = 0; ; attempt++) {
        try {
          await attach(sub, sub.lastSeq);
          break;
        } catch {
          reconnectFailures++;
          if (attempt >= 5) return;
          await sleep(200);
        }
      }
      catchUp.push(now() - t);
      await sleep(s.killEveryMs * (0.8 + Math.random() * 0.4) - s.offlineMs);
    }
  });
  await sleep(s.durationMs);
  killing = false;
  running = false;
  await pacer;
  const genCpu = cpu();
  const end = await mark('measure-end');
  // Publishers stop; wait for the last acks and for every subscriber to be back and caught up.
  const settle = now();
  while (now() - settle < 10_000 && subs.some((x) => x.lastSeq < maxSeq)) await sleep(50);
  await Promise.race([Promise.all(killers), sleep(1000)]);
  let expected = 0;
  let distinct = 0;
  let dups = 0;
  let outOfOrder = 0;
  let kills = 0;
  let missingSubs = 0;
  for (const sub of subs) {
    let got = 0;
    for (let q = sub.firstSeq + 1; q <= maxSeq; q++) got += sub.seen[q] as number;
    expected += maxSeq - sub.firstSeq;
    distinct += got;
    if (got < maxSeq - sub.firstSeq) missingSubs++;
    dups += sub.dups;
    outOfOrder += sub.outOfOrder;
    kills += sub.kills;
  }
  closeAll([...pubs, ...(subs.map((x) => x.client).filter(Boolean) as Client[])]);
  return {
    subscribers: s.subscribers,
    sent,
    acked: maxSeq,
    failedSends: failed,
    kills,
    reconnectFailures,
    expectedDeliveries: expected,
    deliveredOnce: distinct,
    deliveredRatio: expected > 0 ? distinct / expected : 0,
    subscribersMissing: missingSubs,
    duplicatesBeforeDedupe: dups,
    outOfOrder,
    catchUpMs: summarize(catchUp),
    generatorCpu: genCpu,
    server: { start, end },
  };
}

// ---------------------------------------------------------------------------

const runners = { fanout, latency, idle, capacity, join, jitter } as const;

async function main(): Promise<void> {
  const run = runners[spec.kind] as (s: Spec) => Promise<Record<string, unknown>>;
  const data = await run(spec);
  send({ type: 'result', data });
  destroyAgents();
  await sleep(100);
  process.exit(0);
}

main().catch((err: unknown) => {
  log(`generator failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
