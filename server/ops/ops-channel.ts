/**
 * The operations page's share of Redis: every node publishes its report
 * (sample and tables) once a second on one channel and keeps what it hears
 * from the others, so any node can serve the whole cluster's page.
 *
 * Like the chat's bus it is best effort: no offline queue (a report that
 * cannot go now is dropped; the next one carries the running totals), and
 * every inbound payload is size-checked and parsed before it is kept. It
 * uses its own two connections, so a burst of room traffic on the chat's
 * bus never delays a report and the page never touches the chat's channels.
 */
import { Redis } from 'ioredis';
import { OpsReport } from '../../shared/ops.ts';

/** The channel every node's reports travel on. */
export const OPS_CHANNEL = 'fc:ops';
/** A report is about 1 KiB; anything much larger is not one of ours. */
const MAX_REPORT_BYTES = 64 * 1024;

export interface OpsChannelEvents {
  /** A peer's report, parsed. */
  report(report: OpsReport): void;
  /** A payload on the channel did not parse (counted, never kept). */
  malformed?(): void;
  /** A Redis call failed (the report is dropped; the next one carries the running totals): logged and counted. */
  failed?(op: 'subscribe' | 'publish', error: unknown): void;
}

export class OpsChannel {
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(
    url: string,
    private readonly node: string,
    private readonly events: OpsChannelEvents,
  ) {
    const opts = {
      enableOfflineQueue: false,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
      maxRetriesPerRequest: 0,
    };
    this.pub = new Redis(url, opts);
    this.sub = new Redis(url, opts);
    // Connection errors are the chat bus's to report (fiberchat_bus_up); these two only retry.
    for (const client of [this.pub, this.sub]) client.on('error', () => {});
    this.sub.on('ready', () => void this.sub.subscribe(OPS_CHANNEL).catch((err: unknown) => this.events.failed?.('subscribe', err)));
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel === OPS_CHANNEL) this.receive(raw);
    });
  }

  publish(report: OpsReport): void {
    if (this.pub.status !== 'ready') return;
    this.pub.publish(OPS_CHANNEL, JSON.stringify(report)).catch((err: unknown) => this.events.failed?.('publish', err));
  }

  close(): void {
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private receive(raw: string): void {
    if (raw.length > MAX_REPORT_BYTES) return this.events.malformed?.();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return this.events.malformed?.();
    }
    const report = OpsReport.safeParse(parsed);
    if (!report.success) return this.events.malformed?.();
    if (report.data.node.id !== this.node) this.events.report(report.data);
  }
}
