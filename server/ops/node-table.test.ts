import { describe, expect, it } from 'vitest';
import { ACK_BUCKETS, OPS_RING, type OpsReport } from '../../shared/ops.ts';
import { NodeTable } from './node-table.ts';

function report(id: string, t: number): OpsReport {
  return {
    node: { id, version: '0.1.0', protocol: '2.0', startedAt: 0, state: 'serving' },
    sample: {
      t,
      conn: [1, 0, 0, 0],
      messages: t,
      deliveries: 0,
      ack: new Array<number>(ACK_BUCKETS.length + 1).fill(0),
      loopP99: 0.001,
      rssBytes: 1,
      heapBytes: 1,
      rooms: 0,
      queued: 0,
      deepest: 0,
      refusals: {},
      slow: 0,
      failures: {},
      reports: {},
      uploads: 0,
      storedBytes: 0,
    },
    tables: { rooms: [], addresses: [], identities: [] },
  };
}

function table(opts: { maxNodes?: number; ringSize?: number; forgetAfterMs?: number } = {}) {
  let now = 1_000_000;
  const t = new NodeTable({ self: 'self', maxNodes: opts.maxNodes ?? 4, ringSize: opts.ringSize ?? OPS_RING, forgetAfterMs: opts.forgetAfterMs ?? 60_000, now: () => now });
  return { t, advance: (ms: number) => (now += ms) };
}

describe('NodeTable', () => {
  it('keeps at most the ring size per node, however long a node reports', () => {
    const { t } = table();
    for (let i = 1; i <= 5 * OPS_RING; i++) t.record(report('self', i * 1000));
    expect(t.samplesOf('self')).toBe(OPS_RING);
    const [view] = t.views();
    expect(view?.samples).toHaveLength(OPS_RING);
    expect(view?.samples[0]?.t).toBe((4 * OPS_RING + 1) * 1000);
  });

  it('caps the number of nodes held; newcomers are refused while the table is full', () => {
    const { t } = table({ maxNodes: 4 });
    t.record(report('self', 1));
    const refused: string[] = [];
    for (let i = 0; i < 100; i++) if (t.record(report(`peer-${i}`, 1)) === 'full') refused.push(`peer-${i}`);
    expect(t.size).toBe(4);
    expect(refused).toHaveLength(97);
    // Nodes already held keep reporting.
    expect(t.record(report('peer-0', 2))).toBeUndefined();
  });

  it('forgets a node silent for long, never itself, and then has room again', () => {
    const { t, advance } = table({ maxNodes: 2, forgetAfterMs: 60_000 });
    t.record(report('self', 1));
    t.record(report('a', 1));
    expect(t.record(report('b', 1))).toBe('full');
    advance(30_000);
    t.record(report('self', 2));
    advance(31_000);
    expect(t.forgetSilent()).toEqual(['a']);
    expect(t.record(report('b', 2))).toBeUndefined();
    advance(10 * 60_000);
    expect(t.forgetSilent()).toEqual(['b']);
    expect(t.views().map((v) => v.node.id)).toEqual(['self']);
  });

  it('drops a sample that is not newer than the last one kept for its node', () => {
    const { t } = table();
    expect(t.record(report('a', 5000))).toBeUndefined();
    expect(t.record(report('a', 5000))).toBe('stale');
    expect(t.record(report('a', 4000))).toBe('stale');
    expect(t.samplesOf('a')).toBe(1);
  });

  it('lists itself first, and only newer samples when told what was sent', () => {
    const { t } = table();
    for (const id of ['b', 'self', 'a']) for (let s = 1; s <= 3; s++) t.record(report(id, s * 1000));
    expect(t.views().map((v) => v.node.id)).toEqual(['self', 'a', 'b']);
    const since = new Map([
      ['self', 2000],
      ['a', 3000],
    ]);
    expect(t.views(since).map((v) => [v.node.id, v.samples.map((s) => s.t)])).toEqual([
      ['self', [3000]],
      ['a', []],
      ['b', [1000, 2000, 3000]],
    ]);
  });
});
