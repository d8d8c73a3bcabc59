import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsOnFailure, startTestCluster, type Cluster } from './fixture.ts';
import { sleep } from './peers.ts';
import { answerSummary, expectIntact, load, populate, settle } from './scenario.ts';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const SENDS = 3000;
const OUTAGE_MS = 3000;

describe('PostgreSQL goes away', () => {
  it('stopped immediately mid-burst and restarted: every acked message survives; meanwhile sends are answered unavailable with retryAfterMs, nothing else', async () => {
    logsOnFailure(cluster);
    const world = await populate(cluster, ['pg-0', 'pg-1', 'pg-2'], 'pg');
    // A counter with a label appears on /metrics once counted: absent is 0.
    const commitFailures = async () =>
      (await Promise.all(cluster.nodes.map((_, i) => cluster.metric(i, 'fiberchat_failures_total', '{kind="commit"}')))).reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
    const commitFailuresBefore = await commitFailures();
    const { records, during } = await load(world, SENDS, 'pg', {
      when: SENDS / 3,
      run: async () => {
        // Like a crash of the database server: no checkpoint, backends killed; recovery on the next start.
        await cluster.stopPostgres('immediate');
        await sleep(OUTAGE_MS);
        await cluster.startPostgres();
      },
    });
    await during;
    const stored = await settle(cluster, world);
    console.log(`PostgreSQL outage: ${answerSummary(records)}`);

    // No node crashed, and no client lost its connection over it.
    for (const n of cluster.nodes) expect(n.running, n.name).toBe(true);
    for (const p of world.subscribers) if ('sessions' in p) expect(p.sessions, p.name).toHaveLength(1);
    // The outage was felt: commits failed, and sends were refused…
    expect(await commitFailures()).toBeGreaterThan(commitFailuresBefore);
    const answers = records.flatMap((r) => r.answers);
    const refused = answers.filter((a) => a.outcome !== 'ok' && a.outcome !== 'duplicate');
    expect(refused.length).toBeGreaterThan(0);
    // …each with `unavailable` and a retry hint, and nothing else: no other code, no silence.
    expect(refused.filter((a) => a.outcome !== 'unavailable' || !(Number(a.retryAfterMs) > 0))).toEqual([]);
    // A retried send that turns out stored is answered with its original seq (checked by expectIntact).
    expectIntact(stored, records, world);
  });
});
