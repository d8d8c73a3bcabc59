/**
 * The command table: every client → server command, once. For each: its
 * request schema, its ok-answer schema, the carriers that serve it (a
 * socket.io event named after the command, a REST route, or both), the rate
 * budget it draws on and who may call it. The server's socket dispatcher and
 * REST routes, the client's transports and answer parsing, and the typed
 * socket.io event maps are all derived from this table: adding a command is
 * one entry here plus its handler.
 */
import { z } from 'zod';
import {
  ClientId,
  DisplayName,
  Epoch,
  Message,
  MessageText,
  PageLimit,
  RoomName,
  Seq,
  User,
  queryNumber,
  type Ack,
} from './schemas.ts';

/** A REST carrier. Path parameters (`:room`) are fields of the request. */
export interface RestRoute {
  method: 'GET' | 'POST';
  path: `/api/${string}`;
  /**
   * GET only: the query string, as strings in and request fields out.
   * Unknown parameters (a cache-buster such as `_=<timestamp>`) are ignored.
   */
  query?: z.ZodType<Record<string, unknown>>;
}

/**
 * The rate budget a command draws on; server/config.ts sets each budget's
 * rate and burst. `read` is also charged by the bytes an answer carries.
 */
export type Budget = 'session' | 'join' | 'send' | 'read' | 'typing' | 'ping';

/**
 * Who may call a command: anyone (`public`), a holder of a valid session
 * token (`user`), or a user the room's access rule admits (`room`: the
 * request has a `room` field, checked in one place on the server).
 */
export type Access = 'public' | 'user' | 'room';

export interface CommandSpec<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType, S extends boolean = boolean> {
  request: Req;
  ok: Res;
  /** Served as a socket.io event of the command's name, answered through the ack callback. */
  socket: S;
  rest?: RestRoute;
  budget: Budget;
  access: Access;
  /** One line for docs/PROTOCOL.md. */
  summary: string;
  /** The protocol version that introduced the command. */
  since: string;
}

/** Keeps each entry's literal types (which carriers, which route) for the derived types below. */
function command<Req extends z.ZodType, Res extends z.ZodType, S extends boolean, R extends RestRoute | undefined = undefined>(
  spec: Omit<CommandSpec<Req, Res, S>, 'rest'> & { rest?: R },
): Omit<CommandSpec<Req, Res, S>, 'rest'> & { rest: R } {
  return spec as Omit<CommandSpec<Req, Res, S>, 'rest'> & { rest: R };
}

/** An ok answer that carries nothing but `ok: true`. */
const Empty = z.looseObject({});

// ----- requests -------------------------------------------------------------

export const SessionRequest = z.strictObject({ name: DisplayName });

export const JoinRequest = z.strictObject({
  room: RoomName,
  /** Last seq the client has seen in this room; omit on first join. */
  since: Seq.optional(),
  /** Epoch the client's `since` belongs to; a mismatch means "not recovered". */
  epoch: Epoch.optional(),
});

export const LeaveRequest = z.strictObject({ room: RoomName });

export const SendRequest = z.strictObject({ room: RoomName, text: MessageText, clientId: ClientId });

export const HistoryRequest = z.strictObject({
  room: RoomName,
  /** Messages with seq strictly below this. */
  before: Seq,
  limit: PageLimit.optional(),
});

export const PageRequest = z
  .strictObject({
    room: RoomName,
    /** What follows this seq: a poll, or a resume with `epoch` (same rules as `join` with `since`). */
    after: Seq.optional(),
    /** The page just below this seq (scrollback). */
    before: Seq.optional(),
    limit: PageLimit.optional(),
    /** The epoch `after` belongs to. */
    epoch: Epoch.optional(),
  })
  .refine((q) => q.after === undefined || q.before === undefined, 'give either after or before, not both');

const PageQuery = z.object({
  after: queryNumber(Seq).optional(),
  before: queryNumber(Seq).optional(),
  limit: queryNumber(PageLimit).optional(),
  epoch: Epoch.optional(),
});

export const TypingRequest = z.strictObject({ room: RoomName });

/** `undefined` arrives as `null` over JSON: both mean "no payload". */
export const PingRequest = z.strictObject({}).nullish();

// ----- answers --------------------------------------------------------------

export const SessionOk = z.object({
  token: z.string(),
  name: z.string(),
  userId: z.string(),
  expiresAt: z.number(),
  /** The server's protocol version. Since 1.5. */
  protocol: z.string().optional(),
});

export const JoinOk = z.object({
  room: z.string(),
  /** Identity of this room's log; changes only if the history was reset. */
  epoch: z.string(),
  lastSeq: z.number(),
  /** After `since` when recovered, else the latest page. Ascending by seq. */
  messages: z.array(Message),
  /** Display names of the users present, one per user (two users of one name: twice). */
  members: z.array(z.string()),
  /** The users present, told apart by userId. Since 1.5. */
  users: z.array(User).optional(),
  /** False when `since`/`epoch` could not be replayed; `messages` is then the latest page. */
  recovered: z.boolean(),
  /** The server's protocol version. Since 1.5. */
  protocol: z.string().optional(),
});

export const SendOk = z.object({ seq: z.number(), id: z.string(), ts: z.number(), duplicate: z.boolean().optional() });

export const HistoryOk = z.object({ messages: z.array(Message) });

