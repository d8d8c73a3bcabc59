/**
 * Property-based fuzzing of every command of the table, over the socket and,
 * for commands with a route, over REST: arbitrary JSON, and valid requests
 * with one field changed to another type, a boundary number, a huge or
 * malformed string, deep nesting or a `__proto__` key. Every answer must be
 * a typed error (a code of ERROR_CODES; over REST the envelope with the
 * code's status) or a valid answer that the command's ok schema accepts;
 * afterwards the server still serves a fresh client.
 *
 * Budgets are lifted so that requests reach validation and the handlers:
 * what is fuzzed here is parsing, not rate limiting.
 */
import fc from 'fast-check';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMANDS,
  ErrorEnvelope,
  FailSchema,
  HTTP_STATUS,
  REST_COMMANDS,
  pathParams,
  type CommandName,
  type RequestOf,
  type RestRoute,
} from '../../../shared/protocol.ts';
import { cid, startServer, unlimitedSends, type TestServer } from '../harness.ts';
import { httpRequest } from './net.ts';

/** Runs per property: with 48 properties, a few thousand payloads a run (each CI run draws new ones), and a fast suite. */
const RUNS = 50;

/** One valid request per command: a command added to the table without one here does not compile. */
const VALID: { [K in CommandName]: RequestOf<K> } = {
  session: { name: 'fuzzer' },
  register: { name: 'fuzz-account', password: 'a passphrase nobody uses' },
  login: { name: 'fuzz-account', password: 'a passphrase nobody uses' },
  account: {},
  sessions: {},
  endSession: { id: 'some-session-id' },
  endSessions: { others: true },
  changePassword: { password: 'another passphrase' },
  // Not the fuzzer's name: a valid confirmation would delete the fuzzing identity mid-run.
  deleteAccount: { confirm: 'somebody else' },
  exportData: {},
  passkeyOptions: {},
  passkeyRegister: { response: { id: 'x', response: { clientDataJSON: 'e30' } } },
  removePasskey: { id: 'some-passkey' },
  passkeyLoginOptions: {},
  passkeyLogin: { response: { id: 'x', response: { clientDataJSON: 'e30' } } },
  join: { room: 'fuzz', since: 0 },
  leave: { room: 'fuzz' },
  send: { room: 'fuzz', text: 'hello', clientId: 'fuzz-client-0001' },
  history: { room: 'fuzz', before: 10, limit: 5 },
  page: { room: 'fuzz', after: 0, limit: 5 },
  typing: { room: 'fuzz' },
  ping: {},
  rooms: {},
  edit: { room: 'fuzz', target: 1, text: 'edited', clientId: 'fuzz-edit-0001' },
  delete: { room: 'fuzz', target: 1, clientId: 'fuzz-delete-001' },
  react: { room: 'fuzz', target: 1, emoji: '👍', on: true, clientId: 'fuzz-react-0001' },
  read: { room: 'fuzz', seq: 1 },
  myRooms: {},
  directory: { q: 'fu', limit: 10 },
  part: { room: 'fuzz' },
  createRoom: { title: 'Fuzz room' },
  invite: { room: 'fuzz', userId: 'someone' },
  inviteLink: { room: 'fuzz' },
  revokeInvite: { room: 'fuzz', token: 'some-token' },
  acceptInvite: { token: 'some-token' },
  removeMember: { room: 'fuzz', userId: 'someone' },
  members: { room: 'fuzz' },
  dm: { userId: 'someone' },
  users: { q: 'fu' },
  search: { q: 'fuzz "a phrase" -not in:#lobby' },
  setRole: { room: 'fuzz', userId: 'someone', role: 'moderator' },
  moderate: { room: 'fuzz', action: 'mute', userId: 'someone', seconds: 600 },
  reportMessage: { room: 'fuzz', target: 1, reason: 'spam' },
  reports: { room: 'fuzz' },
  report: { event: 'fallback', from: 'websocket', to: 'long-polling', reason: 'timeout' },
};
const NAMES = Object.keys(COMMANDS) as CommandName[];

