import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_STATUS, PostMessageBody, RoomName, SessionRequest, fail, parsePayload, type Ack, type ErrorBody } from '../../shared/protocol.ts';
import type { Sessions } from '../auth.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { Identity } from '../rooms/types.ts';
import type { ChatEdge } from './chat-edge.ts';

/** Sends an ack as HTTP: the payload on success, `{ error }` with its status code on failure. */
function answer<T extends object>(res: FastifyReply, ack: Ack<T>): FastifyReply {
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
 * The REST API: sessions, and the room reads and writes that Ajax-polling
 * clients and bots use. Same edge, same room commands, same acks as the
 * socket events; errors map to HTTP status codes.
 */
export function registerHttpEdge(app: FastifyInstance, edge: ChatEdge, sessions: Sessions, sessionLimiter: RateLimiter): void {
  app.post('/api/session', async (req, res) => {
    const wait = sessionLimiter.take(req.ip);
    if (wait > 0) return sendError(res, fail('rate_limited', 'too many sessions from this address', wait).error);
    const body = parsePayload(SessionRequest, req.body);
    if (!body.ok) return sendError(res, body.error);
    return res.code(200).send(sessions.issue(body.value.name));
  });

  app.get<{ Params: { room: string } }>('/api/rooms/:room/messages', async (req, res) => {
    const who = bearer(req, sessions);
    if (!who) return sendError(res, fail('unauthorized', 'a valid session token is required').error);
    return answer(res, await edge.read(who, req.params.room, req.query));
  });

  app.post<{ Params: { room: string } }>('/api/rooms/:room/messages', async (req, res) => {
    const who = bearer(req, sessions);
    if (!who) return sendError(res, fail('unauthorized', 'a valid session token is required').error);
    const room = parsePayload(RoomName, req.params.room);
    if (!room.ok) return sendError(res, room.error);
    const body = parsePayload(PostMessageBody, req.body);
    if (!body.ok) return sendError(res, body.error);
    return answer(res, await edge.send(who, { room: room.value, ...body.value }));
  });
}
