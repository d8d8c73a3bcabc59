import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisService } from '../../scripts/services/index.ts';
import { OpsSnapshot } from '../../shared/ops.ts';
import { startServer, type TestServer } from './harness.ts';

/**
 * Two nodes and one Redis: each node publishes its sample every second and
 * keeps the other's ring, so either serves the whole cluster's page. The
 * chat's own cross-node behaviour is cluster.integration.test.ts's; here the
 * nodes keep their messages in memory stores of their own.
 */
const TOKEN = 'ops-cluster-token-0123456789';
let redis: RedisService;

beforeAll(async () => {
  redis = await startRedis();
}, 60_000);
afterAll(async () => {
  await redis?.dispose();
});

function node(id: string): Promise<TestServer> {
  return startServer({
    env: { OPS_TOKEN: TOKEN, NODE_ID: id, REDIS_URL: redis.url, DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused', SESSION_SECRET: 'ops-cluster-secret-0123456789abcdef' },
  });
}

async function snapshot(s: TestServer): Promise<OpsSnapshot> {
  const res = await fetch(`${s.url}/api/ops/snapshot`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return OpsSnapshot.parse(await res.json());
}

describe('operations page in a cluster', () => {
  it("shows every node's samples on any node, and a node that stopped stays silent", async () => {
    const [a, b] = await Promise.all([node('node-a'), node('node-b')]);
    try {
      await b.client('on-b');
      await b.client('also-on-b', { transports: ['polling'] });
      // Node A's page shows node B's connections, from B's own samples.
      await expect
        .poll(async () => (await snapshot(a)).nodes.map((n) => [n.node.id, n.samples.at(-1)?.conn]), { timeout: 8000, interval: 250 })
        .toEqual([
          ['node-a', [0, 0, 0, 0]],
          ['node-b', [1, 1, 0, 0]],
        ]);
      const fromB = await snapshot(b);
      expect(fromB.self).toBe('node-b');
      expect(fromB.nodes.map((n) => n.node.id)).toEqual(['node-b', 'node-a']);
      expect(fromB.nodes.every((n) => n.node.state === 'serving' && n.node.protocol !== '')).toBe(true);

      await b.close();
      const heard = (await snapshot(a)).nodes.find((n) => n.node.id === 'node-b')?.heardAt ?? 0;
      await new Promise((r) => setTimeout(r, 2500));
      const later = await snapshot(a);
      const gone = later.nodes.find((n) => n.node.id === 'node-b');
      // Still listed (for a while), not heard from since it stopped.
      expect(gone?.heardAt).toBeLessThanOrEqual(heard + 1100);
      expect(later.now - (gone?.heardAt ?? 0)).toBeGreaterThanOrEqual(2000);
    } finally {
      await a.close();
      await b.close().catch(() => {});
    }
  });
});
