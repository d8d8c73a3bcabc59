/**
 * The operations page's data, once for the server and the page: what one
 * node samples each second, what it tells the other nodes of a cluster, and
 * what `/api/ops/snapshot` and the `/api/ops/stream` events carry. Inbound
 * copies (another node's sample off Redis, the page's fetches) are parsed
 * with these schemas.
 *
 * Counters are carried as running totals, never as per-second deltas: a lost
 * sample (a dropped Redis message) then loses nothing, and the totals shown
 * are the same numbers `/metrics` serves. Rates are differences of
 * consecutive samples; a total that went down means the node restarted.
 */
import { z } from 'zod';
import { TRANSPORTS } from './transports.ts';

/** Carriers, in the order of a sample's `conn` tuple. */
export const OPS_TRANSPORTS = TRANSPORTS;
export type OpsTransport = (typeof OPS_TRANSPORTS)[number];

/**
 * Upper bounds, in seconds, of the send→ack latency histogram's buckets
 * (`fiberchat_send_ack_seconds` on /metrics uses the same). From half a
 * millisecond (a commit on a quiet SQLite) to 5 s (a store in trouble).
 */
export const ACK_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5] as const;

/** How often a node samples, and how many samples it keeps per node: 15 minutes. */
export const OPS_INTERVAL_MS = 1000;
export const OPS_RING = 900;

/** A count since the process started. */
const Total = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A label value of a counter (a refusal reason, a failure kind, `fallback:ajax`). */
const LabelKey = z.string().regex(/^[a-z0-9_:.-]{1,64}$/);
/** Totals by label; the label sets are closed on the server, this bound holds a peer to it too. */
const Totals = z.record(LabelKey, Total).refine((o) => Object.keys(o).length <= 64, 'too many labels');

export const OpsSample = z.object({
  /** When it was taken (ms since the epoch, the node's clock). */
  t: z.number().int().min(0),
  /** Open connections by carrier, in `OPS_TRANSPORTS` order (Ajax: clients that polled within the poll lease). */
  conn: z.tuple([Total, Total, Total, Total]),
  /** Messages committed to the store (`fiberchat_messages_total`). */
  messages: Total,
  /** Messages × subscribers they were broadcast to (`fiberchat_deliveries_total`). */
  deliveries: Total,
  /** Send→ack latency: cumulative count per bucket of `ACK_BUCKETS`, then +Inf (the number of acks). */
  ack: z.array(Total).length(ACK_BUCKETS.length + 1),
  /** Event-loop delay, 99th percentile over the interval before `t`, in seconds. */
  loopP99: z.number().min(0).max(3600),
  rssBytes: Total,
  heapBytes: Total,
  /** Live room fibers, commands queued in all their mailboxes, and the deepest one mailbox. */
  rooms: Total,
  queued: Total,
  deepest: Total,
  /** `fiberchat_refusals_total` by reason. */
  refusals: Totals,
  /** `fiberchat_slow_consumers_total`. */
  slow: Total,
  /** `fiberchat_failures_total` by kind. */
  failures: Totals,
  /** `fiberchat_transport_reports_total` by `<event>:<to>` (e.g. `fallback:ajax`). */
  reports: Totals,
  /**
   * Uploads stored (`fiberchat_uploads_total{result="stored"}`) and the bytes of
   * files the deployment holds (`fiberchat_files_stored_bytes`, one figure for
   * the whole deployment, refreshed every few seconds). Since protocol 2.6; a
   * node of an older version reports neither, read as 0.
   */
  uploads: Total.default(0),
  storedBytes: Total.default(0),
});
export type OpsSample = z.infer<typeof OpsSample>;

export const NodeState = z.enum(['serving', 'draining', 'stopping']);
export type NodeState = z.infer<typeof NodeState>;

export const OpsNodeInfo = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  version: z.string().max(32),
  protocol: z.string().max(16),
  /** When the process started (ms since the epoch). */
  startedAt: z.number().int().min(0),
  state: NodeState,
});
export type OpsNodeInfo = z.infer<typeof OpsNodeInfo>;

