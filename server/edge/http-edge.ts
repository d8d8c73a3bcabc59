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
import type { Sessions } from '../auth.ts';
import type { Identity } from '../rooms/types.ts';
import type { ChatEdge } from './chat-edge.ts';
import { addressKey, canonicalAddress } from './client-address.ts';

/** Sends an ack as HTTP: the payload on success, `{ error }` with its status code on failure. */
function answer(res: FastifyReply, ack: Ack<object>): FastifyReply {
  if (!ack.ok) return sendError(res, ack.error);
  const { ok: _ok, ...body } = ack;
  return res.code(200).send(body);
}

export function sendError(res: FastifyReply, error: ErrorBody): FastifyReply {
  if (error.retryAfterMs !== undefined) res.header('retry-after', Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  return res.code(HTTP_STATUS[error.code]).send({ error });
}

/** Identity from `Authorization: Bearer <token>`, and from nothing else. */
function bearer(req: FastifyRequest, sessions: Sessions): Identity | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !h.startsWith('Bearer ')) return undefined;
  return sessions.verify(h.slice('Bearer '.length).trim());
}

/**
 * Assembles a command's request from an HTTP request: the path parameters,
 * plus the query string (GET, through the route's query schema, which
 * ignores unknown parameters) or the JSON body (POST). A body may not name a
 * path parameter: the path says which room, nothing else does.
 */
function requestOf(route: RestRoute, req: FastifyRequest): { ok: true; value: object } | { ok: false; error: ErrorBody } {
  const params = req.params as Record<string, string>;
  if (route.method === 'GET') {
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
export function registerHttpEdge(app: FastifyInstance, edge: ChatEdge, sessions: Sessions): void {
  for (const name of REST_COMMANDS) registerRoute(app, edge, sessions, name);
}

function registerRoute(app: FastifyInstance, edge: ChatEdge, sessions: Sessions, name: RestCommand): void {
  const route = COMMANDS[name].rest;
  app.route({
    method: route.method,
    url: route.path,
    handler: async (req, res) => {
      const identity = bearer(req, sessions);
      if (!identity && COMMANDS[name].access !== 'public') {
        return sendError(res, fail('unauthorized', 'a valid session token is required').error);
      }
      const payload = requestOf(route, req);
      if (!payload.ok) return sendError(res, payload.error);
      return answer(res, await edge.call(name, { identity, address: addressKey(canonicalAddress(req.ip)) }, payload.value));
    },
  });
}
