import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsOnFailure, startTestCluster, type Cluster } from './fixture.ts';
import { answerSummary, expectIntact, load, populate, settle } from './scenario.ts';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const SENDS = 3000;
const VICTIM = 1;

describe('a node dies', () => {
  it('kill -9 mid-burst: every ack is in PostgreSQL; after retries with the same clientId no gap and no duplicate; its clients are back on other nodes', async () => {
    logsOnFailure(cluster);
    const world = await populate(cluster, ['crash-0', 'crash-1', 'crash-2'], 'crash');
    const victims = world.startedOn(VICTIM);
    let killedAt = 0;
    const { records, during } = await load(world, SENDS, 'crash', {
      when: SENDS / 3,
      run: async () => {
        killedAt = Date.now();
        await cluster.killNode(VICTIM);
      },
    });
    await during;
    const stored = await settle(cluster, world);
    console.log(`node crash: ${answerSummary(records)}; burst ended ${Date.now() - killedAt} ms after the kill`);

    expect(killedAt).toBeGreaterThan(0);
    expect(cluster.node(VICTIM).running).toBe(false);
    expectIntact(stored, records, world);
    // The victim's clients lost their connection and came back, through HAProxy, on another node.
    for (const p of victims) {
      expect(p.sessions.length, p.name).toBeGreaterThanOrEqual(2);
      expect(p.cookie, p.name).not.toBe(cluster.cookieFor(VICTIM));
    }
    // Clients of the other nodes kept their one connection.
    for (const i of [0, 2]) for (const p of world.startedOn(i)) expect(p.sessions, p.name).toHaveLength(1);
  });
});
