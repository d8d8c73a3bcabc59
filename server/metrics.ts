import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ACK_BUCKETS } from '../shared/ops.ts';
import { FAILURE_KINDS, FIXED_REFUSALS, type FailureKind, type RefusalReason } from '../shared/refusals.ts';
import type { Carrier } from '../shared/transports.ts';

/** A counter whose one label takes only the listed values (a value not listed does not compile). */
interface NamedCounter<L extends string, V extends string> {
  inc(labels: Record<L, V>, value?: number): void;
  get(): ReturnType<Counter<L>['get']>;
}

export type TransportName = Carrier;

/** What the gauges read when scraped. */
export interface MetricSources {
  rooms: () => number;
  queued: () => number;
  /** Commands waiting in the fullest one mailbox. */
  deepest: () => number;
  /** Ajax clients that polled within the poll lease (they hold no connection to count). */
  ajaxClients: () => number;
  draining: () => boolean;
  /** The tail cache's size (zero when it is off). */
  tailCache: () => { bytes: number; rooms: number };
  /** Bytes of files the deployment holds (as last read). */
  filesStoredBytes: () => number;
  /** Labels of `fiberchat_build_info`. */
  build: { version: string; protocol: string; node: string };
}

/**
 * Prometheus metrics on /metrics. Default process metrics include event-loop
 * delay (nodejs_eventloop_lag_* with p50/p90/p99 since the previous scrape),
 * heap and RSS. Names carry their unit (`_seconds`, `_bytes`, `_total`); the
 * operations page and docs/ops/grafana-dashboard.json plot the same series.
 */
