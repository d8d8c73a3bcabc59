import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ACK_BUCKETS, OPS_TRANSPORTS, type OpsSample, type OpsTables } from '../../shared/ops.ts';
import { displayTag } from '../../shared/text-rules.ts';
import { DM_PREFIX, PRIVATE_PREFIX } from '../edge/access.ts';
import type { Metrics } from '../metrics.ts';
import { DecayingTopK } from './top-k.ts';

/** Rows of each table a node reports. */
export const TABLE_ROWS = 10;
/** Keys each top-k holds: well above the rows shown, so the rows are the real heavy hitters. */
const TOP_K_CAPACITY = 256;
/** Messages per minute of a room: weight halves every minute, so the figure follows a room within a minute or two. */
const ROOM_HALF_LIFE_MS = 60_000;
/** Refusals fade slower: an offender stays on the page for a few minutes after it stops. */
const REFUSAL_HALF_LIFE_MS = 5 * 60_000;
/** Below this a top-k row is noise from long ago, not worth a line. */
const MIN_PER_MIN = 0.05;

/** What the sampler reads about the rooms. */
export interface RoomSource {
  readonly size: number;
  roomStats(): Iterable<{ name: string; subscribers: number; queued: number }>;
}

/**
 * Takes a node's sample once a second and keeps the tables' top-k. Counters
 * are read from the same prom-client metrics /metrics serves (`get()`), so
 * the page's totals are the scrape's numbers. Event-loop delay is measured
 * by a monitor of its own: prom-client resets its monitor on every scrape,
 * and reading that one each second would leave Prometheus a one-second p99.
 */
export class OpsSampler {
  private readonly roomRates = new DecayingTopK({ capacity: TOP_K_CAPACITY, halfLifeMs: ROOM_HALF_LIFE_MS });
  private readonly addresses = new DecayingTopK({ capacity: TOP_K_CAPACITY, halfLifeMs: REFUSAL_HALF_LIFE_MS });
  /** userId → the name it had when last refused. */
  private readonly identities = new DecayingTopK<string>({ capacity: TOP_K_CAPACITY, halfLifeMs: REFUSAL_HALF_LIFE_MS });
  private readonly loop: IntervalHistogram;

  constructor(
    private readonly metrics: Metrics,
    private readonly rooms: RoomSource,
  ) {
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
  }

  /** A room committed `count` messages. */
  committed(room: string, count: number): void {
    this.roomRates.add(room, count);
  }

  /** A request or connection was refused; charged to its address and identity when known. */
  refused(who: { address?: string | undefined; identity?: { userId: string; name: string } | undefined }): void {
    if (who.address) this.addresses.add(who.address, 1);
    if (who.identity) this.identities.add(who.identity.userId, 1, who.identity.name);
  }

  stop(): void {
    this.loop.disable();
  }

  /** The sample for now, and the tables as of now. */
  async sample(now: number): Promise<{ sample: OpsSample; tables: OpsTables }> {
    const m = this.metrics;
    const [conn, messages, deliveries, ack, refusals, slow, failures, reports, uploads, storedBytes] = await Promise.all([
      m.connections.get(),
      m.messages.get(),
      m.deliveries.get(),
      m.sendAck.get(),
      m.refusals.get(),
      m.slowConsumers.get(),
      m.failures.get(),
      m.transportReports.get(),
      m.uploads.get(),
      m.filesStored.get(),
    ]);
    const byTransport = new Map(conn.values.map((v) => [String(v.labels.transport), v.value]));
    const buckets = new Map<string, number>();
    for (const v of ack.values) if (v.metricName === 'fiberchat_send_ack_seconds_bucket') buckets.set(String(v.labels.le), v.value);
    const loopP99 = this.loop.count > 0 ? this.loop.percentile(99) / 1e9 : 0;
    this.loop.reset();
    const memory = process.memoryUsage();
    const scan = this.scanRooms();
    const sample: OpsSample = {
      t: now,
      conn: OPS_TRANSPORTS.map((t) => whole(byTransport.get(t))) as OpsSample['conn'],
      messages: whole(messages.values[0]?.value),
      deliveries: whole(deliveries.values[0]?.value),
      ack: [...ACK_BUCKETS.map((b) => whole(buckets.get(String(b)))), whole(buckets.get('+Inf'))],
      loopP99: Math.min(3600, loopP99),
      rssBytes: memory.rss,
      heapBytes: memory.heapUsed,
      rooms: this.rooms.size,
      queued: scan.queued,
      deepest: scan.deepest,
      refusals: totalsBy(refusals.values, (l) => String(l.reason)),
      slow: whole(slow.values[0]?.value),
      failures: totalsBy(failures.values, (l) => String(l.kind)),
      reports: totalsBy(reports.values, (l) => `${String(l.event)}:${String(l.to)}`),
      uploads: whole(uploads.values.find((v) => v.labels.result === 'stored')?.value),
      storedBytes: whole(storedBytes.values[0]?.value),
    };
    return { sample, tables: this.tables(scan.live) };
  }

