import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../../scripts/services/index.ts';
import { RedisBus } from '../cluster/bus.ts';
import { PgStore } from '../store/pg-store.ts';
import { cid, startServer, type TestServer } from './harness.ts';

/**
 * No Redis failure disappears: a publish that Redis never answers because it
 * died is logged and counted (`fiberchat_failures_total{kind="bus"}` and
 * `{kind="ops_channel"}`), and the node goes on serving from its store.
 */
let pg: PostgresService;
let redis: RedisService;
let s: TestServer | undefined;
beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
}, 90_000);
afterAll(async () => {
  await s?.close();
  await Promise.all([pg?.dispose(), redis?.dispose()]);
});

async function failures(server: TestServer, kind: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`fiberchat_failures_total{kind="${kind}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('Redis dies under a node', () => {
  it('every publish it leaves unanswered is logged and counted, and sends still succeed', async () => {
    const logged: string[] = [];
    s = await startServer({
      store: new PgStore({ url: pg.url }),
      env: { REDIS_URL: redis.url, DATABASE_URL: pg.url, NODE_ID: 'node-a', OPS_TOKEN: 'ops-token-0123456789abcdef' },
      onLog: (line) => {
        if (typeof line.msg === 'string' && line.msg.includes('a Redis call failed')) logged.push(line.msg);
      },
    });
    const alice = await s.client('alice');
    expect((await alice.emitWithAck('join', { room: 'r' })).ok).toBe(true);
    expect(await failures(s, 'bus')).toBe(0);
    const pid = redis.pid;
    if (pid === undefined) throw new Error('redis is not running');
    // Frozen, Redis keeps its connections open and answers nothing: each commit's hint waits for a reply...
    process.kill(pid, 'SIGSTOP');
    for (let i = 0; i < 5; i++) expect((await alice.emitWithAck('send', { room: 'r', text: `while frozen ${i}`, clientId: cid() })).ok).toBe(true);
    // The operations channel publishes its report once a second: one goes out into the frozen Redis too.
    await new Promise((r) => setTimeout(r, 1_500));
    // ...until it dies, which fails every publish still waiting.
    await redis.kill();
    await expect.poll(() => failures(s as TestServer, 'bus'), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    expect(logged.some((m) => m.startsWith('bus:'))).toBe(true);
    expect(await failures(s, 'ops_channel')).toBeGreaterThanOrEqual(1);
    // The store carries on: sends are acked while Redis is gone.
    expect((await alice.emitWithAck('send', { room: 'r', text: 'after', clientId: cid() })).ok).toBe(true);
    alice.disconnect();
  });

  it('is reported down the moment Redis goes, before any reconnect fails, and up once both connections are back', async () => {
    await redis.start();
    const states: Array<{ up: boolean; error: boolean }> = [];
    const bus = new RedisBus(redis.url, 'node-b', { state: (up, error) => states.push({ up, error: error !== undefined }) });
    try {
      await expect.poll(() => states.at(-1)?.up, { timeout: 10_000 }).toBe(true);
      states.length = 0;
      await redis.kill();
      // Down from the closed connection itself: no error has been raised yet (the first retry is 200 ms away).
      await expect.poll(() => states.length, { timeout: 2_000, interval: 5 }).toBeGreaterThan(0);
      expect(states[0]).toEqual({ up: false, error: false });
      await redis.start();
      await expect.poll(() => states.at(-1)?.up, { timeout: 10_000 }).toBe(true);
    } finally {
      await bus.close();
    }
  });
});
