import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../../scripts/services/index.ts';
import type { Message } from '../../shared/protocol.ts';
import { PgStore } from '../store/pg-store.ts';
import { cid, collect, startServer, type TestServer } from './harness.ts';

/**
 * Two nodes in one process (two apps, two PgStores on one database, one
 * Redis): the store orders, the bus hints, and every subscriber on every
 * node sees each message once, in seq order, whichever node took it.
 */
let pg: PostgresService;
let redis: RedisService;
const SECRET = 'cluster-test-secret-0123456789abcdef';

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
}, 90_000);
afterAll(async () => {
  await Promise.all([pg?.dispose(), redis?.dispose()]);
});

async function node(name: string): Promise<TestServer> {
  return startServer({
    store: new PgStore({ url: pg.url }),
    env: { REDIS_URL: redis.url, DATABASE_URL: pg.url, NODE_ID: name, SESSION_SECRET: SECRET, STORE_CHECK_MS: '500', PRESENCE_GRACE_MS: '200' },
  });
}

describe('two nodes', () => {
  it('deliver across nodes in seq order, also while Redis is down, and share presence and typing', async () => {
    const [a, b] = await Promise.all([node('node-a'), node('node-b')]);
    try {
      const alice = await a.client('alice');
      const bob = await b.client('bob');
      const seen = collect(alice, 'messages');
      const presence = collect(alice, 'presence');
      const typing = collect(alice, 'typing');
      expect((await alice.emitWithAck('join', { room: 'x' })).ok).toBe(true);
      expect((await bob.emitWithAck('join', { room: 'x' })).ok).toBe(true);
      // Presence crosses nodes: alice (node A) sees bob (node B).
      await expect.poll(() => presence.at(-1)?.members, { timeout: 5000 }).toEqual(['alice', 'bob']);

      for (let i = 1; i <= 20; i++) await bob.emitWithAck('send', { room: 'x', text: `b${i}`, clientId: cid() });
      await expect.poll(() => seen.flatMap((e) => e.messages).length, { timeout: 5000 }).toBe(20);

      // Typing crosses nodes.
      await bob.emitWithAck('typing', { room: 'x' });
      await expect.poll(() => typing.at(-1)?.typing, { timeout: 5000 }).toEqual(['bob']);

      // Redis goes away: delivery continues from the store check.
      await redis.kill();
      for (let i = 21; i <= 30; i++) await bob.emitWithAck('send', { room: 'x', text: `b${i}`, clientId: cid() });
      await expect.poll(() => seen.flatMap((e) => e.messages).length, { timeout: 5000 }).toBe(30);
      await redis.start();
      for (let i = 31; i <= 40; i++) await alice.emitWithAck('send', { room: 'x', text: `a${i}`, clientId: cid() });
      const bobSeen = collect(bob, 'messages');
      await bob.emitWithAck('send', { room: 'x', text: 'last', clientId: cid() });
      await expect.poll(() => seen.flatMap((e) => e.messages).length, { timeout: 5000 }).toBe(41);
      const seqs = seen.flatMap((e) => e.messages.map((m: Message) => m.seq));
      expect(seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
      expect(bobSeen.flatMap((e) => e.messages.map((m) => m.seq)).at(-1)).toBe(41);

      // The user with one tab on each node is one member; closing node B's tab leaves alice's view within the TTL.
      bob.disconnect();
      await expect.poll(() => presence.at(-1)?.members, { timeout: 5000 }).toEqual(['alice']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