export function createMetrics(gauges: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  new Gauge({
    name: 'fiberchat_build_info',
    help: 'Always 1; the labels say which version, protocol and node this is',
    labelNames: ['version', 'protocol', 'node'] as const,
    registers: [registry],
  }).set(gauges.build, 1);
  return {
    registry,
    connections: new Gauge({
      name: 'fiberchat_connections',
      help: 'Open connections by transport (websocket, long-polling, sse); ajax: clients that polled within the poll lease',
      labelNames: ['transport'] as const,
      registers: [registry],
      collect() {
        this.set({ transport: 'ajax' }, gauges.ajaxClients());
      },
    }),
    sendAck: new Histogram({
      name: 'fiberchat_send_ack_seconds',
      help: 'Time from a send command reaching the edge to its ack (committed), in seconds',
      buckets: [...ACK_BUCKETS],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'fiberchat_deliveries_total',
      help: 'Messages broadcast × the subscribers of their room on this node (rate() gives deliveries/s)',
      registers: [registry],
    }),
    accounts: new Counter({
      name: 'fiberchat_accounts_registered_total',
      help: 'Accounts made (how: password | passkey | claim, a guest who set a password)',
      labelNames: ['how'] as const,
      registers: [registry],
    }),
    signInFailures: new Counter({
      name: 'fiberchat_sign_in_failures_total',
      help: 'Sign-ins refused for a wrong name, password or passkey (limited per address and per account)',
      registers: [registry],
    }),
    sessionsEnded: new Counter({
      name: 'fiberchat_sessions_ended_total',
      help: 'Sessions ended by their owner (Settings, a password change, a deleted account), on this node',
      registers: [registry],
    }),
    transportReports: new Counter({
      name: 'fiberchat_transport_reports_total',
      help: 'Transport fallbacks and upgrades as clients report them (event: fallback | upgrade)',
      labelNames: ['event', 'from', 'to', 'reason'] as const,
      registers: [registry],
    }),
    deepest: new Gauge({
      name: 'fiberchat_mailbox_deepest',
      help: 'Commands waiting in the fullest one room mailbox',
      registers: [registry],
      collect() {
        this.set(gauges.deepest());
      },
    }),
    draining: new Gauge({
      name: 'fiberchat_draining',
      help: '1 while the node is shutting down (DRAIN_MS, then draining its rooms), else 0',
      registers: [registry],
      collect() {
        this.set(gauges.draining() ? 1 : 0);
      },
    }),
    uploads: new Counter({
      name: 'fiberchat_uploads_total',
      help: 'Uploads by outcome: stored, or refused and why (too_large, quota, busy: too many in progress, too_slow: below the rate or past the time, off, not_found, bad_request)',
      labelNames: ['result'],
      registers: [registry],
    }),
    filesStored: new Gauge({
      name: 'fiberchat_files_stored_bytes',
      help: 'Bytes of every uploaded file the deployment holds (the figure FILES_TOTAL_BYTES caps), refreshed every few seconds',
      registers: [registry],
      collect() {
        this.set(gauges.filesStoredBytes());
      },
    }),
    uploadBytes: new Counter({
      name: 'fiberchat_upload_bytes_total',
      help: 'Bytes of files stored (rate() gives upload throughput)',
      registers: [registry],
    }),
    messages: new Counter({
      name: 'fiberchat_messages_total',
      help: 'Messages committed to the store (rate() gives messages/s)',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'fiberchat_commit_batch_size',
      help: 'Messages committed per room turn',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    storeCommitRooms: new Histogram({
      name: 'fiberchat_store_commit_rooms',
      help: 'Rooms per store transaction: above 1 when SQLite groups the commits of several rooms (STORE_GROUP_COMMIT); _count is transactions',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    storeCommitWait: new Histogram({
      name: 'fiberchat_store_commit_wait_seconds',
      help: 'How long the oldest commit of a store transaction waited for its group to run (0 without group commit), in seconds',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    rooms: new Gauge({
      name: 'fiberchat_rooms_active',
      help: 'Live room fibers',
      registers: [registry],
      collect() {
        this.set(gauges.rooms());
      },
    }),
    queued: new Gauge({
      name: 'fiberchat_mailbox_queued',
      help: 'Commands waiting in all room mailboxes',
      registers: [registry],
      collect() {
        this.set(gauges.queued());
      },
    }),
    slowConsumers: new Counter({
      name: 'fiberchat_slow_consumers_total',
      help: 'Connections disconnected because they stopped reading',
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'fiberchat_refusals_total',
      help: `Requests and connections refused to protect other clients, by reason (rate_<budget>, ${FIXED_REFUSALS.join(', ')})`,
      labelNames: ['reason'] as const,
      registers: [registry],
    }) as NamedCounter<'reason', RefusalReason>,
    busUp: new Gauge({
      name: 'fiberchat_bus_up',
      help: 'In a cluster: 1 while this node is connected to Redis (the bus of hints), 0 while it catches up from the store only',
      registers: [registry],
    }),
    tailCacheBytes: new Gauge({
      name: 'fiberchat_tail_cache_bytes',
      help: 'Bytes of live rooms\' newest messages held in memory (at most TAIL_CACHE_BYTES)',
      registers: [registry],
      collect() {
        this.set(gauges.tailCache().bytes);
      },
    }),
    tailCacheRooms: new Gauge({
      name: 'fiberchat_tail_cache_rooms',
      help: 'Rooms whose newest messages are held in memory',
      registers: [registry],
      collect() {
        this.set(gauges.tailCache().rooms);
      },
    }),
    tailCacheReads: new Counter({
      name: 'fiberchat_tail_cache_reads_total',
      help: 'Page reads of live rooms by result: hit (answered from memory), miss (read from the store)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    tailCacheEvictions: new Counter({
      name: 'fiberchat_tail_cache_evictions_total',
      help: 'Rooms whose cached messages were dropped to keep within TAIL_CACHE_BYTES',
      registers: [registry],
    }),
    roomFailures: new Counter({ name: 'fiberchat_room_failures_total', help: 'Room fibers that crashed (each is made anew on next use)', registers: [registry] }),
    failures: new Counter({
      name: 'fiberchat_failures_total',
      help: `Caught failures by kind (${FAILURE_KINDS.join(', ')}): store calls inside rooms, a bug in a command handler, sessions, accounts, Redis`,
      labelNames: ['kind'] as const,
      registers: [registry],
    }) as NamedCounter<'kind', FailureKind>,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