// ----- hostile values ---------------------------------------------------------

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const oddChar = fc.constantFrom('\u202e', '\u2066', '\u200b', '\u200d', '\ufeff', '\u0000', '\u0085', '\r\n', '\u2028', '%', '/', '..', '\\', '"', '<script>', '\u{e0041}');
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.oneof(loneSurrogate, oddChar, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 20 }),
  // Over every length limit, yet under the 64 KiB packet bound (which closes the connection by design).
  fc.integer({ min: 4001, max: 30_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'toString', 'NaN', '1e3', '0x10', '-1', '9007199254740993'),
);
const boundaryNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-1, -0, 0, 1, 199, 200, 201, 0.5, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, Number.MIN_VALUE),
);
function nested(depth: number, asObject: boolean): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}
const deep = fc.tuple(fc.integer({ min: 50, max: 2000 }), fc.boolean()).map(([d, o]) => nested(d, o));
const protoPollution = fc.constantFrom(
  JSON.parse('{"__proto__":{"ok":true,"admin":true}}') as unknown,
  JSON.parse('{"constructor":{"prototype":{"admin":true}}}') as unknown,
);
const hostileValue = fc.oneof(hostileString, boundaryNumber, fc.constantFrom(null, true, false, [], {}), fc.jsonValue({ maxDepth: 3 }), deep, protoPollution);

/** A valid request with one field set to a hostile value, removed, or added (own `__proto__` keys included). */
function mutated(valid: unknown): fc.Arbitrary<unknown> {
  const keys = typeof valid === 'object' && valid !== null ? Object.keys(valid) : [];
  return fc.tuple(fc.constantFrom(...keys, '__proto__', 'constructor', 'extra'), hostileValue, fc.nat(9)).map(([key, value, roll]) => {
    const copy = JSON.parse(JSON.stringify(valid ?? {})) as Record<string, unknown>;
    if (roll === 0) delete copy[key];
    else Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    return copy;
  });
}

/** Arbitrary JSON, mutations of `valid`, and `valid` itself. */
const payloadOf = (valid: unknown) =>
  fc.oneof({ arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 1 }, { arbitrary: mutated(valid), weight: 3 }, { arbitrary: fc.constant(valid), weight: 1 });

// ----- what every answer must be ------------------------------------------------

/** Why an ack is not what the protocol promises, or undefined when it is. */
function wrongAck(name: CommandName, ack: unknown): string | undefined {
  if (typeof ack !== 'object' || ack === null) return `not an object: ${JSON.stringify(ack)}`;
  const a = ack as { ok?: unknown };
  if (a.ok === false) return FailSchema.safeParse(ack).success ? undefined : `malformed failure: ${JSON.stringify(ack)}`;
  if (a.ok === true) return COMMANDS[name].ok.safeParse(ack).success ? undefined : `ok answer outside its schema: ${JSON.stringify(ack).slice(0, 300)}`;
  return `no ok field: ${JSON.stringify(ack).slice(0, 300)}`;
}

