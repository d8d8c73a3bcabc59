/**
 * What every HTTP response of the server carries and how the server answers
 * requests it cannot route or parse, for a server facing the open internet:
 *
 * - security headers on every response (the app, the API, errors, 404s, and
 *   socket.io's long-polling responses, which engine.io writes itself);
 * - errors raised by Node or Fastify (malformed URL, oversized headers, bad
 *   JSON, wrong content type, a request that arrives too slowly) answered
 *   with the API's `{ error: { code, message } }` envelope, in fixed words
 *   that never repeat any part of the request;
 * - timeouts so a client cannot hold a connection by sending slowly;
 * - source maps never served.
 *
 * Two calls wire it: `httpHardeningOptions()` spread into `Fastify({...})`
 * (what can only be set when the server is created), and
 * `registerHttpHardening(app)` once socket.io is attached.
 */
import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody, ErrorCode } from '../../shared/protocol.ts';

/**
 * The app's Content-Security-Policy. The built client is one module script
 * and one stylesheet from its own origin, with no inline script or style
 * element (React's `style` props are set through the CSSOM, which CSP does
 * not govern), so `'self'` is all it needs.
 *
 * - `connect-src 'self'`: socket.io's XHR polling, the REST API and the
 *   WebSocket. CSP Level 3 makes `'self'` match ws:/wss: to the page's own
 *   host and port (checked in Chromium 150: the same port connects, another
 *   port is refused), so the WebSocket origin needs no spelling out; the
 *   end-to-end suite runs all three transports under this policy.
 * - `require-trusted-types-for 'script'` with no policy allowed: string
 *   assignments to HTML and script sinks (innerHTML, eval…) throw, so a
 *   message text can never become markup even if a future component mishandles
 *   it. The client uses none (React renders text through text nodes), and
 *   zod is told not to probe for `new Function` (client/src/zod-config.ts).
 * - `img-src 'self' blob:`: an uploaded image is fetched with the bearer
 *   token and shown from an object URL (`blob:`) the page itself created; no
 *   other origin's image loads.
 * - No `upgrade-insecure-requests`: the server is also run over plain HTTP
 *   (localhost, a LAN address), where it would break every request.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self'",
  // Files are read with the session's token and shown through object URLs the page made itself (client/src/core/files.ts).
  "img-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers set on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // frame-ancestors' equivalent for browsers without CSP Level 2.
  'x-frame-options': 'DENY',
  // A window this app opens, or that opened it, gets no handle on it.
  'cross-origin-opener-policy': 'same-origin',
  // No other site may embed the app's responses (scripts, API JSON) as
  // no-cors subresources; bots and curl are not browsers and are unaffected.
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Connection-level limits, in one place so they can be documented. A
 * long-poll is not affected by any of them: its request is complete as soon
 * as it arrives; only the response waits.
 */
export const HTTP_LIMITS = {
  /** Request line and headers must arrive within this (slowloris). */
  headersTimeoutMs: 5_000,
  /** The whole request, body included (at most 64 KiB), must arrive within this; uploads keep a budget of their own (server/files/upload-budget.ts). */
  requestTimeoutMs: 15_000,
  /**
   * An idle keep-alive connection is closed after this. Above the 60 s idle
   * timeout of common load balancers: a server that closes first races the
   * balancer's next request on that connection, which the user sees as a 502.
   */
  keepAliveTimeoutMs: 72_000,
  /** How often Node checks the two request timeouts; the timeouts fire up to this late. */
  connectionsCheckingIntervalMs: 1_000,
  /** Request line plus headers, in bytes (Node's default, stated). A longer URL is refused too. */
  maxHeaderBytes: 16 * 1024,
  /** Longest path parameter; room names are at most 64 characters. */
  maxParamLength: 100,
} as const;

export type HttpLimits = { -readonly [K in keyof typeof HTTP_LIMITS]: number };

/** The HTTP status each code of the envelope is sent with (the protocol's table). */
const STATUS: Record<Extract<ErrorCode, 'bad_request' | 'too_large' | 'not_found' | 'unavailable'>, number> = {
  bad_request: 400,
  too_large: 413,
  not_found: 404,
  unavailable: 503,
};

type Answer = { status: number; error: ErrorBody };

const answer = (code: keyof typeof STATUS, message: string): Answer => ({ status: STATUS[code], error: { code, message } });

