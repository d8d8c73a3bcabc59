/**
 * What both peers share: the settings every server in the bench runs with,
 * the message record of wire contract v1, and an HTTP endpoint with the same
 * metric names Fiberchat's /metrics uses, so one scraper reads all three.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Same as Fiberchat (server/app.ts): the ping cadence and the packet cap. */
export const PING_INTERVAL_MS = 10_000;
export const PING_TIMEOUT_MS = 10_000;
export const MAX_PAYLOAD = 64 * 1024;

export interface PeerMessage {
  room: string;
  seq: number;
  id: string;
  clientId: string;
  author: string;
  authorId: string;
  text: string;
  ts: number;
}

/** Rooms: a seq counter each, nothing stored (the peers have no persistence). */
export class Rooms {
  private readonly seqs = new Map<string, number>();

  lastSeq(room: string): number {
    return this.seqs.get(room) ?? 0;
  }

  /** The record Fiberchat would broadcast for this send, minus the commit. */
  message(room: string, text: string, clientId: string, authorId: string): PeerMessage {
    const seq = this.lastSeq(room) + 1;
    this.seqs.set(room, seq);
    return { room, seq, id: randomUUID(), clientId, author: 'bench', authorId, text, ts: Date.now() };
  }
}

/** Accepts what Fiberchat's schema would, cheaply: the peers validate shape, not content. */
export function isSend(p: unknown): p is { room: string; text: string; clientId: string } {
  const o = p as { room?: unknown; text?: unknown; clientId?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.room === 'string' && typeof o.text === 'string' && typeof o.clientId === 'string';
}

export function isJoin(p: unknown): p is { room: string } {
  const o = p as { room?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.room === 'string';
}

/**
 * GET /metrics (event-loop delay p99 since the last scrape, the histogram
 * reset on each read as prom-client does; RSS; heap) and GET /healthz.
 */
export function statsHandler(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  return (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return true;
    }
    if (req.url === '/metrics') {
      const mem = process.memoryUsage();
      const p99 = eld.count > 0 ? eld.percentile(99) / 1e9 : 0;
      eld.reset();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(
        [
          `nodejs_eventloop_lag_p99_seconds ${p99}`,
          `process_resident_memory_bytes ${mem.rss}`,
          `nodejs_heap_size_used_bytes ${mem.heapUsed}`,
          '',
        ].join('\n'),
      );
      return true;
    }
    return false;
  };
}

/** A per-connection author id the size of Fiberchat's (a UUID), so frames weigh the same. */
export const newAuthorId = (): string => randomUUID();

export function portFromEnv(): number {
  return Number(process.env.PORT ?? 0);
}

/**
 * Listens on PORT (0: any free port) and prints the bound port as Fiberchat
 * does (a JSON line with `msg: "listening"` and `port`), which the bench reads.
 */
export function listenAndReport(server: Server): void {
  server.listen(portFromEnv(), '127.0.0.1', () => {
    const addr = server.address();
    console.log(JSON.stringify({ msg: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 }));
  });
}