/** Why an HTTP answer is not what the protocol promises, or undefined when it is. */
function wrongHttp(name: CommandName, status: number, text: string): string | undefined {
  if (status === 204) return text === '' && (COMMANDS[name].rest as RestRoute | undefined)?.status === 204 ? undefined : `204 for ${name}, or with a body: ${text.slice(0, 200)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  if (status === 200 || status === 201) return COMMANDS[name].ok.safeParse(body).success ? undefined : `${status} outside the ok schema: ${text.slice(0, 300)}`;
  const env = ErrorEnvelope.safeParse(body);
  if (!env.success) return `${status} without the error envelope: ${text.slice(0, 300)}`;
  return HTTP_STATUS[env.data.error.code] === status ? undefined : `${status} for code ${env.data.error.code}`;
}

// ------------------------------------------------------------------------------

let s: TestServer;
let socket: Awaited<ReturnType<TestServer['client']>>;
/** The socket without the event map's types: the fuzz sends what the map forbids. */
const untyped = () => socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> } };
let token: string;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
beforeAll(async () => {
  const lifted = '1000000';
  s = await startServer({
    env: {
      ...unlimitedSends(),
      JOIN_RATE: lifted,
      JOIN_BURST: lifted,
      READ_RATE: lifted,
      READ_BURST: lifted,
      READ_BYTES_RATE: String(2 ** 30),
      READ_BYTES_BURST: String(2 ** 30),
      SIGNAL_RATE: lifted,
      MANAGE_RATE: lifted,
      PING_RATE: lifted,
      MAX_ROOMS_PER_IDENTITY: lifted,
      MAX_ROOMS_PER_ADDRESS: lifted,
    },
  });
  socket = await s.client('fuzzer');
  token = socket.session.token;
});
afterAll(async () => {
  agent.destroy();
  await s.close();
});

describe('every command over the socket', () => {
  for (const name of NAMES) {
    it(`${name}: every payload is answered with a typed error or a valid answer`, async () => {
      await fc.assert(
        fc.asyncProperty(payloadOf(VALID[name]), async (payload) => {
          expect(socket.connected, 'the connection was closed by an earlier payload').toBe(true);
          const ack = await untyped().timeout(5_000).emitWithAck(name, payload);
          expect(wrongAck(name, ack)).toBeUndefined();
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('an event outside the table, or extra arguments, are answered not_found or as usual', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'connect', 'disconnecting')), fc.jsonValue({ maxDepth: 2 }), async (event, payload) => {
        if (Object.hasOwn(COMMANDS, event) || ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(event)) return;
        const ack = await untyped().timeout(5_000).emitWithAck(event, payload, 'extra');
        expect(ack).toMatchObject({ ok: false, error: { code: 'not_found' } });
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Percent-encoding that also takes lone surrogates (which encodeURIComponent
 * refuses), spelling them as the invalid UTF-8 a hostile client would send.
 */
function percent(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** A path parameter: valid, hostile, percent-encoded or not, or malformed percent-encoding. */
const pathValue = fc.oneof(
  { arbitrary: fc.constant('fuzz'), weight: 3 },
  { arbitrary: hostileString.filter((x) => x.length < 2000).map(percent), weight: 2 },
  { arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '.', '%2e%2e', 'a%00b', '%C0%AF', 'A'.repeat(65), '-x', 'x;y'), weight: 1 },
);
/** A query string: known and unknown keys with hostile values, repeated keys, or malformed text. */
function queryOf(name: CommandName): fc.Arbitrary<string> {
  const known = Object.keys((VALID[name] as object | null) ?? {});
  const key = fc.oneof(fc.constantFrom(...known, 'after', 'before', 'limit', 'epoch', '_', '__proto__', 'constructor', 'room'), fc.string({ maxLength: 8 }));
  const value = fc.oneof(hostileString.filter((x) => x.length < 2000), boundaryNumber.map(String));
  return fc.oneof(
    fc.array(fc.tuple(key, value), { maxLength: 5 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${percent(k)}=${percent(v)}`).join('&')}` : '')),
    fc.constantFrom('?', '?&&', '?=', '?after=1&after=2', '?after=%E0%A4%A', '?limit=1e3', '?before=-1', '?after[]=1', '?after[a]=1', '?__proto__[x]=1'),
  );
}
/** A body: the command's payload as JSON (the path gives the path parameters), or text that is not the JSON object a route takes. */
function bodyOf(name: CommandName, route: RestRoute): fc.Arbitrary<string> {
  const valid = Object.fromEntries(Object.entries((VALID[name] as object | null) ?? {}).filter(([k]) => !pathParams(route).includes(k)));
  return fc.oneof(
    { arbitrary: payloadOf(valid).map((p) => JSON.stringify(p) ?? 'null'), weight: 4 },
    { arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', '{"__proto__":{"admin":true}}', '{"room":"other","text":"x","clientId":"abcdefgh"}', 'x'.repeat(70_000)), weight: 1 },
  );
}

describe('every command with a REST route', () => {
  for (const name of REST_COMMANDS) {
    const route: RestRoute = COMMANDS[name].rest;
    // GET, and DELETE with a query schema, take the query string; the rest a JSON body.
    const inQuery = route.method === 'GET' || (route.method === 'DELETE' && route.query !== undefined);
    it(`${route.method} ${route.path}: every request is answered with the envelope and its status, or a valid answer`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(pathValue, { minLength: pathParams(route).length, maxLength: pathParams(route).length }),
          inQuery ? queryOf(name) : bodyOf(name, route),
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded'),
          fc.nat(9),
          async (params, rest, contentType, authRoll) => {
            let path: string = route.path;
            for (const [i, p] of pathParams(route).entries()) path = path.replace(`:${p}`, params[i] as string);
            const authorization = authRoll === 0 ? 'Bearer not-a-token' : authRoll === 1 ? `Bearer ${token}x` : `Bearer ${token}`;
            const r = await httpRequest(s.url, {
              method: route.method,
              path: inQuery ? `${path}${rest}` : path,
              ...(!inQuery && { body: rest }),
              headers: { authorization, ...(!inQuery && { 'content-type': contentType }) },
              agent,
            });
            expect(wrongHttp(name, r.status, r.body)).toBeUndefined();
          },
        ),
        { numRuns: RUNS },
      );
    });
  }
});

describe('after the fuzzing', () => {
  it('the server still answers ping, and a fresh client joins and sends', async () => {
    const ping = await socket.emitWithAck('ping', {});
    expect(ping.ok).toBe(true);
    const fresh = await s.client('after-fuzz');
    expect((await fresh.emitWithAck('join', { room: 'after' })).ok).toBe(true);
    const sent = await fresh.emitWithAck('send', { room: 'after', text: 'still standing', clientId: cid() });
    expect(sent.ok && sent.seq).toBe(1);
  });
});
