import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../../shared/protocol.ts';
import { startHaproxy, type HaproxyService } from '../../../scripts/services/index.ts';
import { cid, type ChatSocket } from '../harness.ts';
import { logsOnFailure, oneTo, startTestCluster, type Cluster } from './fixture.ts';
import { cookieFrom, newSession, sleep } from './peers.ts';

/**
 * Long-polling needs every request of an engine.io session on the node that
 * holds it; HAProxy pins it by cookie. A session held through HAProxy for a
 * while must never meet "Session ID unknown" (engine.io's answer on a node
 * that does not hold the session), and the same client through a HAProxy
 * without stickiness must, or the first test proves nothing.
 *
 * 20 s by default; CLUSTER_LONG_POLL=1 holds the session for 2 minutes.
 */
const HOLD_MS = process.env.CLUSTER_LONG_POLL === '1' ? 120_000 : 20_000;

let cluster: Cluster;
let loose: HaproxyService | undefined;
beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);
afterAll(async () => {
  await loose?.dispose();
  await cluster?.stop();
});

interface Held {
  /** Every connect error and disconnect, with engine.io's answer when there was one. */
  failures: string[];
  /** Engine.io session ids seen. */
  sessions: Set<string>;
  transport: string | undefined;
  received: Message[];
  sent: number[];
}

/** The body engine.io answered a failed poll or post with (the XHR rides on the transport error). */
function answerOf(err: unknown): string {
  const ctx = (err as { context?: { responseText?: unknown } } | undefined)?.context;
  return typeof ctx?.responseText === 'string' ? ctx.responseText : '';
}

/**
 * Holds a long-polling session through `base` for up to `ms` (less if it
 * fails), while messages are posted to its room once a second through the
 * cluster's HAProxy (round-robined: they are committed on every node).
 */
async function holdPolling(base: string, cookie: string | undefined, ms: number, room: string): Promise<Held> {
  const [reader, writer] = await Promise.all([newSession(cluster.url, 'lp-reader'), newSession(cluster.url, 'lp-writer')]);
  const held: Held = { failures: [], sessions: new Set(), transport: undefined, received: [], sent: [] };
  const socket = io(base, {
    auth: { token: reader.token },
    transports: ['polling'],
    reconnection: false,
    forceNew: true,
    ...(cookie ? { extraHeaders: { cookie } } : {}),
  }) as ChatSocket;
  socket.on('connect_error', (err) => held.failures.push(`connect_error ${err.message} ${answerOf(err)}`));
  socket.on('disconnect', (reason, details) => held.failures.push(`disconnect ${reason} ${answerOf(details)}`));
  socket.on('messages', (ev) => held.received.push(...ev.messages));
  const noteSession = () => {
    if (socket.io.engine?.id) held.sessions.add(socket.io.engine.id);
  };
  try {
    const connected = await Promise.race([
      new Promise<boolean>((resolve) => socket.once('connect', () => resolve(true))),
      new Promise<boolean>((resolve) => socket.once('connect_error', () => resolve(false))),
      sleep(10_000).then(() => false),
    ]);
    if (!connected) return held;
    noteSession();
    const joined = await socket.timeout(5000).emitWithAck('join', { room }).catch(() => undefined);
    if (!joined?.ok) {
      held.failures.push('join failed');
      return held;
    }
    const until = Date.now() + ms;
    while (Date.now() < until && held.failures.length === 0) {
      const res = await fetch(`${cluster.url}/api/rooms/${room}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${writer.token}` },
        body: JSON.stringify({ text: `tick ${held.sent.length + 1}`, clientId: cid() }),
      });
      if (res.ok) held.sent.push(((await res.json()) as { seq: number }).seq);
      noteSession();
      await sleep(1000);
    }
    // The last tick's broadcast, before looking.
    await sleep(1500);
    noteSession();
    held.transport = socket.io.engine?.transport?.name;
    return held;
  } finally {
    socket.off('disconnect');
    socket.disconnect();
  }
}

describe('long-polling through HAProxy', () => {
  it(`keeps one engine.io session for ${HOLD_MS / 1000} s with the stickiness cookie: never "Session ID unknown", every message delivered`, async () => {
    logsOnFailure(cluster);
    // A browser's first request gets the cookie; Node's client keeps none, so it is passed as a header.
    const cookie = await cookieFrom(cluster.url, undefined);
    expect(cookie).toMatch(/^SERVERID=node-\d$/);
    const held = await holdPolling(cluster.url, cookie, HOLD_MS, 'long-poll');
    console.log(`long-polling ${HOLD_MS} ms through sticky HAProxy: ${held.sent.length} messages, sessions ${held.sessions.size}, failures ${held.failures.length}`);
    expect(held.failures).toEqual([]);
    expect(held.sessions.size).toBe(1);
    expect(held.transport).toBe('polling');
    expect(held.sent.length).toBeGreaterThanOrEqual(Math.floor(HOLD_MS / 1000 / 2));
    expect(held.received.map((m) => m.seq)).toEqual(oneTo(held.sent.length));
  });

  it('the same client through a HAProxy without stickiness loses its session: "Session ID unknown"', async () => {
    logsOnFailure(cluster);
    loose = await startHaproxy({ backends: cluster.nodes.map((n) => ({ name: n.name, port: n.port })), stickiness: false });
    const held = await holdPolling(loose.url, undefined, HOLD_MS, 'long-poll-loose');
    console.log(`long-polling without stickiness: failures ${JSON.stringify(held.failures)}`);
    expect(held.failures.length).toBeGreaterThan(0);
    expect(held.failures.join('\n')).toContain('Session ID unknown');
  });
});