  private scanRooms(): { queued: number; deepest: number; live: Map<string, { subscribers: number; queued: number }> } {
    let queued = 0;
    let deepest = 0;
    const all: Array<{ name: string; subscribers: number; queued: number }> = [];
    for (const r of this.rooms.roomStats()) {
      queued += r.queued;
      deepest = Math.max(deepest, r.queued);
      if (r.subscribers > 0 || r.queued > 0) all.push(r);
    }
    // The rows worth showing: the most subscribed and the deepest mailboxes (the busiest by messages come from the top-k).
    const live = new Map<string, { subscribers: number; queued: number }>();
    for (const key of ['subscribers', 'queued'] as const) {
      for (const r of all.sort((a, b) => b[key] - a[key]).slice(0, TABLE_ROWS)) live.set(r.name, r);
    }
    return { queued, deepest, live };
  }

  private tables(live: Map<string, { subscribers: number; queued: number }>): OpsTables {
    const rows = new Map<string, { subscribers: number; perMin: number; depth: number }>();
    for (const e of this.roomRates.top(TABLE_ROWS)) if (e.perMin >= MIN_PER_MIN) rows.set(e.key, { subscribers: 0, perMin: e.perMin, depth: 0 });
    for (const [name, r] of live) rows.set(name, { subscribers: r.subscribers, perMin: this.roomRates.perMin(name), depth: r.queued });
    const rooms = [...rows]
      .sort(([, a], [, b]) => b.perMin - a.perMin || b.subscribers - a.subscribers || b.depth - a.depth)
      .slice(0, TABLE_ROWS)
      .map(([name, r]) => ({ ...roomLabel(name), subscribers: r.subscribers, perMin: round(r.perMin), depth: r.depth }));
    return {
      rooms,
      addresses: this.addresses
        .top(TABLE_ROWS)
        .filter((e) => e.perMin >= MIN_PER_MIN)
        .map((e) => ({ address: e.key, perMin: round(e.perMin) })),
      identities: this.identities
        .top(TABLE_ROWS)
        .filter((e) => e.perMin >= MIN_PER_MIN)
        .map((e) => ({ userId: e.key, name: e.meta ?? '', perMin: round(e.perMin) })),
    };
  }
}

/**
 * How a room appears on the page: a public room by its name; a private room
 * or a direct message only by its kind and a tag of its name, enough to tell
 * rows apart and to follow one over time without showing who talks to whom.
 */
export function roomLabel(name: string): { label: string; kind: 'public' | 'private' | 'dm' } {
  if (name.startsWith(PRIVATE_PREFIX)) return { label: displayTag(name), kind: 'private' };
  if (name.startsWith(DM_PREFIX)) return { label: displayTag(name), kind: 'dm' };
  return { label: name, kind: 'public' };
}

function whole(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) || v < 0 ? 0 : Math.round(v);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function totalsBy(values: ReadonlyArray<{ value: number; labels: Record<string, string | number | undefined> }>, key: (labels: Record<string, string | number | undefined>) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const k = key(v.labels);
    out[k] = (out[k] ?? 0) + whole(v.value);
  }
  return out;
}
