import { describe, expect, it } from 'vitest';
import { ACK_BUCKETS, OPS_RING, type OpsNodeView, type OpsSample } from '../../../shared/ops.ts';
import { displayTag } from '../../../shared/text-rules.ts';
import { gauge, latency, latencyAll, layout, merge, perMinute, rate, sumAcross } from './ops-model.ts';
import { buildPanels, reportLabel } from './panels.ts';
import { identityRows, nodeRows, refusalRows, roomRows } from './tables.ts';

const T0 = 1_700_000_000_000;

function sample(sec: number, over: Partial<OpsSample> = {}): OpsSample {
  return {
    t: T0 + sec * 1000,
    conn: [0, 0, 0, 0],
    messages: 0,
    deliveries: 0,
    ack: new Array<number>(ACK_BUCKETS.length + 1).fill(0),
    loopP99: 0,
    rssBytes: 0,
    heapBytes: 0,
    rooms: 0,
    queued: 0,
    deepest: 0,
    refusals: {},
    slow: 0,
    failures: {},
    reports: {},
    uploads: 0,
    storedBytes: 0,
    ...over,
  };
}

function view(id: string, samples: OpsSample[], over: Partial<OpsNodeView> = {}): OpsNodeView {
  return {
    node: { id, version: '0.1.0', protocol: '2.0', startedAt: T0 - 60_000, state: 'serving' },
    heardAt: samples.at(-1)?.t ?? T0,
    samples,
    tables: { rooms: [], addresses: [], identities: [] },
    ...over,
  };
}

/** The last `n` slots of a series. */
const tail = <T>(xs: T[], n: number) => xs.slice(-n);

/** Cumulative ack buckets with `n` observations all in the bucket ending at `bound`. */
function acks(n: number, bound: number): number[] {
  return [...ACK_BUCKETS.map((b) => (b >= bound ? n : 0)), n];
}

describe('merge', () => {
  it('replaces everything on a snapshot and appends only newer samples on a tick', () => {
    const held = merge([], { now: T0, self: 'a', nodes: [view('a', [sample(1), sample(2)])] }, 'snapshot');
    const next = merge(held, { now: T0, self: 'a', nodes: [view('a', [sample(2), sample(3)]), view('b', [sample(3)])] }, 'tick');
    expect(next.map((n) => [n.node.id, n.samples.map((s) => s.t - T0)])).toEqual([
      ['a', [1000, 2000, 3000]],
      ['b', [3000]],
    ]);
    // A node missing from a tick was forgotten by the server.
    expect(merge(next, { now: T0, self: 'a', nodes: [view('a', [])] }, 'tick').map((n) => n.node.id)).toEqual(['a']);
  });

  it('never holds more than the ring of samples per node', () => {
    let held = merge([], { now: T0, self: 'a', nodes: [view('a', [])] }, 'snapshot');
    for (let i = 1; i <= OPS_RING + 50; i++) held = merge(held, { now: T0, self: 'a', nodes: [view('a', [sample(i)])] }, 'tick');
    expect(held[0]?.samples).toHaveLength(OPS_RING);
  });
});

