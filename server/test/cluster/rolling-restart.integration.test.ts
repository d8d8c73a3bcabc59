import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StopResult } from '../../../scripts/cluster-lib.ts';
import { logsOnFailure, startTestCluster, type Cluster } from './fixture.ts';
import { answerSummary, expectIntact, load, populate, settle } from './scenario.ts';

const DRAIN_MS = 1500;
/** What SIGTERM may take beyond the drain: SHUTDOWN_TIMEOUT_MS, the server's own limit. */
const SHUTDOWN_MS = 5000;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster({ drainMs: DRAIN_MS, env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS) } });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('a rolling restart', () => {
  it('SIGTERM to each node in turn under load: each exits 0 within DRAIN_MS + 5 s, nothing is lost, no client sees a gap', async () => {
    logsOnFailure(cluster);
    const world = await populate(cluster, ['roll-0', 'roll-1', 'roll-2'], 'roll');
    const exits: Array<StopResult & { node: string }> = [];
    const { records, during } = await load(world, 100_000, 'roll', {
      when: 300,
      run: async () => {
        for (let i = 0; i < cluster.nodes.length; i++) {
          exits.push({ node: cluster.node(i).name, ...(await cluster.stopNode(i)) });
          // Back on its port, and in HAProxy's rotation, before the next one goes.
          await cluster.startNode(i);
        }
      },
      thenStopMs: 2000,
    });
    await during;
    const stored = await settle(cluster, world);
    console.log(`rolling restart: ${answerSummary(records)}; exits ${exits.map((e) => `${e.node} ${e.signal ?? e.code} in ${e.ms} ms`).join(', ')}`);

    expect(exits.map((e) => [e.node, e.code, e.signal])).toEqual(cluster.nodes.map((n) => [n.name, 0, null]));
    for (const e of exits) expect(e.ms, e.node).toBeLessThanOrEqual(DRAIN_MS + SHUTDOWN_MS);
    expectIntact(stored, records, world);
    // Every socket client was moved at least once, and came back.
    for (const p of world.subscribers) if ('sessions' in p) expect(p.sessions.length, p.name).toBeGreaterThanOrEqual(2);
  });
});
