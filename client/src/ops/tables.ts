/**
 * The operations page's tables, from the latest report of each node: nodes
 * (with the running totals /metrics serves, so the two can be compared),
 * refusals by reason, the busiest rooms and the top refusers, merged across
 * the cluster. No message text exists anywhere in this data; people appear
 * as in the chat, by name and the tag of their user id.
 */
import { OPS_TRANSPORTS, type OpsSample } from '../../../shared/ops.ts';
import { displayTag } from '../../../shared/text-rules.ts';
import type { OpsData } from './ops-model.ts';

/** A node not heard from for this long is shown as silent. */
export const SILENT_AFTER_MS = 5_000;
/** Rows per table. */
const ROWS = 10;

export interface NodeRow {
  id: string;
  self: boolean;
  /** `serving`, `draining`, `stopping`, or `silent 12 s` when it stopped reporting. */
  status: string;
  uptimeMs: number;
  version: string;
  protocol: string;
  /** Running totals of the latest sample, with the /metrics series each one is. */
  figures: Array<{ metric: string; value: number }>;
}

export function nodeRows(data: OpsData): NodeRow[] {
  return data.nodes.map(({ view }) => {
    const s = view.samples.at(-1);
    const silentMs = data.now - view.heardAt;
    return {
      id: view.node.id,
      self: view.node.id === data.self,
      status: silentMs > SILENT_AFTER_MS ? `silent ${Math.round(silentMs / 1000)} s` : view.node.state,
      uptimeMs: Math.max(0, data.now - view.node.startedAt),
      version: view.node.version,
      protocol: view.node.protocol,
      figures: s ? figures(s) : [],
    };
  });
}

function figures(s: OpsSample) {
  return [
    ...OPS_TRANSPORTS.map((t, i) => ({ metric: `fiberchat_connections{transport="${t}"}`, value: s.conn[i] ?? 0 })),
    { metric: 'fiberchat_messages_total', value: s.messages },
    { metric: 'fiberchat_deliveries_total', value: s.deliveries },
    { metric: 'fiberchat_send_ack_seconds_count', value: s.ack.at(-1) ?? 0 },
    { metric: 'fiberchat_refusals_total', value: Object.values(s.refusals).reduce((a, b) => a + b, 0) },
    { metric: 'fiberchat_slow_consumers_total', value: s.slow },
    { metric: 'fiberchat_failures_total', value: Object.values(s.failures).reduce((a, b) => a + b, 0) },
  ];
}

/** Column headings for `NodeRow.figures`, in order. */
export const FIGURE_HEADINGS = ['WebSocket', 'Long-polling', 'Ajax', 'messages', 'deliveries', 'acks', 'refusals', 'slow cut', 'failures'];

/** Refusals since each node started, by reason, summed over the nodes. */
export function refusalRows(data: OpsData): Array<{ reason: string; total: number }> {
  const totals = new Map<string, number>();
  for (const { view } of data.nodes) {
    const s = view.samples.at(-1);
    for (const [reason, n] of Object.entries(s?.refusals ?? {})) totals.set(reason, (totals.get(reason) ?? 0) + n);
  }
  return [...totals].map(([reason, total]) => ({ reason, total })).sort((a, b) => b.total - a.total || (a.reason < b.reason ? -1 : 1));
}

export interface RoomRow {
  /** `#name` for a public room; `private room K3F9` or `direct messages K3F9` otherwise. */
  name: string;
  subscribers: number;
  perMin: number;
  depth: number;
}

/** The busiest rooms of the cluster: subscribers and messages/min added over nodes, the deepest mailbox of any. */
export function roomRows(data: OpsData): RoomRow[] {
  const rows = new Map<string, RoomRow>();
  for (const { view } of data.nodes) {
    for (const r of view.tables.rooms) {
      const name = r.kind === 'public' ? `#${r.label}` : `${r.kind === 'private' ? 'private room' : 'direct messages'} ${r.label}`;
      const row = rows.get(name) ?? { name, subscribers: 0, perMin: 0, depth: 0 };
      row.subscribers += r.subscribers;
      row.perMin += r.perMin;
      row.depth = Math.max(row.depth, r.depth);
      rows.set(name, row);
    }
  }
  return [...rows.values()].sort((a, b) => b.perMin - a.perMin || b.subscribers - a.subscribers || b.depth - a.depth).slice(0, ROWS);
}

/** Client addresses by refusals per minute (decayed), added over nodes. */
export function addressRows(data: OpsData): Array<{ address: string; perMin: number }> {
  const sums = new Map<string, number>();
  for (const { view } of data.nodes) for (const a of view.tables.addresses) sums.set(a.address, (sums.get(a.address) ?? 0) + a.perMin);
  return [...sums].map(([address, perMin]) => ({ address, perMin })).sort((a, b) => b.perMin - a.perMin).slice(0, ROWS);
}

/** Identities by refusals per minute (decayed), added over nodes, named as in the chat. */
export function identityRows(data: OpsData): Array<{ name: string; tag: string; perMin: number }> {
  const sums = new Map<string, { name: string; perMin: number }>();
  for (const { view } of data.nodes) {
    for (const i of view.tables.identities) {
      const row = sums.get(i.userId) ?? { name: i.name, perMin: 0 };
      row.perMin += i.perMin;
      sums.set(i.userId, row);
    }
  }
  return [...sums]
    .map(([userId, r]) => ({ name: r.name, tag: displayTag(userId), perMin: r.perMin }))
    .sort((a, b) => b.perMin - a.perMin)
    .slice(0, ROWS);
}
