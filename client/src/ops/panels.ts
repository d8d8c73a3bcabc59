/**
 * The plots of the operations page: which series each one draws. Every plot
 * shows the cluster's total (or its maximum, for a delay) and, when there
 * are several nodes, one line per node for its headline figure. The Grafana
 * dashboard (docs/ops/grafana-dashboard.json) draws the same panels from
 * /metrics.
 */
import { OPS_TRANSPORTS, type OpsSample } from '../../../shared/ops.ts';
import { TRANSPORT_LABELS } from '../../../shared/transports.ts';
import { gauge, labelsOf, latency, latencyAll, maxAcross, perMinute, rate, sumAcross, type NodeData, type OpsData, type Values } from './ops-model.ts';

export type Unit = 'count' | 'perSecond' | 'perMinute' | 'ms' | 'bytes';

export interface Series {
  label: string;
  values: Values;
  /** Per-node lines are drawn thinner and dashed, under the totals. */
  perNode: boolean;
}

export interface Panel {
  id: string;
  title: string;
  unit: Unit;
  /** Seconds (Unix time) of the shared axis. */
  x: number[];
  series: Series[];
}


/** The per-node lines of a panel: only when there is more than one node (else they repeat the total). */
function perNode(data: OpsData, label: string, values: (n: NodeData) => Values): Series[] {
  if (data.nodes.length < 2) return [];
  return data.nodes.map((n) => ({ label: `${n.view.node.id} ${label}`, values: values(n), perNode: true }));
}

function total(label: string, values: Values): Series {
  return { label, values, perNode: false };
}

const sumOf = (data: OpsData, per: (n: NodeData) => Values) => sumAcross(data.nodes.map(per));
const connections = (n: NodeData) => gauge(n, (s) => s.conn[0] + s.conn[1] + s.conn[2]);
const refusalsAll = (s: OpsSample) => Object.values(s.refusals).reduce((a, b) => a + b, 0);

export function buildPanels(data: OpsData): Panel[] {
  const nodes = data.nodes;
  const refusalReasons = labelsOf(nodes, (s) => s.refusals);
  const reportKeys = labelsOf(nodes, (s) => s.reports);
  const panels: Array<Omit<Panel, 'x'>> = [
    {
      id: 'connections',
      title: 'Connections by transport',
      unit: 'count',
      series: [
        ...OPS_TRANSPORTS.map((t, i) => total(TRANSPORT_LABELS[t], sumOf(data, (n) => gauge(n, (s) => s.conn[i] ?? 0)))),
        ...perNode(data, 'all', connections),
      ],
    },
    {
      id: 'throughput',
      title: 'Messages committed/s and deliveries/s',
      unit: 'perSecond',
      series: [
        total('messages/s', sumOf(data, (n) => rate(n, (s) => s.messages))),
        total('deliveries/s', sumOf(data, (n) => rate(n, (s) => s.deliveries))),
        ...perNode(data, 'messages/s', (n) => rate(n, (s) => s.messages)),
      ],
    },
    {
      id: 'latency',
      title: 'Send → ack latency',
      unit: 'ms',
      series: [total('p50', latencyAll(nodes, 0.5)), total('p99', latencyAll(nodes, 0.99)), ...perNode(data, 'p99', (n) => latency(n, 0.99))],
    },
    {
      id: 'loop',
      title: 'Event-loop delay p99',
      unit: 'ms',
      series: [
        total(nodes.length > 1 ? 'max of nodes' : 'p99', maxAcross(nodes.map((n) => gauge(n, (s) => s.loopP99 * 1000)))),
        ...perNode(data, 'p99', (n) => gauge(n, (s) => s.loopP99 * 1000)),
      ],
    },
    {
      id: 'memory',
      title: 'Memory: RSS and heap',
      unit: 'bytes',
      series: [
        total('RSS', sumOf(data, (n) => gauge(n, (s) => s.rssBytes))),
        total('heap used', sumOf(data, (n) => gauge(n, (s) => s.heapBytes))),
        ...perNode(data, 'RSS', (n) => gauge(n, (s) => s.rssBytes)),
      ],
    },
    {
      id: 'rooms',
      title: 'Live rooms and mailboxes',
      unit: 'count',
      series: [
        total('live rooms', sumOf(data, (n) => gauge(n, (s) => s.rooms))),
        total('queued commands', sumOf(data, (n) => gauge(n, (s) => s.queued))),
        total('deepest mailbox', maxAcross(nodes.map((n) => gauge(n, (s) => s.deepest)))),
        ...perNode(data, 'live rooms', (n) => gauge(n, (s) => s.rooms)),
      ],
    },
    {
      id: 'refusals',
      title: 'Refusals/s by reason, slow consumers cut/s',
      unit: 'perSecond',
      series: [
        ...refusalReasons.map((reason) => total(reason, sumOf(data, (n) => rate(n, (s) => s.refusals[reason] ?? 0)))),
        total('slow consumers', sumOf(data, (n) => rate(n, (s) => s.slow))),
        ...perNode(data, 'refusals/s', (n) => rate(n, refusalsAll)),
      ],
    },
    {
      id: 'uploads',
      title: 'Uploads stored/s',
      unit: 'perSecond',
      series: [total('uploads/s', sumOf(data, (n) => rate(n, (s) => s.uploads))), ...perNode(data, 'uploads/s', (n) => rate(n, (s) => s.uploads))],
    },
    {
      id: 'stored',
      title: 'Files stored',
      unit: 'bytes',
      // One figure for the deployment, which every node reports: the largest (newest) of them.
      series: [total('stored', maxAcross(nodes.map((n) => gauge(n, (s) => s.storedBytes))))],
    },
    {
      id: 'transports',
      title: 'Fallbacks and upgrades reported (per minute)',
      unit: 'perMinute',
      series: reportKeys.length === 0 ? [total('none reported', perMinute(nodes, () => 0))] : reportKeys.map((k) => total(reportLabel(k), perMinute(nodes, (s) => s.reports[k] ?? 0))),
    },
  ];
  return panels.map((p) => ({ ...p, x: data.x }));
}

/** `fallback:ajax` → `fallback to Ajax`. */
export function reportLabel(key: string): string {
  const [event, to] = key.split(':');
  const name = TRANSPORT_LABELS[to as keyof typeof TRANSPORT_LABELS] ?? to ?? '';
  return `${event ?? ''} to ${name}`;
}
