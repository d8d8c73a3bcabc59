import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type TransportName = 'websocket' | 'long-polling' | 'ajax';

/**
 * Prometheus metrics on /metrics. Default process metrics include event-loop
 * delay (nodejs_eventloop_lag_* with p50/p90/p99), heap and RSS.
 */
export function createMetrics(gauges: { rooms: () => number; queued: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return {
    registry,
    connections: new Gauge({
      name: 'fiberchat_connections',
      help: 'Open socket.io connections by transport',
      labelNames: ['transport'] as const,
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
      help: 'Requests and connections refused to protect other clients, by reason (rate_<budget>, in_flight, room_budget, connection_cap_address, connection_cap_identity, tcp_cap)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    busUp: new Gauge({
      name: 'fiberchat_bus_up',
      help: 'In a cluster: 1 while this node is connected to Redis (the bus of hints), 0 while it catches up from the store only',
      registers: [registry],
    }),
    roomFailures: new Counter({ name: 'fiberchat_room_failures_total', help: 'Room fibers that crashed (each is made anew on next use)', registers: [registry] }),
    failures: new Counter({
      name: 'fiberchat_failures_total',
      help: 'Caught failures by kind: load, read, commit, catch_up (store calls inside rooms), handler (a bug in a command handler)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