/** The rooms and clients worth a look on one node, as of its latest sample. */
export const OpsTables = z.object({
  /**
   * Busiest live rooms. `label` is a public room's name; private rooms and
   * direct messages are shown by kind and a tag of their name only.
   */
  rooms: z
    .array(
      z.object({
        label: z.string().max(80),
        kind: z.enum(['public', 'private', 'dm']),
        subscribers: Total,
        perMin: z.number().min(0),
        depth: Total,
      }),
    )
    .max(20),
  /** Client addresses (an IPv6 client by its /64) by refusals per minute, decayed. */
  addresses: z.array(z.object({ address: z.string().max(64), perMin: z.number().min(0) })).max(20),
  /** Identities by refusals per minute, decayed; shown as in the chat, name and tag. */
  identities: z.array(z.object({ userId: z.string().max(64), name: z.string().max(64), perMin: z.number().min(0) })).max(20),
});
export type OpsTables = z.infer<typeof OpsTables>;

/** What one node publishes each second on the cluster's bus. */
export const OpsReport = z.object({ node: OpsNodeInfo, sample: OpsSample, tables: OpsTables });
export type OpsReport = z.infer<typeof OpsReport>;

/** One node as the page sees it: its samples (oldest first) and when it was last heard from. */
export const OpsNodeView = z.object({
  node: OpsNodeInfo,
  heardAt: z.number().int().min(0),
  samples: z.array(OpsSample).max(OPS_RING),
  tables: OpsTables,
});
export type OpsNodeView = z.infer<typeof OpsNodeView>;

/**
 * `GET /api/ops/snapshot` and the stream's `snapshot` event: every node's
 * 15 minutes. The stream's `tick` events have the same shape and carry only
 * the samples each node took since the previous event; a node missing from
 * a tick has been forgotten.
 */
export const OpsSnapshot = z.object({
  /** The serving node's clock when sent. */
  now: z.number().int().min(0),
  /** The id of the node serving the page. */
  self: z.string(),
  nodes: z.array(OpsNodeView).max(256),
});
export type OpsSnapshot = z.infer<typeof OpsSnapshot>;

/**
 * The q-quantile (0 < q < 1) of a histogram given as cumulative counts per
 * bucket (`bounds` upper bounds, then +Inf), interpolated linearly inside
 * the bucket as Prometheus' `histogram_quantile` does. Null when empty. A
 * quantile in the +Inf bucket is reported as the highest finite bound.
 */
export function quantileFromBuckets(bounds: readonly number[], cumulative: readonly number[], q: number): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < cumulative.length; i++) {
    const c = cumulative[i] ?? 0;
    if (c < rank) continue;
    if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
    const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
    const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
    const inBucket = c - below;
    const upper = bounds[i] ?? lower;
    return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
  }
  return bounds[bounds.length - 1] ?? null;
}

/** One moderator action, as the operations page lists it (the audit log, newest first). Since 2.7. */
export const OpsAuditRow = z.object({
  id: z.number().optional(),
  ts: z.number(),
  room: z.string(),
  actor: z.object({ userId: z.string(), name: z.string() }),
  action: z.string(),
  subject: z.object({ userId: z.string(), name: z.string() }).optional(),
  target: z.number().optional(),
  seconds: z.number().optional(),
  role: z.string().optional(),
  reason: z.string().optional(),
});
/** An open report, as the operations page lists every room's. */
export const OpsReportRow = z.object({
  id: z.string(),
  room: z.string(),
  target: z.number(),
  authorId: z.string(),
  reporter: z.object({ userId: z.string(), name: z.string() }),
  reason: z.string(),
  text: z.string().optional(),
  ts: z.number(),
});
/** `GET /api/ops/moderation`: the audit log and the open reports of every room. */
export const OpsModeration = z.object({ audit: z.array(OpsAuditRow), reports: z.array(OpsReportRow) });
export type OpsModeration = z.infer<typeof OpsModeration>;