describe('series', () => {
  it('bins samples by second on a 15-minute axis ending at the newest sample', () => {
    const data = layout([view('a', [sample(10), sample(11.4), sample(12.6)])], 'a', T0);
    expect(data.x).toHaveLength(OPS_RING);
    expect(tail(data.x, 1)).toEqual([T0 / 1000 + 13]);
    expect(tail(data.nodes[0]?.slots ?? [], 4).map((s) => (s ? s.t - T0 : null))).toEqual([10_000, 11_400, null, 12_600]);
  });

  it.each([
    { name: 'steady counter', totals: [0, 5, 10, 15], secs: [1, 2, 3, 4], want: [null, 5, 5, 5] },
    { name: 'two seconds apart', totals: [0, 10], secs: [1, 3], want: [null, null, 5] },
    { name: 'restart (the total went down)', totals: [100, 110, 3, 8], secs: [1, 2, 3, 4], want: [null, 10, null, 5] },
    { name: 'too long a gap', totals: [0, 60], secs: [1, 8], want: [null, null, null, null, null, null, null, null] },
  ])('rate: $name', ({ totals, secs, want }) => {
    const samples = totals.map((m, i) => sample(secs[i] as number, { messages: m }));
    const data = layout([view('a', samples)], 'a', T0);
    const r = rate(data.nodes[0] as never, (s) => s.messages);
    expect(tail(r, want.length)).toEqual(want);
  });

  it('holds a rate over a second left empty by two samples that fell into the one before', () => {
    // 2.0 and 2.4 both round to second 2 (the later one is kept); second 3 gets none.
    const samples = [sample(1, { messages: 0 }), sample(2, { messages: 4 }), sample(2.4, { messages: 8 }), sample(4, { messages: 12 })];
    const data = layout([view('a', samples)], 'a', T0);
    expect(tail(rate(data.nodes[0] as never, (s) => s.messages), 4)).toEqual([null, 8 / 1.4, 8 / 1.4, 4 / 1.6]);
  });

  it('ends the axis at the newest second every live node has reported', () => {
    const now = T0 + 10_000;
    const views = [view('a', [sample(8), sample(9), sample(10)], { heardAt: now }), view('b', [sample(8), sample(9)], { heardAt: now - 500 })];
    expect(tail(layout(views, 'a', now).x, 1)).toEqual([T0 / 1000 + 9]);
    // A silent node does not hold it back.
    const silent = [views[0] as OpsNodeView, view('b', [sample(2)], { heardAt: T0 + 2000 })];
    expect(tail(layout(silent, 'a', now).x, 1)).toEqual([T0 / 1000 + 10]);
  });

  it('holds a gauge over a missing second or two, not longer', () => {
    const data = layout([view('a', [sample(1, { rooms: 4 }), sample(5, { rooms: 6 })])], 'a', T0);
    expect(tail(gauge(data.nodes[0] as never, (s) => s.rooms), 6)).toEqual([null, 4, 4, 4, null, 6]);
  });

  it('sums across nodes where any has a value', () => {
    expect(sumAcross([[1, null, null], [2, 3, null]])).toEqual([3, 3, null]);
  });

  it('computes latency quantiles per node and for all nodes from their added buckets', () => {
    const a = view('a', [sample(1, { ack: acks(0, 0.001) }), sample(2, { ack: acks(10, 0.001) })]);
    const b = view('b', [sample(1, { ack: acks(0, 1) }), sample(2, { ack: acks(10, 1) })]);
    const data = layout([a, b], 'a', T0);
    // Node a: every ack in (0.5 ms, 1 ms]; its p50 is 0.75 ms.
    expect(tail(latency(data.nodes[0] as never, 0.5), 1)[0]).toBeCloseTo(0.75, 6);
    // Together: half the acks at most 1 ms, half in (0.5 s, 1 s]: the p99 is in the slow node's bucket.
    expect(tail(latencyAll(data.nodes, 0.99), 1)[0]).toBeGreaterThan(500);
    expect(tail(latencyAll(data.nodes, 0.25), 1)[0]).toBeLessThanOrEqual(1);
  });

  it('counts reported fallbacks over a trailing minute', () => {
    const samples = [sample(1), sample(2, { reports: { 'fallback:ajax': 2 } }), sample(3, { reports: { 'fallback:ajax': 3 } })];
    for (let s = 4; s <= 70; s++) samples.push(sample(s, { reports: { 'fallback:ajax': 3 } }));
    const data = layout([view('a', samples)], 'a', T0);
    const series = perMinute(data.nodes, (s) => s.reports['fallback:ajax'] ?? 0);
    const at = (sec: number) => series[series.length - 1 - (70 - sec)];
    expect([at(2), at(3), at(61), at(62), at(63)]).toEqual([2, 3, 3, 1, 0]);
    expect(reportLabel('fallback:ajax')).toBe('fallback to Ajax polling');
  });
});

