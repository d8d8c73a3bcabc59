/**
 * The live operations page (`/ops`), wired: once a second this node takes a
 * sample into its own ring, publishes it to the cluster (when there is one),
 * and sends the new samples of every node it knows to the open pages.
 * Everything here is off, costing nothing but an idle route, unless
 * `OPS_TOKEN` is set.
 */
import type { ModerationRecords } from '../store/moderation-records.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { OPS_INTERVAL_MS, OPS_RING, type NodeState, type OpsNodeInfo } from '../../shared/ops.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import type { Metrics } from '../metrics.ts';
import { SERVER_VERSION } from '../build-info.ts';
import { NodeTable } from './node-table.ts';
import { OpsAuth } from './ops-auth.ts';
import { OpsChannel } from './ops-channel.ts';
import { registerOpsRoutes, type OpsStreams } from './ops-http.ts';
import { OpsSampler, type RoomSource } from './sampler.ts';

/** Most nodes one page shows (this one included); past it, new nodes are left out until a silent one is forgotten. */
export const MAX_OPS_NODES = 32;
/** A node silent this long is shown as silent… */
export const SILENT_AFTER_MS = 5_000;
/** …and forgotten after this (a replaced node's ring is freed). */
export const FORGET_AFTER_MS = 5 * 60_000;

export interface OpsDeps {
  /** OPS_TOKEN; undefined turns the page off. */
  token: string | undefined;
  /** In a cluster: where the nodes' reports travel. */
  redisUrl: string | undefined;
  nodeId: string;
  clientDir: string;
  http: FastifyInstance;
  metrics: Metrics;
  rooms: RoomSource;
  logger: Logger;
  state: () => NodeState;
  addressOf: (req: FastifyRequest) => string;
  /** The store's moderation records: the audit log and every room's open reports. */
  moderation?: ModerationRecords | undefined;
  now?: () => number;
}

/** What the rest of the server tells the page about. */
export interface Ops {
  /** A room committed `count` messages (busiest rooms). */
  committed(room: string, count: number): void;
  /** A refusal, charged to its address and identity when known (top refusers). */
  refused(who: { address?: string | undefined; identity?: { userId: string; name: string } | undefined }): void;
  /** Stops sampling, ends the open pages' streams and leaves Redis. */
  close(): void;
}

export function createOps(deps: OpsDeps): Ops {
  const now = deps.now ?? Date.now;
  const table = new NodeTable({ self: deps.nodeId, maxNodes: MAX_OPS_NODES, ringSize: OPS_RING, forgetAfterMs: FORGET_AFTER_MS, now });
  const auth = deps.token === undefined ? undefined : new OpsAuth(deps.token, now);
  const sampler = auth ? new OpsSampler(deps.metrics, deps.rooms) : undefined;
  const streams: OpsStreams = registerOpsRoutes(deps.http, {
    auth,
    table,
    self: deps.nodeId,
    clientDir: deps.clientDir,
    addressOf: deps.addressOf,
    moderation: deps.moderation,
    refused: (reason, address) => {
      deps.metrics.refusals.inc({ reason });
      sampler?.refused({ address });
    },
    now,
  });
  if (!sampler) return { committed() {}, refused() {}, close() {} };

  const startedAt = Math.round(now() - process.uptime() * 1000);
  const info = (): OpsNodeInfo => ({ id: deps.nodeId, version: SERVER_VERSION, protocol: PROTOCOL_VERSION, startedAt, state: deps.state() });
  let refusedNodes = 0;
  const channel = deps.redisUrl
    ? new OpsChannel(deps.redisUrl, deps.nodeId, {
        report: (r) => {
          if (table.record(r) === 'full' && refusedNodes++ % 60 === 0) {
            deps.logger.warn({ node: r.node.id, max: MAX_OPS_NODES }, 'operations page: too many nodes; this one is left out');
          }
        },
        failed: (op, err) => {
          deps.metrics.failures.inc({ kind: 'ops_channel' });
          deps.logger.warn({ err, op }, 'operations channel: a Redis call failed; the report was dropped');
        },
      })
    : undefined;

  let sampling = false;
  const tick = async () => {
    // A slow sample (a stalled loop) is skipped, never stacked.
    if (sampling) return;
    sampling = true;
    try {
      const { sample, tables } = await sampler.sample(now());
      const report = { node: info(), sample, tables };
      table.record(report);
      channel?.publish(report);
      table.forgetSilent();
      streams.tick();
    } catch (err) {
      deps.logger.error({ err }, 'operations page: sampling failed');
    } finally {
      sampling = false;
    }
  };
  const timer = setInterval(() => void tick(), OPS_INTERVAL_MS);
  timer.unref();
  void tick();

  return {
    committed: (room, count) => sampler.committed(room, count),
    refused: (who) => sampler.refused(who),
    close() {
      clearInterval(timer);
      sampler.stop();
      streams.close();
      channel?.close();
    },
  };
}
