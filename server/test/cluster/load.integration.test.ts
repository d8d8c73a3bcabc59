import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStore, logsOnFailure, oneTo, problemsOf, readStore, startTestCluster, type Cluster, type StoredRoom } from './fixture.ts';
import { AjaxPeer, SocketPeer, burst, newSession, sleep, type SendRecord, type Sender } from './peers.ts';

/**
 * Three nodes under load on all three transports: clients pinned to every
 * node through HAProxy (WebSocket, and long-polling by the SERVERID cookie)
 * and Ajax clients that HAProxy round-robins request by request. One run of
 * SENDS sends over several rooms; the tests check what PostgreSQL stored and
 * what every subscriber on every node was delivered.
 */
const SENDS = Number(process.env.CLUSTER_LOAD_SENDS || 20_000);
const ROOMS = ['load-0', 'load-1', 'load-2', 'load-3', 'load-4', 'load-5'];

let cluster: Cluster;
const subscribers: Array<SocketPeer | AjaxPeer> = [];
const senders: Sender[] = [];
let records: SendRecord[] = [];
let stored: Map<string, StoredRoom>;
let connectionsPerNode: number[] = [];
let metricsOfFirst = '';

beforeAll(async () => {
  cluster = await startTestCluster();
  const url = cluster.url;
  for (let i = 0; i < cluster.nodes.length; i++) {
    for (const transport of ['websocket', 'polling'] as const) {
      const session = await newSession(url, `sub-${transport}-${i}`);
      subscribers.push(new SocketPeer({ name: `sub ${transport} node-${i + 1}`, base: url, session, transport, cookie: cluster.cookieFor(i), rooms: ROOMS, reconnect: false }));
      const sender = await newSession(url, `send-${transport}-${i}`);
      senders.push(new SocketPeer({ name: `send-${transport}-${i}`, base: url, session: sender, transport, cookie: cluster.cookieFor(i), rooms: [], reconnect: false }));
    }
    // Ajax: no cookie, so HAProxy sends each request to the next node.
    subscribers.push(new AjaxPeer({ name: `sub ajax ${i}`, bases: [url], session: await newSession(url, `sub-ajax-${i}`), rooms: ROOMS, intervalMs: 200 }));
    senders.push(new AjaxPeer({ name: `send-ajax-${i}`, bases: [url], session: await newSession(url, `send-ajax-${i}`), rooms: [] }));
  }
  for (const p of [...subscribers, ...senders]) if (p instanceof SocketPeer) await p.start();
  for (const p of subscribers) if (p instanceof AjaxPeer) await Promise.all(ROOMS.map((r) => p.poll(r)));
  for (const p of subscribers) if (p instanceof AjaxPeer) p.start();
  connectionsPerNode = await Promise.all(
    cluster.nodes.map(async (_, i) => (await cluster.metric(i, 'fiberchat_connections', '{transport="websocket"}')) + (await cluster.metric(i, 'fiberchat_connections', '{transport="long-polling"}'))),
  );

  const t0 = Date.now();
  // Ajax sends are one HTTP request each: fewer in flight per client, as a browser has a few connections.
  records = await burst(senders, ROOMS, SENDS, { tag: 'load', window: (s) => (s instanceof AjaxPeer ? 6 : 24) });
  const ms = Date.now() - t0;
  stored = await readStore(cluster, ROOMS);
  metricsOfFirst = await cluster.metricsText(0);
  const by = (kind: string) => records.filter((r) => r.clientId.includes(`-send-${kind}-`)).length;
  console.log(
    `load: ${SENDS} sends acked in ${ms} ms (${Math.round((SENDS * 1000) / ms)}/s) over ${cluster.nodes.length} nodes: ` +
      `${by('websocket')} by WebSocket, ${by('polling')} by long-polling, ${by('ajax')} by Ajax`,
  );

  // Every subscriber catches up to the end of every room (bounded), then stops.
  const until = Date.now() + 30_000;
  const end = (room: string) => stored.get(room)?.lastSeq ?? 0;
  while (Date.now() < until && !subscribers.every((p) => ROOMS.every((r) => (p.views.get(r)?.last ?? 0) >= end(r)))) await sleep(100);
  for (const p of subscribers) {
    if (p instanceof AjaxPeer) await p.close();
    else p.close();
  }
  for (const s of senders) if (s instanceof SocketPeer) s.close();
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('three nodes under load, on every transport', () => {
  it(`${SENDS} sends: every room's seqs are 1..n with no gap, last_seq is the row count, every acked clientId is stored once`, () => {
    logsOnFailure(cluster);
    // The clients were spread over every node (each names itself on /metrics by the NODE_ID the launcher gave it).
    for (const n of connectionsPerNode) expect(n).toBeGreaterThanOrEqual(4);
    expect(metricsOfFirst).toMatch(/^fiberchat_build_info\{[^}]*node="node-1"[^}]*\} 1$/m);
    expect(records).toHaveLength(SENDS);
    expect(records.filter((r) => r.seq === undefined)).toEqual([]);
    // Nothing needed a retry under load alone: every first answer was an ok.
    expect(records.filter((r) => r.answers.length !== 1 || r.answers[0]?.outcome !== 'ok')).toEqual([]);
    expect(checkStore(stored, records)).toEqual([]);
    expect([...stored.values()].reduce((n, s) => n + s.rows.length, 0)).toBe(SENDS);
    for (const room of ROOMS) expect(stored.get(room)?.rows.length).toBeGreaterThan(0);
  });

  it('every subscriber on every node receives each room\'s messages exactly once, in seq order', () => {
    logsOnFailure(cluster);
    expect(problemsOf(subscribers.flatMap((p) => [...p.views.values()]))).toEqual([]);
    for (const p of subscribers) {
      if (p instanceof SocketPeer) {
        // One connection throughout: nothing here was delivered across a reconnect.
        expect(p.sessions, p.name).toHaveLength(1);
        expect(p.drops.filter((d) => d !== 'io client disconnect'), p.name).toEqual([]);
      } else {
        expect(p.pollFailures, p.name).toEqual([]);
      }
      for (const room of ROOMS) {
        const view = p.views.get(room);
        const rows = stored.get(room)?.rows ?? [];
        expect(view?.redelivered, `${p.name} ${room}`).toBe(0);
        expect(view?.seqs(), `${p.name} ${room}`).toEqual(oneTo(rows.length));
        expect(view?.messages.map((m) => m.clientId), `${p.name} ${room}`).toEqual(rows.map((r) => r.clientId));
      }
    }
  });
});
