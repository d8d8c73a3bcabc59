import type { OpsNodeInfo, OpsNodeView, OpsReport, OpsSample, OpsTables } from '../../shared/ops.ts';
import { Ring } from './ring.ts';

export interface NodeTableOptions {
  /** This node's id: always held, never forgotten. */
  self: string;
  /** Most nodes held, this one included. */
  maxNodes: number;
  /** Samples kept per node. */
  ringSize: number;
  /** A node not heard from for this long is forgotten (its ring freed). */
  forgetAfterMs: number;
  now?: () => number;
}

interface Entry {
  node: OpsNodeInfo;
  heardAt: number;
  ring: Ring<OpsSample>;
  tables: OpsTables;
}

/** Why a report was not kept. */
export type Refusal = 'full' | 'stale';

/**
 * The samples of every node this one knows: its own and those it hears on
 * the cluster's bus, one fixed ring each. Memory is bounded twice: by the
 * ring per node and by `maxNodes`. A node that falls silent is shown as such
 * until `forgetAfterMs`, then forgotten, so a cluster that replaces its
 * nodes does not accumulate their rings. When the table is full a new node
 * is refused until a silent one is forgotten: the nodes already shown are
 * never pushed out by a newcomer (or by a peer inventing ids).
 */
export class NodeTable {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: NodeTableOptions) {
    if (opts.maxNodes < 1) throw new RangeError('maxNodes must be at least 1');
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps a node's report; undefined when kept, else why not. */
  record(report: OpsReport): Refusal | undefined {
    const id = report.node.id;
    this.forgetSilent();
    let entry = this.entries.get(id);
    if (!entry) {
      if (this.entries.size >= this.opts.maxNodes) return 'full';
      entry = { node: report.node, heardAt: 0, ring: new Ring(this.opts.ringSize), tables: report.tables };
      this.entries.set(id, entry);
    }
    // Samples of one node go forward in time; a late or repeated one (the bus may reorder) is dropped.
    const last = entry.ring.last();
    if (last && report.sample.t <= last.t) return 'stale';
    entry.ring.push(report.sample);
    entry.node = report.node;
    entry.tables = report.tables;
    entry.heardAt = this.now();
    return undefined;
  }

  /** Forgets nodes silent for longer than `forgetAfterMs` (never this one); returns their ids. */
  forgetSilent(): string[] {
    const cutoff = this.now() - this.opts.forgetAfterMs;
    const gone: string[] = [];
    for (const [id, e] of this.entries) {
      if (id !== this.opts.self && e.heardAt < cutoff) {
        this.entries.delete(id);
        gone.push(id);
      }
    }
    return gone;
  }

  /**
   * Every node, this one first, then by id. `since` (node id → time of the
   * newest sample already sent) limits each node's samples to newer ones.
   */
  views(since?: ReadonlyMap<string, number>): OpsNodeView[] {
    const out: OpsNodeView[] = [];
    for (const [id, e] of this.entries) {
      const after = since?.get(id);
      const samples = after === undefined ? e.ring.toArray() : e.ring.newestWhile((s) => s.t > after);
      out.push({ node: e.node, heardAt: e.heardAt, samples, tables: e.tables });
    }
    const self = this.opts.self;
    return out.sort((a, b) => (a.node.id === self ? -1 : b.node.id === self ? 1 : a.node.id < b.node.id ? -1 : 1));
  }

  /** Samples held for one node (tests, and the bound they prove). */
  samplesOf(id: string): number {
    return this.entries.get(id)?.ring.size ?? 0;
  }
}