describe('panels', () => {
  it('draws per-node lines only when there are several nodes', () => {
    const one = buildPanels(layout([view('a', [sample(1)])], 'a', T0));
    expect(one.map((p) => p.id)).toEqual(['connections', 'throughput', 'latency', 'loop', 'memory', 'rooms', 'refusals', 'uploads', 'stored', 'transports']);
    expect(one.flatMap((p) => p.series).some((s) => s.perNode)).toBe(false);
    const two = buildPanels(layout([view('a', [sample(1)]), view('b', [sample(1)])], 'a', T0));
    expect(two.find((p) => p.id === 'connections')?.series.map((s) => s.label)).toEqual(['WebSocket', 'Long-polling', 'Server-Sent Events', 'Ajax polling', 'a all', 'b all']);
  });

  it('shows a line per refusal reason ever seen', () => {
    const data = layout([view('a', [sample(1, { refusals: { rate_read: 1 } }), sample(2, { refusals: { rate_read: 4, in_flight: 1 } })])], 'a', T0);
    const refusals = buildPanels(data).find((p) => p.id === 'refusals');
    expect(refusals?.series.map((s) => [s.label, tail(s.values, 1)[0]])).toEqual([
      ['in_flight', 1],
      ['rate_read', 3],
      ['slow consumers', 0],
    ]);
  });
});

describe('tables', () => {
  it('lists nodes with their state, silence and the totals /metrics serves', () => {
    const now = T0 + 20_000;
    const data = layout(
      [view('a', [sample(19, { conn: [2, 1, 0, 3], messages: 7, refusals: { rate_read: 2, in_flight: 1 } })]), view('b', [sample(5)], { heardAt: T0 + 5000 })],
      'a',
      now,
    );
    const rows = nodeRows(data);
    expect(rows.map((r) => [r.id, r.self, r.status, r.uptimeMs])).toEqual([
      ['a', true, 'serving', 80_000],
      ['b', false, 'silent 15 s', 80_000],
    ]);
    expect(rows[0]?.figures.slice(0, 5)).toEqual([
      { metric: 'fiberchat_connections{transport="websocket"}', value: 2 },
      { metric: 'fiberchat_connections{transport="long-polling"}', value: 1 },
      { metric: 'fiberchat_connections{transport="sse"}', value: 0 },
      { metric: 'fiberchat_connections{transport="ajax"}', value: 3 },
      { metric: 'fiberchat_messages_total', value: 7 },
    ]);
    expect(refusalRows(data)).toEqual([
      { reason: 'rate_read', total: 2 },
      { reason: 'in_flight', total: 1 },
    ]);
  });

  it('merges rooms and refusers across nodes; names people as the chat does', () => {
    const tablesA = {
      rooms: [
        { label: 'lobby', kind: 'public' as const, subscribers: 3, perMin: 10, depth: 1 },
        { label: 'K3F9', kind: 'private' as const, subscribers: 1, perMin: 1, depth: 0 },
      ],
      addresses: [{ address: '10.0.0.1', perMin: 2 }],
      identities: [{ userId: 'u1', name: 'sam', perMin: 2 }],
    };
    const tablesB = {
      rooms: [{ label: 'lobby', kind: 'public' as const, subscribers: 2, perMin: 5, depth: 4 }],
      addresses: [{ address: '10.0.0.1', perMin: 1 }],
      identities: [{ userId: 'u1', name: 'sam', perMin: 1 }],
    };
    const data = layout([view('a', [sample(1)], { tables: tablesA }), view('b', [sample(1)], { tables: tablesB })], 'a', T0);
    expect(roomRows(data)).toEqual([
      { name: '#lobby', subscribers: 5, perMin: 15, depth: 4 },
      { name: 'private room K3F9', subscribers: 1, perMin: 1, depth: 0 },
    ]);
    expect(identityRows(data)).toEqual([{ name: 'sam', tag: displayTag('u1'), perMin: 3 }]);
  });
});
