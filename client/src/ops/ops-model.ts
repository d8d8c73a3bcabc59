/**
 * The operations page's data, without React or the network: what the
 * server streamed (each node's samples and tables), merged, and turned into
 * the plots' series and the tables' rows. Everything here is pure and
 * table-tested; the page only renders it.
 *
 * Samples are binned by second on one time axis shared by every node (15
 * minutes to the newest sample). A node's counters become rates as the
 * difference of consecutive samples over the time between them; a total that
 * went down means the node restarted, and that second shows no rate.
 */
import { ACK_BUCKETS, OPS_RING, quantileFromBuckets, type OpsNodeView, type OpsSample, type OpsSnapshot } from '../../../shared/ops.ts';

/** Samples further apart than this are not differenced (a node paused or lost samples). */
const MAX_GAP_S = 5;
/** A node's gauge stays on the plot for this many seconds without a sample (sample times jitter around second marks). */
const CARRY_S = 2;
/** Window of the fallback and upgrade counts: per minute. */
const REPORT_WINDOW_S = 60;
/** A node not heard from for this long does not hold the axis back (see `layout`). */
const LIVE_MS = 5_000;

export type Values = Array<number | null>;

export interface NodeData {
  view: OpsNodeView;
  /** One slot per second of the axis: the sample taken in that second, if any. */
  slots: Array<OpsSample | undefined>;
}

/** Everything the page shows, as of one event from the server. */
export interface OpsData {
  self: string;
  /** The server's clock at the event (ms). */
  now: number;
  /** Seconds (Unix time) of the axis, oldest first. */
  x: number[];
  nodes: NodeData[];
}

/** Merges a `snapshot` (replacing everything) or a `tick` (adding the new samples) into the held views. */
export function merge(held: readonly OpsNodeView[], event: OpsSnapshot, kind: 'snapshot' | 'tick'): OpsNodeView[] {
  if (kind === 'snapshot') return event.nodes.map((n) => ({ ...n, samples: n.samples.slice(-OPS_RING) }));
  const before = new Map(held.map((n) => [n.node.id, n]));
  return event.nodes.map((n) => {
    const old = before.get(n.node.id);
    const last = old?.samples.at(-1)?.t ?? -Infinity;
    const fresh = n.samples.filter((s) => s.t > last);
    const samples = old ? [...old.samples, ...fresh].slice(-OPS_RING) : n.samples;
    return { ...n, samples };
  });
}

/**
 * Bins every node's samples onto one axis of `OPS_RING` seconds. It ends at
 * the newest second every live node has reported: the nodes sample at
 * different moments of a second and a peer's sample arrives a little later,
 * so a later end would show totals with a node missing from the last point.
 */
export function layout(views: readonly OpsNodeView[], self: string, now: number): OpsData {
  let newest = 0;
  let complete = Infinity;
  for (const v of views) {
    const t = v.samples.at(-1)?.t ?? 0;
    newest = Math.max(newest, t);
    if (now - v.heardAt <= LIVE_MS && t > 0) complete = Math.min(complete, t);
  }
  const end = Math.round((complete === Infinity ? newest || now : complete) / 1000);
  const start = end - OPS_RING + 1;
  const x = Array.from({ length: OPS_RING }, (_, i) => start + i);
  const nodes = views.map((view) => {
    const slots = new Array<OpsSample | undefined>(OPS_RING).fill(undefined);
    for (const s of view.samples) {
      const i = Math.round(s.t / 1000) - start;
      if (i >= 0 && i < OPS_RING) slots[i] = s;
    }
    return { view, slots };
  });
  return { self, now, x, nodes };
}

/** A gauge of one node per slot, held for up to `CARRY_S` seconds over missing samples. */
export function gauge(node: NodeData, read: (s: OpsSample) => number): Values {
  const out: Values = [];
  let last: number | null = null;
  let age = Infinity;
  for (const s of node.slots) {
    if (s) {
      last = read(s);
      age = 0;
    } else age++;
    out.push(age <= CARRY_S ? last : null);
  }
  return out;
}

/**
 * Per-second rate of one node's counter: the difference from its previous
 * sample, over the time between them; held over a second or two without a
 * sample (two samples that fell into one second leave the next one empty).
 */
export function rate(node: NodeData, read: (s: OpsSample) => number): Values {
  const rates = differences(node, (cur, prev, dt) => {
    const d = read(cur) - read(prev);
    return d < 0 ? null : d / dt;
  });
  return carry(node, rates);
}