/** Fixed words for each error Fastify raises before a route runs; nothing from the request goes in. */
const FRAMEWORK_ERRORS: Record<string, Answer> = {
  FST_ERR_CTP_BODY_TOO_LARGE: answer('too_large', 'The request body is too large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: answer('bad_request', 'Send the request body as JSON (content-type: application/json)'),
  FST_ERR_CTP_INVALID_JSON_BODY: answer('bad_request', 'The request body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: answer('bad_request', 'The request body is empty; send a JSON object'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: answer('bad_request', 'The request body does not match its Content-Length'),
  FST_ERR_BAD_URL: answer('bad_request', 'The request path is not valid'),
  FST_ERR_MAX_PARAM_LENGTH: answer('bad_request', 'The request path is not valid'),
};
const BAD_REQUEST = answer('bad_request', 'The request is not valid');
const NOT_FOUND = answer('not_found', 'Not found');
const INTERNAL = answer('unavailable', 'Something went wrong on the server; try again');

/**
 * The answer to an error raised while a request was being routed or parsed.
 * JSON parse errors (a SyntaxError whose message quotes the body) and
 * prototype-poisoning refusals arrive without a Fastify code, as plain 400s.
 */
export function describeHttpError(err: { code?: string; statusCode?: number }): Answer {
  const known = err.code === undefined ? undefined : FRAMEWORK_ERRORS[err.code];
  if (known) return known;
  const status = err.statusCode ?? 500;
  if (status === 413) return FRAMEWORK_ERRORS.FST_ERR_CTP_BODY_TOO_LARGE as Answer;
  if (status === 404) return NOT_FOUND;
  if (status >= 400 && status < 500) return BAD_REQUEST;
  return INTERNAL;
}

function sendAnswer(reply: FastifyReply, { status, error }: Answer): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error });
}

/**
 * Node's parser refuses a request before Fastify sees it (oversized headers
 * or URL, a malformed request line, a request that arrived too slowly). The
 * answer is written to the socket directly: there is no response object.
 */
export function onClientError(err: Error & { code?: string }, socket: Socket): void {
  // An upload keeps a budget of its own (server/files/upload-budget.ts) instead of the request timeout.
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && (exempt.get(socket) ?? 0) > 0) return;
  // The peer is gone, or a response is already on its way (Node's own default handler checks the same).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, body]: [number, ErrorBody] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, { code: 'too_large', message: 'The request headers or URL are too large' }]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, { code: 'bad_request', message: 'The request took too long to arrive' }]
        : [400, { code: 'bad_request', message: 'The request is malformed' }];
  socket.end(rawErrorAnswer(status, body));
}

/**
 * A whole HTTP/1.1 error answer in the API's envelope, for writing straight
 * to a socket (no response object is left to write it): the security
 * headers, `connection: close`, and `retry-after` when the error has one.
 */
export function rawErrorAnswer(status: number, body: ErrorBody): string {
  const json = JSON.stringify({ error: body });
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(json)),
    connection: 'close',
  };
  if (body.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(body.retryAfterMs / 1000)));
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n\r\n${json}`;
}

const exempt = new WeakMap<Socket, number>();

/**
 * Lets the request arriving on `socket` take longer than the request
 * timeout, until released: for a route that bounds its own body's time
 * (uploads). Node checks the timeout once per request: a request whose
 * timeout passed while exempt is not timed again, so the route's own bound
 * must hold until its answer (the upload route closes the connection with it).
 */
export function exemptFromRequestTimeout(socket: Socket): { release(): void } {
  exempt.set(socket, (exempt.get(socket) ?? 0) + 1);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      const n = (exempt.get(socket) ?? 1) - 1;
      if (n > 0) exempt.set(socket, n);
      else exempt.delete(socket);
    },
  };
}

/**
 * Options for `Fastify({...})`: timeouts, header size, the path-parameter
 * limit, and the two handlers for errors raised before a route runs.
 */
export function httpHardeningOptions(
  limits: HttpLimits = HTTP_LIMITS,
): Pick<FastifyHttpOptions<Server>, 'http' | 'requestTimeout' | 'keepAliveTimeout' | 'routerOptions' | 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
      maxHeaderSize: limits.maxHeaderBytes,
    },
    // Fastify sets these on the server after creating it; without them its own defaults (no request timeout) win.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: limits.maxParamLength },
    // Without this Fastify answers a malformed URL or an over-long parameter with the path quoted back.
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      sendAnswer(reply, describeHttpError(error));
    },
    // Without this Fastify answers parser errors with its own body shape.
    clientErrorHandler: onClientError,
  };
}

/** True for a path that names a source map, however its dot is spelled (find-my-way decodes `%2E`). */
function isSourceMap(path: string): boolean {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape is the router's to refuse.
  }
  return /\.map$/i.test(decoded);
}

/**
 * Security headers, the error envelope, and no source maps. Call it after
 * `new Server(app.server)`: socket.io moves the server's request listeners
 * behind its own, and the headers listener must come first to reach
 * engine.io's responses too.
 */
export function registerHttpHardening(app: FastifyInstance): void {
  // Set on the raw response before anyone writes it; Fastify, @fastify/static
  // and engine.io all add their headers to these (Node merges setHeader with writeHead).
  app.server.prependListener('request', (_req: unknown, res: ServerResponse) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  });

  // Source maps carry the whole client source; @fastify/static would serve
  // any that a build left in the client folder.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (isSourceMap(path) || (req.routeOptions.url !== undefined && isSourceMap(req.routeOptions.url))) {
      return sendAnswer(reply, NOT_FOUND);
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const a = describeHttpError(err);
    if (a.status >= 500) req.log.error({ err }, 'request failed');
    return sendAnswer(reply, a);
  });
}
