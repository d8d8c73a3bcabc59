/**
 * The operations page over HTTP:
 *
 * | route | answers |
 * |---|---|
 * | `GET /ops` | the page (`ops.html` of the client build): 200 when authorised, 401 with the same page otherwise (it asks for the token) |
 * | `POST /api/ops/session` `{ token }` | 204 and the cookie; 401 for a wrong token; 429 past 5 tries a minute per address |
 * | `POST /api/ops/logout` | 204, the cookie cleared |
 * | `GET /api/ops/snapshot` | every node's 15 minutes as JSON (`OpsSnapshot`) |
 * | `GET /api/ops/stream` | server-sent events: `snapshot` first, then a `tick` each second with the new samples |
 * | `GET /api/ops/moderation?room=&actor=&action=&before=` | the audit log (newest first, 100 a page, filtered) and every room's open reports (`OpsModeration`) |
 *
 * With no `OPS_TOKEN` every one of them answers 404, as for a path that
 * does not exist. The built `ops.html` is never served by its own name.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fail, type ErrorBody } from '../../shared/protocol.ts';
import type { OpsModeration, OpsSnapshot } from '../../shared/ops.ts';
import type { ModerationRecords } from '../store/moderation-records.ts';
import { sendError } from '../edge/http-edge.ts';
import { RateLimiter } from '../rate-limit.ts';
import { cookieHeader, type OpsAuth } from './ops-auth.ts';
import type { NodeTable } from './node-table.ts';
import type { RefusalReason } from '../../shared/refusals.ts';

/** Token tries per client address: 5 a minute, 5 at once. A 16-character token is out of reach at that pace. */
const LOGIN_RATE_PER_S = 5 / 60;
const LOGIN_BURST = 5;
/** Open streams at once (operators' tabs); past it, 503. Each costs a socket and what is queued to it. */
export const MAX_STREAMS = 8;
/** A stream whose reader lets this much pile up unread is ended (the page reconnects and starts from a snapshot). */
const MAX_STREAM_BUFFER = 1024 * 1024;

const SessionBody = z.strictObject({ token: z.string().min(1).max(256) });

/** Audit rows one answer holds. */
const AUDIT_PAGE = 100;
const ModerationQuery = z.object({
  room: z.string().max(64).optional(),
  actor: z.string().max(64).optional(),
  action: z.string().max(16).optional(),
  before: z.string().regex(/^\d{1,16}$/).transform(Number).optional(),
});

export interface OpsHttpDeps {
  /** Undefined: the page is off (no OPS_TOKEN). */
  auth: OpsAuth | undefined;
  table: NodeTable;
  self: string;
  clientDir: string;
  /** A login was refused by its rate (counted like every refusal). */
  refused(reason: RefusalReason, address: string): void;
  /** The client address key of a request (per-address budgets). */
  addressOf(req: FastifyRequest): string;
  /** The audit log and the reports (absent: the moderation panel is empty). */
  moderation?: ModerationRecords | undefined;
  now?: () => number;
}

interface Stream {
  res: ServerResponse;
  /** Node id → time of the newest sample this stream was sent. */
  sent: Map<string, number>;
  expiresAt: number;
}

/** The open event streams; the owner calls `tick` after each sample and `close` on shutdown. */
export class OpsStreams {
  private readonly streams = new Set<Stream>();

