/**
 * A real cluster for one test file: PostgreSQL, Redis, HAProxy and node
 * processes on loopback (scripts/cluster-lib.ts), with the send, join and
 * read budgets lifted (these tests load the cluster, they do not test the
 * budgets), and what the tests read back from PostgreSQL.
 */
import pg from 'pg';
import { onTestFailed } from 'vitest';
import { Cluster, type ClusterOptions } from '../../../scripts/cluster-lib.ts';
import { unlimitedSends } from '../harness.ts';
import type { RoomView, SendRecord } from './peers.ts';

export { Cluster } from '../../../scripts/cluster-lib.ts';

const LIFTED = '1000000';

/** Budgets lifted for load: every test client comes from 127.0.0.1 and some share an identity. */
export const LOAD_ENV: Record<string, string> = {
  ...unlimitedSends(),
  JOIN_RATE: LIFTED,
  JOIN_BURST: LIFTED,
  READ_RATE: LIFTED,
  READ_BURST: LIFTED,
  READ_BYTES_RATE: String(1024 ** 3),
  READ_BYTES_BURST: String(1024 ** 3),
  SESSION_RATE_PER_MIN: LIFTED,
  SESSION_BURST: LIFTED,
};

export async function startTestCluster(opts: Partial<ClusterOptions> = {}): Promise<Cluster> {
  return Cluster.start({ nodes: 3, ...opts, env: { ...LOAD_ENV, ...opts.env } });
}

/** On a failing test, prints the warnings and errors every node logged (the recent ones). */
export function logsOnFailure(cluster: Cluster): void {
  onTestFailed(() => {
    for (const n of cluster.nodes) {
      const lines = (n.process?.log() ?? '').split('\n').filter((l) => /"level":(4|5|6)0/.test(l));
      console.error(`--- ${n.name} (${n.running ? 'running' : 'stopped'}), last warnings and errors:\n${lines.slice(-30).join('\n')}`);
    }
  });
}

export interface StoredRoom {
  /** rooms.last_seq */
  lastSeq: number;
  /** The room's rows in seq order. */
  rows: Array<{ seq: number; clientId: string | null; authorId: string }>;
}

/** What PostgreSQL holds for these rooms, read directly (not through a node). */
export async function readStore(cluster: Cluster, rooms: readonly string[]): Promise<Map<string, StoredRoom>> {
  const client = new pg.Client({ connectionString: cluster.postgres.url });
  await client.connect();
  try {
    const out = new Map<string, StoredRoom>();
    for (const room of rooms) {
      const head = await client.query<{ last_seq: string }>('SELECT last_seq FROM rooms WHERE name = $1', [room]);
      const rows = await client.query<{ seq: string; client_id: string | null; author_id: string }>(
        'SELECT seq, client_id, author_id FROM messages WHERE room = $1 ORDER BY seq',
        [room],
      );
      out.set(room, {
        lastSeq: Number(head.rows[0]?.last_seq ?? 0),
        rows: rows.rows.map((r) => ({ seq: Number(r.seq), clientId: r.client_id, authorId: r.author_id })),
      });
    }
    return out;
  } finally {
    await client.end();
  }
}

/** 1, 2, …, n */
export function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Every problem any of these views noted. */
export function problemsOf(views: Iterable<RoomView>): string[] {
  return [...views].flatMap((v) => v.problems);
}

/**
 * The store's invariants for these rooms, given what the senders were told:
 * seqs 1..n with no gap, `last_seq` = the row count, each clientId stored
 * once, every acked clientId stored under the seq its ack gave. Returns the
 * problems found (empty when all hold).
 */
export function checkStore(stored: Map<string, StoredRoom>, records: readonly SendRecord[]): string[] {
  const problems: string[] = [];
  const where = new Map<string, { room: string; seq: number }>();
  for (const [room, s] of stored) {
    const seqs = s.rows.map((r) => r.seq);
    if (seqs.some((q, i) => q !== i + 1)) problems.push(`${room}: seqs are not 1..${seqs.length}`);
    if (s.lastSeq !== s.rows.length) problems.push(`${room}: last_seq ${s.lastSeq} but ${s.rows.length} rows`);
    for (const r of s.rows) {
      // The tests' clientIds are unique across senders, so one clientId is one message.
      const key = `${room}/${r.clientId}`;
      if (where.has(key)) problems.push(`${room}: clientId ${r.clientId} stored twice`);
      where.set(key, { room, seq: r.seq });
    }
  }
  for (const rec of records) {
    if (rec.seq === undefined) continue;
    const at = where.get(`${rec.room}/${rec.clientId}`);
    if (!at) problems.push(`acked ${rec.clientId} (seq ${rec.seq}) is not stored`);
    else if (at.seq !== rec.seq) problems.push(`acked ${rec.clientId} as seq ${rec.seq}, stored as ${at.seq}`);
  }
  return problems;
}
