/**
 * The cluster scenario: what a second node, Redis and PostgreSQL cost a
 * message, as ratios measured in the same run.
 *
 * - Two Fiberchat nodes on one throwaway PostgreSQL and one redis-server
 *   (scripts/services), configured as `npm run cluster` configures them.
 *   Four publishers on node A send at a fixed rate (open loop, as in the
 *   latency scenario); the subscribers sit on node A (same-node) or on node
 *   B (cross-node: each message reaches B as a hint through Redis). The two
 *   kinds of run alternate, `rounds` of each, each in a room of its own;
 *   figures are medians over the runs.
 * - One node on PostgreSQL (no Redis: a single process) against the same
 *   node on SQLite: fan-out with interleaved windows, as in the fan-out
 *   scenario, so both see the same background load.
 *
 * Both nodes are pinned to the server core like every target; PostgreSQL and
 * Redis are not pinned, and share the machine with the generator.
 */
import { randomBytes } from 'node:crypto';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../scripts/services/index.ts';
import { runGenerator } from './lib/generator-run.ts';
import { quantile } from './lib/stats.ts';
import { startTarget, type Target } from './lib/targets.ts';
import { interleavedFanout, type Plan } from './scenarios.ts';

type Fig = Record<string, unknown>;
type Where = 'same' | 'cross';

const median = (xs: number[]) => quantile(xs, 0.5);
const latOf = (r: Fig, q: 'p50' | 'p99') => (r.latencyMs as Record<string, number>)[q] as number;

/** Medians over the runs of one kind, and each run's own figures. */
function summarize(runs: Fig[]): Fig {
  return {
    latencyMs: { p50: median(runs.map((r) => latOf(r, 'p50'))), p99: median(runs.map((r) => latOf(r, 'p99'))) },
    deliveriesPerSec: median(runs.map((r) => r.deliveriesPerSec as number)),
    sendsPerSec: median(runs.map((r) => r.sendsPerSec as number)),
    failed: runs.reduce((n, r) => n + (r.failed as number), 0),
    skipped: runs.reduce((n, r) => n + (r.skipped as number), 0),
    generatorCpu: median(runs.map((r) => r.generatorCpu as number)),
    runs: runs.map((r) => ({ p50: latOf(r, 'p50'), p99: latOf(r, 'p99'), deliveriesPerSec: r.deliveriesPerSec })),
  };
}

export async function cluster(plan: Plan, progress: (s: string) => void): Promise<Fig> {
  const c = plan.cluster;
  let pg: PostgresService | undefined;
  let redis: RedisService | undefined;
  const targets: Target[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const t = await startTarget('fiberchat', { env });
    targets.push(t);
    return t;
  };
  try {
    progress('cluster: starting PostgreSQL, redis-server and two nodes');
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    // One session secret: tokens made on node A are valid on node B.
    const common = { DATABASE_URL: pg.url, REDIS_URL: redis.url, SESSION_SECRET: randomBytes(32).toString('hex'), STORE_CHECK_MS: '1000' };
    const a = await start({ ...common, NODE_ID: 'node-a' });
    const b = await start({ ...common, NODE_ID: 'node-b' });
    const runs: Record<Where, Fig[]> = { same: [], cross: [] };
    for (let round = 0; round < c.rounds; round++) {
      const order: Where[] = round % 2 === 0 ? ['same', 'cross'] : ['cross', 'same'];
      for (const where of order) {
        progress(`cluster: ${where}-node send→receive at ${c.rate} msg/s, ${c.subscribers} subscribers (round ${round + 1} of ${c.rounds})`);
        const r = await runGenerator({
          port: (where === 'same' ? a : b).port,
          publisherPort: a.port,
          tokens: a.tokens,
          publisherTokens: a.publisherTokens,
          deadlineMs: 120_000,
          kind: 'latency',
          transport: 'websocket',
          room: `cluster-${where}-${round}`,
          subscribers: c.subscribers,
          publishers: 4,
          rate: c.rate,
          textBytes: 100,
          warmupMs: c.warmupMs,
          measureMs: c.measureMs,
          ajaxIntervalMs: 1000,
        });
        runs[where].push(r);
      }
    }
    for (const t of targets.splice(0)) await t.close();

    progress(`cluster: fan-out ${c.store.subscribers} subscribers on one node, PostgreSQL against SQLite`);
    const sqlite = await start();
    const postgres = await start({ DATABASE_URL: pg.url });
    const store = await interleavedFanout(
      [
        { name: 'sqlite', t: sqlite },
        { name: 'postgres', t: postgres },
      ],
      c.store,
    );
    return { nodes: 2, rate: c.rate, subscribers: c.subscribers, rounds: c.rounds, sameNode: summarize(runs.same), crossNode: summarize(runs.cross), store };
  } finally {
    for (const t of targets) await t.close();
    await redis?.dispose();
    await pg?.dispose();
  }
}