/** Repeats each value over the empty slots after it, up to `CARRY_S` of them (a slot with a sample keeps its own value, null or not). */
function carry(node: NodeData, values: Values): Values {
  let last: number | null = null;
  let age = Infinity;
  return values.map((v, i) => {
    if (node.slots[i]) {
      last = v;
      age = 0;
      return v;
    }
    age++;
    return age <= CARRY_S ? last : null;
  });
}

/** The q-quantile of one node's send→ack latency over each second, in milliseconds. */
export function latency(node: NodeData, q: number): Values {
  return differences(node, (cur, prev) => quantileMs(bucketDelta(cur, prev), q));
}

/** The q-quantile of every node's send→ack latency together (their bucket counts added), in milliseconds. */
export function latencyAll(nodes: readonly NodeData[], q: number): Values {
  const perNode = nodes.map((n) => differences(n, (cur, prev) => bucketDelta(cur, prev)));
  return perNode[0]?.map((_, i) => {
    let sum: number[] | null = null;
    for (const series of perNode) {
      const d = series[i];
      if (!d) continue;
      sum = sum ? sum.map((v, j) => v + (d[j] ?? 0)) : [...d];
    }
    return sum ? quantileMs(sum, q) : null;
  }) ?? [];
}

/** Increments of a counter per slot (0 where nothing changed, a restart counted from zero). */
function increments(node: NodeData, read: (s: OpsSample) => number): Values {
  return differences(node, (cur, prev) => Math.max(0, read(cur) - read(prev)));
}

/** Trailing sum over the last `REPORT_WINDOW_S` seconds of every node's increments: events per minute. */
export function perMinute(nodes: readonly NodeData[], read: (s: OpsSample) => number): Values {
  const total = sumAcross(nodes.map((n) => increments(n, read)));
  const out: Values = [];
  let windowSum = 0;
  for (let i = 0; i < total.length; i++) {
    windowSum += total[i] ?? 0;
    if (i >= REPORT_WINDOW_S) windowSum -= total[i - REPORT_WINDOW_S] ?? 0;
    out.push(total[i] === null && windowSum === 0 ? null : windowSum);
  }
  return out;
}

/** Slot-wise sum; null where no series has a value. */
export function sumAcross(series: readonly Values[]): Values {
  const len = series[0]?.length ?? 0;
  return Array.from({ length: len }, (_, i) => {
    let sum: number | null = null;
    for (const s of series) {
      const v = s[i];
      if (v !== null && v !== undefined) sum = (sum ?? 0) + v;
    }
    return sum;
  });
}

/** Slot-wise maximum; null where no series has a value. */
export function maxAcross(series: readonly Values[]): Values {
  const len = series[0]?.length ?? 0;
  return Array.from({ length: len }, (_, i) => {
    let max: number | null = null;
    for (const s of series) {
      const v = s[i];
      if (v !== null && v !== undefined) max = max === null ? v : Math.max(max, v);
    }
    return max;
  });
}

/** Every label of a per-label counter seen in any sample of any node, sorted. */
export function labelsOf(nodes: readonly NodeData[], read: (s: OpsSample) => Record<string, number>): string[] {
  const keys = new Set<string>();
  for (const n of nodes) for (const s of n.view.samples) for (const k of Object.keys(read(s))) keys.add(k);
  return [...keys].sort();
}

/** Applies `f(current, previous, seconds between)` to each slot with a sample and a recent previous one. */
function differences<T>(node: NodeData, f: (cur: OpsSample, prev: OpsSample, dt: number) => T | null): Array<T | null> {
  const out: Array<T | null> = [];
  let prev: OpsSample | undefined;
  for (const s of node.slots) {
    if (!s) {
      out.push(null);
      continue;
    }
    const dt = prev ? (s.t - prev.t) / 1000 : 0;
    out.push(prev && dt > 0 && dt <= MAX_GAP_S ? f(s, prev, dt) : null);
    prev = s;
  }
  return out;
}

function bucketDelta(cur: OpsSample, prev: OpsSample): number[] | null {
  const d = cur.ack.map((v, i) => v - (prev.ack[i] ?? 0));
  return d.some((v) => v < 0) ? null : d;
}

function quantileMs(cumulative: number[] | null, q: number): number | null {
  if (!cumulative) return null;
  const s = quantileFromBuckets(ACK_BUCKETS, cumulative, q);
  return s === null ? null : s * 1000;
}
