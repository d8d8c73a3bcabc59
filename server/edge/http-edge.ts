import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  COMMANDS,
  HTTP_STATUS,
  REST_COMMANDS,
  fail,
  parsePayload,
  pathParams,
  type Ack,
  type ErrorBody,
  type RestCommand,
  type RestRoute,
} from '../../shared/protocol.ts';
import type { SessionService } from '../accounts/session-service.ts';
import type { Identity } from '../rooms/types.ts';
import type { ChatEdge } from './chat-edge.ts';
import { addressKey, canonicalAddress } from './client-address.ts';

/** Sends an ack as HTTP: the payload with the route's status on success (204: none), `{ error }` with its status code on failure. */
function answer(res: FastifyReply, ack: Ack<object>, status: 200 | 201 | 204 = 200): FastifyReply {
  if (!ack.ok) return sendError(res, ack.error);
  if (status === 204) return res.code(204).send();
  const { ok: _ok, ...body } = ack;
  return res.code(status).send(body);
}

export function sendError(res: FastifyReply, error: ErrorBody): FastifyReply {
  if (error.retryAfterMs !== undefined) res.header('retry-after', Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  return res.code(HTTP_STATUS[error.code]).send({ error });
}

/**
 * Identity from `Authorization: Bearer <token>`, and from nothing else:
 * undefined without one; `refused` for a token that is not (or no longer)
 * good, which is answered `unauthorized` even on a public route, so a
 * client learns at once that its session has ended.
 */
export async function bearer(req: FastifyRequest, sessions: SessionService, address: string): Promise<Identity | 'refused' | undefined> {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !h.startsWith('Bearer ')) return undefined;
  return (await sessions.authenticate(h.slice('Bearer '.length).trim(), address)) ?? 'refused';
}

/**
 * The page's origin, for passkeys (WebAuthn binds a passkey to it): the
 * configured PUBLIC_ORIGIN when the browser's Origin header is exactly it;
 * without the setting, the Origin header when its host is the request's own
 * Host (a same-origin request, as the chat's own page makes). Anything else
 * has no origin, and passkey commands refuse it.
 */
export function webOrigin(req: FastifyRequest, publicOrigin: string | undefined): string | undefined {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return undefined;
  if (publicOrigin !== undefined) return origin === publicOrigin ? origin : undefined;
  try {
    const u = new URL(origin);
    return u.host === req.headers.host && (u.protocol === 'http:' || u.protocol === 'https:') ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Assembles a command's request from an HTTP request: the path parameters,
 * plus the query string (GET, through the route's query schema, which
 * ignores unknown parameters) or the JSON body (POST). A body may not name a
 * path parameter: the path says which room, nothing else does.
 */
function requestOf(route: RestRoute, req: FastifyRequest): { ok: true; value: object } | { ok: false; error: ErrorBody } {
  const params = req.params as Record<string, string>;
  if (route.method === 'GET' || (route.method === 'DELETE' && route.query)) {
    const query = route.query ? parsePayload(route.query, req.query) : { ok: true as const, value: {} };
    if (!query.ok) return query;
    return { ok: true, value: { ...query.value, ...params } };
  }
  const body: unknown = req.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('bad_request', 'the body must be a JSON object');
  for (const name of pathParams(route)) {
    if (Object.hasOwn(body, name)) return fail('bad_request', `${name} is given by the path, not the body`);
  }
  return { ok: true, value: { ...body, ...params } };
}

/**
 * The REST API, derived from the command table: every command with a REST
 * carrier gets its route, ending in the same edge call as its socket event
 * (same validation, budgets and room commands); errors map to status codes.
 */
export function registerHttpEdge(app: FastifyInstance, edge: ChatEdge, sessions: SessionService, publicOrigin?: string): void {
  for (const name of REST_COMMANDS) registerRoute(app, edge, sessions, name, publicOrigin);
}

function registerRoute(app: FastifyInstance, edge: ChatEdge, sessions: SessionService, name: RestCommand, publicOrigin: string | undefined): void {
  const route: RestRoute = COMMANDS[name].rest;
  app.route({
    method: route.method,
    url: route.path,
    handler: async (req, res) => {
      const address = addressKey(canonicalAddress(req.ip));
      let identity: Identity | 'refused' | undefined;
      try {
        identity = await bearer(req, sessions, address);
      } catch (err) {
        req.log.error({ err }, 'session check failed');
        return sendError(res, fail('unavailable', 'the server could not check the session; try again', 1000).error);
      }
      if (identity === 'refused' || (!identity && COMMANDS[name].access !== 'public')) {
        return sendError(res, fail('unauthorized', 'a valid session token is required').error);
      }
      const payload = requestOf(route, req);
      if (!payload.ok) return sendError(res, payload.error);
      const userAgent = typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined;
      const caller = { identity, address, userAgent, origin: webOrigin(req, publicOrigin) };
      return answer(res, await edge.call(name, caller, payload.value), route.status);
    },
  });
}