export const PageOk = z.object({
  room: z.string(),
  epoch: z.string(),
  lastSeq: z.number(),
  messages: z.array(Message),
  /** Who is present (socket members and Ajax pollers alike). Since 1.2. */
  members: z.array(z.string()).default([]),
  users: z.array(User).optional(),
  /** Who is typing (names). Since 1.2. */
  typing: z.array(z.string()).default([]),
  typingUsers: z.array(User).optional(),
  /** With `after`: false when the resume could not be replayed and `messages` is the latest page. Since 1.5. */
  recovered: z.boolean().optional(),
});

export const PingOk = z.object({ ts: z.number() });

export const RoomsRequest = z.strictObject({}).nullish();
export const RoomSummary = z.object({ room: z.string(), lastSeq: z.number(), members: z.number() });
export const RoomsOk = z.object({ rooms: z.array(RoomSummary) });

// ----- the table --------------------------------------------------------------

export const COMMANDS = {
  session: command({
    request: SessionRequest,
    ok: SessionOk,
    socket: false,
    rest: { method: 'POST', path: '/api/session' },
    budget: 'session',
    access: 'public',
    summary: 'Creates a session: a signed token for a display name.',
    since: '1.0',
  }),
  join: command({
    request: JoinRequest,
    ok: JoinOk,
    socket: true,
    budget: 'join',
    access: 'room',
    summary: "Subscribes the connection to a room's live stream and answers with what it missed, atomically.",
    since: '1.0',
  }),
  leave: command({
    request: LeaveRequest,
    ok: Empty,
    socket: true,
    budget: 'join',
    access: 'user',
    summary: "Ends the connection's subscription to a room.",
    since: '1.0',
  }),
  send: command({
    request: SendRequest,
    ok: SendOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/messages' },
    budget: 'send',
    access: 'room',
    summary: 'Stores a message (idempotent by clientId) and acks it after the commit.',
    since: '1.0',
  }),
  history: command({
    request: HistoryRequest,
    ok: HistoryOk,
    socket: true,
    budget: 'read',
    access: 'room',
    summary: 'The page of messages below a seq (scrollback).',
    since: '1.0',
  }),
  page: command({
    request: PageRequest,
    ok: PageOk,
    socket: false,
    rest: { method: 'GET', path: '/api/rooms/:room/messages', query: PageQuery },
    budget: 'read',
    access: 'room',
    summary: 'Ajax polling and REST reads: what follows a seq (renewing presence), the page below one, or the latest page.',
    since: '1.0',
  }),
  typing: command({
    request: TypingRequest,
    ok: Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/typing' },
    budget: 'typing',
    access: 'room',
    summary: 'Says "I am typing" in a room the caller is in.',
    since: '1.1',
  }),
  ping: command({
    request: PingRequest,
    ok: PingOk,
    socket: true,
    rest: { method: 'GET', path: '/api/ping' },
    budget: 'ping',
    access: 'user',
    summary: 'A round trip that touches no room (liveness checks, transport probes).',
    since: '1.3',
  }),
  rooms: command({
    request: RoomsRequest,
    ok: RoomsOk,
    socket: true,
    budget: 'read',
    access: 'user',
    summary: 'The rooms this connection is in, each with its last seq and how many people are present.',
    since: '1.5',
  }),
};

COMMANDS satisfies Record<string, Omit<CommandSpec, 'rest'> & { rest: RestRoute | undefined }>;

export type Commands = typeof COMMANDS;
export type CommandName = keyof Commands;
/** What a client sends for command K (before the server's transforms, e.g. trimming). */
export type RequestOf<K extends CommandName> = z.input<Commands[K]['request']>;
/** What the server's handler receives for command K, after validation. */
export type ParsedRequestOf<K extends CommandName> = z.output<Commands[K]['request']>;
/** The ok answer of command K, without `ok: true`. */
export type OkOf<K extends CommandName> = z.output<Commands[K]['ok']>;
/** What a handler may return as the ok answer (defaults not yet applied). */
export type OkInputOf<K extends CommandName> = z.input<Commands[K]['ok']>;

export type JoinRequest = RequestOf<'join'>;
export type SendRequest = RequestOf<'send'>;
export type JoinOk = OkOf<'join'>;
export type SendOk = OkOf<'send'>;
export type HistoryOk = OkOf<'history'>;
export type PageOk = OkOf<'page'>;
export type SessionOk = OkOf<'session'>;

/** Commands served as socket.io events. */
export type SocketCommand = { [K in CommandName]: Commands[K]['socket'] extends true ? K : never }[CommandName];
/** Commands served over REST. */
export type RestCommand = { [K in CommandName]: Commands[K]['rest'] extends RestRoute ? K : never }[CommandName];

export const SOCKET_COMMANDS = (Object.keys(COMMANDS) as CommandName[]).filter((k) => COMMANDS[k].socket) as SocketCommand[];
export const REST_COMMANDS = (Object.keys(COMMANDS) as CommandName[]).filter((k) => COMMANDS[k].rest !== undefined) as RestCommand[];

export function isSocketCommand(name: string): name is SocketCommand {
  return Object.hasOwn(COMMANDS, name) && COMMANDS[name as CommandName].socket;
}

/**
 * The socket.io event map for client → server, derived from the table: it
 * parameterises `new Server<…>()` and the client socket, so a renamed field
 * fails the build on both sides.
 */
export type ClientToServerEvents = {
  [K in SocketCommand]: (req: RequestOf<K>, ack: (res: Ack<OkOf<K>>) => void) => void;
};

/** Path parameter names of a route (`/api/rooms/:room/messages` → `['room']`). */
export function pathParams(route: RestRoute): string[] {
  return [...route.path.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1] as string);
}
