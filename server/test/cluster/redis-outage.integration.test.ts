import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionOk, TypingEvent } from '../../../shared/protocol.ts';
import { startRedis } from '../../../scripts/services/index.ts';
import { RedisBus } from '../../cluster/bus.ts';
import { collect, type ChatSocket } from '../harness.ts';
import { logsOnFailure, startTestCluster, type Cluster } from './fixture.ts';
import { newSession, sleep } from './peers.ts';
import { answerSummary, expectIntact, load, populate, settle } from './scenario.ts';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const SENDS = 3000;
const OUTAGE_MS = 4000;
/** What "back" means for the bus: Redis answering again to signals crossing nodes. */
const BACK_WITHIN_MS = 3000;
const A = 0;
const B = 1;

async function socketOn(node: number, session: SessionOk, room: string): Promise<ChatSocket> {
  const socket = io(cluster.node(node).url, { auth: { token: session.token }, transports: ['websocket'], reconnection: false, forceNew: true }) as ChatSocket;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const joined = await socket.emitWithAck('join', { room });
  if (!joined.ok) throw new Error(joined.error.message);
  return socket;
}

/**
 * From now, how long until typing on node B shows on node A. Typing travels
 * only on the bus (the store check carries messages, never typing), and the
 * typist starts now, so nothing from before can stand in for it.
 */
async function typingCrosses(room: string, typistName: string): Promise<number> {
  const t0 = Date.now();
  const [watcher, typist] = await Promise.all([newSession(cluster.url, 'watcher'), newSession(cluster.url, typistName)]);
  const onA = await socketOn(A, watcher, room);
  const typing: TypingEvent[] = collect(onA, 'typing');
  const onB = await socketOn(B, typist, room);
  try {
    while (Date.now() - t0 < 15_000) {
      await onB.emitWithAck('typing', { room });
      if (typing.some((e) => e.typing.includes(typistName))) return Date.now() - t0;
      await sleep(250);
    }
    return Number.POSITIVE_INFINITY;
  } finally {
    onA.disconnect();
    onB.disconnect();
  }
}

describe('Redis goes away', () => {
  it('killed mid-burst: nothing lost or reordered; memory stays bounded meanwhile; signals cross nodes again within 3 s of its return', async () => {
    logsOnFailure(cluster);
    const world = await populate(cluster, ['redis-0', 'redis-1', 'redis-2'], 'redis');
    const rss: number[][] = cluster.nodes.map(() => []);
    let back = Number.NaN;
    let busBack = Number.NaN;
    const { records, during } = await load(world, SENDS, 'redis', {
      when: SENDS / 4,
      run: async () => {
        await cluster.killRedis();
        const until = Date.now() + OUTAGE_MS;
        while (Date.now() < until) {
          cluster.nodes.forEach((_, i) => rss[i]?.push(cluster.rssBytes(i)));
          await sleep(250);
        }
        await cluster.startRedis();
        const t0 = Date.now();
        [back] = await Promise.all([
          typingCrosses('redis-typing', 'tina'),
          (async () => {
            for (let i = 0; i < cluster.nodes.length; i++) await expect.poll(() => cluster.metric(i, 'fiberchat_bus_up'), { timeout: 10_000, interval: 100 }).toBe(1);
            busBack = Date.now() - t0;
          })(),
        ]);
      },
    });
    await during;
    const stored = await settle(cluster, world);
    const mb = (b: number) => Math.round(b / 2 ** 20);
    const growth = rss.map((s) => Math.max(...s) - (s[0] ?? Number.NaN));
    console.log(
      `Redis outage: ${answerSummary(records)}; RSS per node during the ${OUTAGE_MS} ms outage: ` +
        `${rss.map((s) => `${mb(s[0] ?? 0)}→${mb(Math.max(...s))} MB`).join(', ')}; bus up on every node ${busBack} ms and typing across nodes ${back} ms after Redis returned`,
    );
    expectIntact(stored, records, world);
    // Nothing waits for Redis: its publishes are dropped, not queued (the 100,000-publish test below measures that closely).
    for (const g of growth) expect(g).toBeLessThan(64 * 2 ** 20);
    expect(back).toBeLessThanOrEqual(BACK_WITHIN_MS);
    expect(busBack).toBeLessThanOrEqual(BACK_WITHIN_MS);
  });

  it('FLUSHALL and every subscriber connection cut mid-burst: nothing lost or reordered; signals still cross nodes', async () => {
    logsOnFailure(cluster);
    const world = await populate(cluster, ['flush-0', 'flush-1', 'flush-2'], 'flush');
    let cut = 0;
    const { records, during } = await load(world, SENDS, 'flush', {
      when: SENDS / 4,
      run: async () => {
        // The bus keeps no keys, so FLUSHALL takes nothing from it…
        await cluster.flushRedis();
        await sleep(500);
        // …while cutting the subscriber connections (as a failover does) loses every subscription until re-made.
        cut = await cluster.redis.killSubscribers();
      },
    });
    await during;
    const stored = await settle(cluster, world);
    console.log(`FLUSHALL and subscribers cut: ${answerSummary(records)}; ${cut} subscriber connections cut`);
    expect(cut).toBe(cluster.nodes.length);
    expectIntact(stored, records, world);
    expect(await typingCrosses('flush-typing', 'fred')).toBeLessThanOrEqual(BACK_WITHIN_MS);
  });

  // Right after the kill, before the client has noticed: as in a network partition, where that takes long.
  it('a node whose Redis stops answering holds a bounded number of publishes: 100,000 of ~1 KiB leave the heap where it was', async () => {
    const redis = await startRedis();
    let up = false;
    const bus = new RedisBus(redis.url, 'lonely-node', { state: (u) => void (up = u) });
    try {
      await expect.poll(() => up).toBe(true);
      await redis.kill();
      const hint = { type: 'hint' as const, node: 'lonely-node', epoch: 'e', last: 1, messages: [{ room: 'r', seq: 1, id: 'x'.repeat(36), author: 'a', authorId: 'u', text: 'y'.repeat(900), ts: 1 }] };
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 100_000; i++) bus.publish('r', { ...hint, last: i });
      gc?.();
      const grew = process.memoryUsage().heapUsed - before;
      console.log(`bus without Redis: heap grew ${Math.round(grew / 1024)} KiB over 100,000 publishes of ~1 KiB${gc ? '' : ' (no forced GC)'}`);
      // Queued, they would hold about 100 MB; MAX_PENDING_PUBLISHES of them, about a quarter of one.
      expect(grew).toBeLessThan(8 * 2 ** 20);
    } finally {
      await bus.close();
      await redis.dispose();
    }
  });
});
