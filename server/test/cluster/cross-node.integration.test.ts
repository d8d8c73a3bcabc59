import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, PageOk, PresenceEvent, SendOk, SessionOk, TypingEvent } from '../../../shared/protocol.ts';
import { cid, collect, type ChatSocket } from '../harness.ts';
import { PEER_PRESENCE_TTL_MS } from '../../rooms/gossip.ts';
import { logsOnFailure, oneTo, readStore, startTestCluster, type Cluster } from './fixture.ts';
import { newSession, sleep } from './peers.ts';

/**
 * One client, several nodes: resuming on another node, Ajax polls that land
 * on a different node each time, presence and typing across nodes. The
 * store check is slowed to a minute here, so what these tests see crosses
 * nodes by the bus or by the read path itself, never by the backstop's
 * timing; some run with Redis down too, where only the read path can be
 * right.
 */
let cluster: Cluster;
const A = 0;
const B = 1;
const C = 2;

beforeAll(async () => {
  cluster = await startTestCluster({ storeCheckMs: 60_000, env: { PRESENCE_GRACE_MS: '500' } });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

async function socketOn(node: number, session: SessionOk): Promise<ChatSocket> {
  const socket = io(cluster.node(node).url, { auth: { token: session.token }, transports: ['websocket'], reconnection: false, forceNew: true }) as ChatSocket;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function post(base: string, session: SessionOk, room: string, text: string, clientId = cid()): Promise<number> {
  const res = await fetch(`${base}/api/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
    body: JSON.stringify({ text, clientId }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { seq: number }).seq;
}

async function poll(base: string, session: SessionOk, room: string, after?: number, epoch?: string): Promise<PageOk> {
  const q = after === undefined ? '' : `?after=${after}${epoch ? `&epoch=${epoch}` : ''}`;
  const res = await fetch(`${base}/api/rooms/${room}/messages${q}`, { headers: { authorization: `Bearer ${session.token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as PageOk;
}

/** Runs `body` with Redis killed (no hints, no presence between nodes), then brings Redis back. */
async function withoutBus(body: () => Promise<void>): Promise<void> {
  await cluster.killRedis();
  try {
    await body();
  } finally {
    await cluster.startRedis();
    // Every node back on the bus before the next test relies on it.
    for (let i = 0; i < cluster.nodes.length; i++) {
      if (cluster.node(i).running) await expect.poll(() => cluster.metric(i, 'fiberchat_bus_up'), { timeout: 10_000 }).toBe(1);
    }
  }
}

describe('one client, several nodes', () => {
  for (const bus of ['up', 'down'] as const) {
    it(`joined on node A, resumes on node B with since: exactly the missed messages, recovered (Redis ${bus})`, async () => {
      logsOnFailure(cluster);
      const room = `resume-${bus}`;
      const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => newSession(cluster.url, n)));
      // The room's log exists before anyone joins (see the next test for a room that has none yet).
      await post(cluster.node(C).url, bob as SessionOk, room, 'before 1');
      const onA = await socketOn(A, alice as SessionOk);
      const seen = collect(onA, 'messages');
      const first = await onA.emitWithAck('join', { room });
      if (!first.ok) throw new Error(first.error.message);
      // Carol keeps the room live on node B, so B answers from a room that has been running, not a fresh load.
      const carolOnB = await socketOn(B, carol as SessionOk);
      expect((await carolOnB.emitWithAck('join', { room })).ok).toBe(true);
      for (let i = 2; i <= 5; i++) await post(cluster.node(C).url, bob as SessionOk, room, `before ${i}`);
      await expect.poll(() => [...first.messages, ...seen.flatMap((e) => e.messages)].map((m) => m.seq), { timeout: 5000 }).toEqual(oneTo(5));
      onA.disconnect();

      const missed = async () => {
        for (let i = 1; i <= 7; i++) await post(cluster.node(i % 2 === 0 ? A : C).url, bob as SessionOk, room, `missed ${i}`);
        const onB = await socketOn(B, alice as SessionOk);
        const resumed = await onB.emitWithAck('join', { room, since: 5, epoch: first.epoch });
        onB.disconnect();
        if (!resumed.ok) throw new Error(resumed.error.message);
        expect(resumed.recovered).toBe(true);
        expect(resumed.epoch).toBe(first.epoch);
        expect(resumed.messages.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10, 11, 12]);
        expect(resumed.messages.map((m) => m.text)).toEqual(oneTo(7).map((i) => `missed ${i}`));
        expect(resumed.lastSeq).toBe(12);

        // An epoch from another log: the latest page, not recovered.
        const onC = await socketOn(C, alice as SessionOk);
        const foreign = await onC.emitWithAck('join', { room, since: 5, epoch: 'another-log' });
        onC.disconnect();
        if (!foreign.ok) throw new Error(foreign.error.message);
        expect(foreign.recovered).toBe(false);
        expect(foreign.messages.map((m) => m.seq)).toEqual(oneTo(12));
      };
      if (bus === 'down') await withoutBus(missed);
      else await missed();
      carolOnB.disconnect();
    });
  }

  // A room with no stored message has no row; every node derives the same first epoch for it from the
  // database's instance id, so a client that joined through one node resumes exactly on another.
  it('a client that joined a room before its first message was stored through another node resumes recovered', async () => {
    logsOnFailure(cluster);
    const room = 'resume-fresh-room';
    const [alice, bob] = await Promise.all(['alice', 'bob'].map((n) => newSession(cluster.url, n)));
    const onA = await socketOn(A, alice as SessionOk);
    const joined = await onA.emitWithAck('join', { room });
    if (!joined.ok) throw new Error(joined.error.message);
    const seen = collect(onA, 'messages');
    // The first message is stored through node C, under C's proposal.
    await post(cluster.node(C).url, bob as SessionOk, room, 'first');
    await expect.poll(() => seen.flatMap((e) => e.messages).length, { timeout: 5000 }).toBe(1);
    onA.disconnect();
    const onB = await socketOn(B, alice as SessionOk);
    const resumed = await onB.emitWithAck('join', { room, since: 1, epoch: joined.epoch });
    onB.disconnect();
    if (!resumed.ok) throw new Error(resumed.error.message);
    expect(resumed.recovered).toBe(true);
  });

  for (const bus of ['up', 'down'] as const) {
    it(`Ajax polls round-robined over the nodes: a send on one node is in the next poll on another, and the poller is present (Redis ${bus})`, async () => {
      logsOnFailure(cluster);
      const room = `ajax-${bus}`;
      const [ajay, sam] = await Promise.all(['ajay', 'sam'].map((n) => newSession(cluster.url, n)));
      const bases = cluster.nodes.map((n) => n.url);
      const run = async () => {
        let page = await poll(bases[0] as string, ajay as SessionOk, room);
        let after = page.lastSeq;
        const epoch = page.epoch;
        for (let i = 0; i < 9; i++) {
          // Send on node i, poll on node i + 1, the way a balancer without stickiness spreads requests.
          const seq = await post(bases[i % 3] as string, ajay as SessionOk, room, `ajax ${i}`);
          page = await poll(bases[(i + 1) % 3] as string, ajay as SessionOk, room, after, epoch);
          expect(page.recovered, `poll ${i}`).toBe(true);
          expect(page.messages.map((m) => m.seq), `poll ${i}`).toEqual([seq]);
          after = seq;
        }
        // A poll through HAProxy, which round-robins: the same holds wherever it lands.
        for (let i = 0; i < 6; i++) {
          const seq = await post(cluster.url, ajay as SessionOk, room, `through haproxy ${i}`);
          page = await poll(cluster.url, ajay as SessionOk, room, after, epoch);
          expect(page.messages.map((m) => m.seq), `haproxy poll ${i}`).toEqual([seq]);
          after = seq;
        }
      };
      if (bus === 'down') {
        await withoutBus(run);
        return;
      }
      await run();
      // The poller (polling node A) is listed in the presence a socket client sees on node C.
      const samOnC = await socketOn(C, sam as SessionOk);
      const presence = collect(samOnC, 'presence');
      const joined = await samOnC.emitWithAck('join', { room });
      if (!joined.ok) throw new Error(joined.error.message);
      const names = () => presence.at(-1)?.members ?? joined.members;
      await poll(bases[A] as string, ajay as SessionOk, room, 0);
      await expect.poll(names, { timeout: 5000 }).toEqual(['ajay', 'sam']);
      samOnC.disconnect();
    });
  }

  it('the same clientId sent at the same moment through node A (WebSocket) and node B (Ajax POST): one row, one seq in both acks, one duplicate', async () => {
    logsOnFailure(cluster);
    const room = 'twice';
    const dana = await newSession(cluster.url, 'dana');
    const onA = await socketOn(A, dana);
    type RestAnswer = { status: number; body: { seq: number; duplicate?: boolean } };
    const pairs: Array<{ clientId: string; ws: Ack<SendOk>; rest: RestAnswer }> = [];
    for (let i = 0; i < 40; i++) {
      const clientId = `twice-${i}-xxxxxx`;
      // An HTTP request takes longer to reach its node than a WebSocket frame: the frame leaves a
      // little later, by a different amount each time, so the two commits meet in the store.
      const [rest, ws] = await Promise.all([
        fetch(`${cluster.node(B).url}/api/rooms/${room}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${dana.token}` },
          body: JSON.stringify({ text: `twice ${i}`, clientId }),
        }).then(async (r): Promise<RestAnswer> => ({ status: r.status, body: (await r.json()) as RestAnswer['body'] })),
        sleep(i % 4).then(() => onA.emitWithAck('send', { room, text: `twice ${i}`, clientId })),
      ]);
      pairs.push({ clientId, ws, rest });
    }
    onA.disconnect();
    const stored = (await readStore(cluster, [room])).get(room);
    expect(stored?.rows.map((r) => r.seq)).toEqual(oneTo(40));
    for (const { clientId, ws, rest } of pairs) {
      if (!ws.ok) throw new Error(ws.error.message);
      expect(rest.status, clientId).toBe(200);
      expect(rest.body.seq, clientId).toBe(ws.seq);
      // Exactly one of the two was the original.
      expect([ws.duplicate === true, rest.body.duplicate === true].filter(Boolean), clientId).toHaveLength(1);
      expect(stored?.rows.filter((r) => r.clientId === clientId).map((r) => r.seq), clientId).toEqual([ws.seq]);
    }
    // Each carrier won some of the races: the two nodes really did commit the same clientId side by side.
    const wonByAjax = pairs.filter((p) => p.ws.ok && p.ws.duplicate === true).length;
    console.log(`same clientId on two nodes: the Ajax POST on node B was stored first in ${wonByAjax} of ${pairs.length}`);
    expect(wonByAjax).toBeGreaterThan(0);
    expect(wonByAjax).toBeLessThan(pairs.length);
  });

  it('two tabs of one user on nodes A and B are one member; typing crosses nodes; killing B drops its user within the presence TTL', async () => {
    logsOnFailure(cluster);
    const room = 'presence';
    const [ursula, victor, watcher] = await Promise.all(['ursula', 'victor', 'watcher'].map((n) => newSession(cluster.url, n)));
    const w = await socketOn(A, watcher as SessionOk);
    const presence: PresenceEvent[] = collect(w, 'presence');
    const typing: TypingEvent[] = collect(w, 'typing');
    expect((await w.emitWithAck('join', { room })).ok).toBe(true);
    const tabA = await socketOn(A, ursula as SessionOk);
    const tabB = await socketOn(B, ursula as SessionOk);
    const victorOnB = await socketOn(B, victor as SessionOk);
    for (const s of [tabA, tabB, victorOnB]) expect((await s.emitWithAck('join', { room })).ok).toBe(true);
    const members = () => presence.at(-1)?.members;
    await expect.poll(members, { timeout: 5000 }).toEqual(['ursula', 'victor', 'watcher']);
    expect(presence.at(-1)?.users?.filter((u) => u.userId === ursula?.userId)).toHaveLength(1);

    // Typing on node B shows on node A.
    expect((await victorOnB.emitWithAck('typing', { room })).ok).toBe(true);
    await expect.poll(() => typing.at(-1)?.typing, { timeout: 5000 }).toEqual(['victor']);

    // Node B dies: victor (only there) leaves within the presence lease; ursula stays (her tab on A).
    await cluster.killNode(B);
    const killedAt = Date.now();
    await expect.poll(members, { timeout: PEER_PRESENCE_TTL_MS + 5000, interval: 100 }).toEqual(['ursula', 'watcher']);
    const gone = Date.now() - killedAt;
    console.log(`presence: node B's user left ${gone} ms after the kill (lease ${PEER_PRESENCE_TTL_MS} ms)`);
    // The lease, plus one timer turn and a little scheduling slack on a busy machine.
    expect(gone).toBeLessThanOrEqual(PEER_PRESENCE_TTL_MS + 2000);
    // …and the typing indicator it had shown did not outlive it either.
    expect(typing.at(-1)?.typing ?? []).toEqual([]);
    for (const s of [w, tabA]) s.disconnect();
    await sleep(0);
  });
});