  constructor(
    private readonly table: NodeTable,
    private readonly self: string,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  open(res: ServerResponse, expiresAt: number): void {
    const stream: Stream = { res, sent: new Map(), expiresAt };
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
    this.send(stream, 'snapshot');
  }

  /** Sends every stream the samples it has not had yet. */
  tick(): void {
    for (const s of this.streams) {
      if (this.now() >= s.expiresAt) this.end(s);
      else this.send(s, 'tick');
    }
  }

  close(): void {
    for (const s of this.streams) this.end(s);
  }

  private send(s: Stream, event: 'snapshot' | 'tick'): void {
    // A reader that stopped reading is cut rather than buffered for.
    if (s.res.writableLength > MAX_STREAM_BUFFER) return this.end(s, true);
    const nodes = this.table.views(event === 'tick' ? s.sent : undefined);
    for (const n of nodes) {
      const last = n.samples.at(-1);
      if (last) s.sent.set(n.node.id, last.t);
    }
    // Forgotten nodes leave `sent` too, so a node that comes back gets its whole ring again.
    for (const id of s.sent.keys()) if (!nodes.some((n) => n.node.id === id)) s.sent.delete(id);
    const body: OpsSnapshot = { now: this.now(), self: this.self, nodes };
    s.res.write(`event: ${event}\ndata: ${JSON.stringify(body)}\n\n`);
  }

  private end(s: Stream, destroy = false): void {
    this.streams.delete(s);
    if (destroy) s.res.destroy();
    else s.res.end();
  }
}

/** Registers the routes (always: with the page off they answer 404 rather than fall through to the chat app). */
export function registerOpsRoutes(http: FastifyInstance, deps: OpsHttpDeps): OpsStreams {
  const now = deps.now ?? Date.now;
  const streams = new OpsStreams(deps.table, deps.self, now);
  const logins = new RateLimiter(LOGIN_RATE_PER_S, LOGIN_BURST, now);
  const notFound = (res: FastifyReply) => sendError(res, fail('not_found', 'Not found').error);
  const denied = (res: FastifyReply) => sendError(res, fail('unauthorized', 'the operator token is required').error);

  /** Until when the request is authorised; null: the page is off; undefined: not authorised. */
  const authorised = (req: FastifyRequest): number | null | undefined =>
    deps.auth ? deps.auth.authorise({ authorization: req.headers.authorization, cookie: req.headers.cookie }) : null;

  http.addHook('onRequest', async (req, res) => {
    // The page lives at /ops, behind the token; its file is not served by name (nor by an encoded spelling of it).
    if (req.routeOptions.url === '/ops.html' || decodedPath(req.url) === '/ops.html') return notFound(res);
  });

  http.get('/ops', async (req, res) => {
    const until = authorised(req);
    if (until === null) return notFound(res);
    let html: Buffer;
    try {
      html = await readFile(join(deps.clientDir, 'ops.html'));
    } catch {
      if (until === undefined) return denied(res);
      return sendError(res, fail('not_found', 'the client is not built (npm run build)').error);
    }
    return res
      .code(until === undefined ? 401 : 200)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  });

  http.post('/api/ops/session', async (req, res) => {
    const auth = deps.auth;
    if (!auth) return notFound(res);
    const address = deps.addressOf(req);
    const wait = logins.take(`a:${address}`);
    if (wait > 0) {
      deps.refused('rate_ops_login', address);
      return sendError(res, fail('rate_limited', 'too many tries; wait and retry', wait).error);
    }
    const body = SessionBody.safeParse(req.body);
    if (!body.success || !auth.tokenMatches(body.data.token)) return sendError(res, fail('unauthorized', 'that is not the operator token').error);
    const cookie = auth.issue();
    return res.code(204).header('set-cookie', cookieHeader(cookie.value, req.protocol === 'https')).header('cache-control', 'no-store').send();
  });

  http.post('/api/ops/logout', async (req, res) => {
    if (!deps.auth) return notFound(res);
    return res.code(204).header('set-cookie', cookieHeader(null, req.protocol === 'https')).send();
  });

  http.get('/api/ops/snapshot', async (req, res) => {
    const until = authorised(req);
    if (until === null) return notFound(res);
    if (until === undefined) return denied(res);
    const body: OpsSnapshot = { now: now(), self: deps.self, nodes: deps.table.views() };
    return res.header('cache-control', 'no-store').send(body);
  });

  http.get('/api/ops/moderation', async (req, res) => {
    const until = authorised(req);
    if (until === null) return notFound(res);
    if (until === undefined) return denied(res);
    const q = ModerationQuery.safeParse(req.query);
    if (!q.success) return sendError(res, fail('bad_request', 'room, actor and action are names; before is a number').error);
    const records = deps.moderation;
    const blank = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s.trim());
    const body: OpsModeration = records
      ? {
          audit: await records.auditLog({ room: blank(q.data.room), actorId: blank(q.data.actor), action: blank(q.data.action), before: q.data.before, limit: AUDIT_PAGE }),
          reports: await records.openReports(undefined, AUDIT_PAGE),
        }
      : { audit: [], reports: [] };
    return res.header('cache-control', 'no-store').send(body);
  });

  http.get('/api/ops/stream', async (req, res) => {
    const until = authorised(req);
    if (until === null) return notFound(res);
    if (until === undefined) return denied(res);
    if (streams.size >= MAX_STREAMS) return sendError(res, busy);
    res.hijack();
    res.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies that buffer responses (nginx) would hold the events back.
      'x-accel-buffering': 'no',
    });
    streams.open(res.raw, until);
  });

  return streams;
}

const busy: ErrorBody = { code: 'unavailable', message: 'too many operations pages are open; close one and retry', retryAfterMs: 5000 };

/** The request's path with percent-escapes decoded (undefined when they do not decode). */
function decodedPath(url: string): string | undefined {
  try {
    return decodeURIComponent(url.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
}