// Node B was killed above: these use nodes A and C.
describe('accounts across nodes', () => {
  async function json(base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  it('a session ended on node A is refused on node C within a second, and its socket there hears bye', async () => {
    logsOnFailure(cluster);
    const credentials = { name: 'cluster-owner', password: 'a passphrase for the cluster' };
    const made = await json(cluster.node(A).url, 'POST', '/api/accounts', undefined, credentials);
    expect(made.status).toBe(201);
    const first = made.body as unknown as SessionOk;
    const signedIn = await json(cluster.node(C).url, 'POST', '/api/login', undefined, credentials);
    expect(signedIn.status).toBe(200);
    const second = signedIn.body as unknown as SessionOk;
    // Node C has checked the second session (it is in C's cache) and holds a live socket of it.
    expect((await json(cluster.node(C).url, 'GET', '/api/rooms/mine', second.token)).status).toBe(200);
    const onC = await socketOn(C, second);
    const byes = collect(onC, 'bye');

    const ended = Date.now();
    expect((await json(cluster.node(A).url, 'DELETE', `/api/sessions/${second.sessionId}`, first.token)).status).toBe(204);
    await expect.poll(() => byes, { timeout: 1000, interval: 20 }).toEqual([{ reason: 'session_revoked' }]);
    await expect.poll(async () => (await json(cluster.node(C).url, 'GET', '/api/rooms/mine', second.token)).status, { timeout: 1000, interval: 20 }).toBe(401);
    expect(Date.now() - ended).toBeLessThan(2000);
    expect((await json(cluster.node(A).url, 'GET', '/api/rooms/mine', second.token)).status).toBe(401);
    // The session that ended it goes on everywhere.
    expect((await json(cluster.node(C).url, 'GET', '/api/rooms/mine', first.token)).status).toBe(200);
    onC.disconnect();
  });

  it('with Redis down, an ended session is still refused by REST on another node within a second (from the store)', async () => {
    const credentials = { name: 'cluster-owner-2', password: 'another passphrase for it' };
    const made = await json(cluster.node(A).url, 'POST', '/api/accounts', undefined, credentials);
    const first = made.body as unknown as SessionOk;
    const second = (await json(cluster.node(C).url, 'POST', '/api/login', undefined, credentials)).body as unknown as SessionOk;
    expect((await json(cluster.node(C).url, 'GET', '/api/rooms/mine', second.token)).status).toBe(200);
    await withoutBus(async () => {
      expect((await json(cluster.node(A).url, 'DELETE', `/api/sessions/${second.sessionId}`, first.token)).status).toBe(204);
      await expect.poll(async () => (await json(cluster.node(C).url, 'GET', '/api/rooms/mine', second.token)).status, { timeout: 1500, interval: 50 }).toBe(401);
    });
  });
});
