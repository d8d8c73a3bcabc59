/**
 * The command table: every client → server command, once. For each: its
 * request schema, its ok-answer schema, the carriers that serve it (a
 * socket.io event named after the command, a REST route, or both), the rate
 * budget it draws on and who may call it. The server's socket dispatcher and
 * REST routes, the client's transports and answer parsing, and the typed
 * socket.io event maps are all derived from this table: adding a command is
 * one entry here plus its handler.
 */
import type { z } from 'zod';
import * as A from './accounts.ts';
import * as M from './moderation.ts';
import * as P from './payloads.ts';
import type { Ack } from './schemas.ts';

/** A REST carrier. Path parameters (`:room`) are fields of the request. */
export interface RestRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: `/api/${string}`;
  /**
   * GET and DELETE: the query string, as strings in and request fields out.
   * Unknown parameters (a cache-buster such as `_=<timestamp>`) are ignored.
   * A DELETE without `query` reads a JSON body, like a POST.
   */
  query?: z.ZodType<Record<string, unknown>>;
  /** The status of a successful answer: 200 unless it created something (201) or answers nothing (204, no body). */
  status?: 200 | 201 | 204;
}

/**
 * The rate budget a command draws on; server/config.ts sets each budget's
 * rate and burst (`report`'s is fixed, see server/edge/budgets.ts). `read`
 * is also charged by the bytes an answer carries. `login` is charged per
 * client address and per account name, by failed sign-ins only (since 2.1).
 * `search` is charged per identity and per client address, and by the
 * bytes its results carry, as reads are (since 2.4). `moderate` (moderator
 * actions and role changes) is charged per identity; `flag` (reports of
 * messages) per identity and per client address (since 2.7).
 */
export type Budget = 'session' | 'login' | 'join' | 'send' | 'read' | 'signal' | 'ping' | 'manage' | 'report' | 'search' | 'moderate' | 'flag';

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


// ----- the table --------------------------------------------------------------

export const COMMANDS = {
  session: command({
    request: P.SessionRequest,
    ok: P.SessionOk,
    socket: false,
    rest: { method: 'POST', path: '/api/session' },
    budget: 'session',
    access: 'public',
    summary: 'Creates a guest session: a signed token for a display name that no account owns (a registered name answers `name_taken`).',
    since: '1.0',
  }),
  register: command({
    request: A.RegisterRequest,
    ok: P.SessionOk,
    socket: false,
    rest: { method: 'POST', path: '/api/accounts', status: 201 },
    budget: 'session',
    access: 'public',
    summary: "Creates an account with a password and signs it in; with a guest's token, claims the guest's own name and keeps its userId.",
    since: '2.1',
  }),
  login: command({
    request: A.LoginRequest,
    ok: P.SessionOk,
    socket: false,
    rest: { method: 'POST', path: '/api/login' },
    budget: 'login',
    access: 'public',
    summary: 'Signs in to an account with its password: a new session. A wrong name and a wrong password get the same `unauthorized`.',
    since: '2.1',
  }),
  account: command({
    request: P.RoomsRequest,
    ok: A.AccountOk,
    socket: false,
    rest: { method: 'GET', path: '/api/account' },
    budget: 'read',
    access: 'user',
    summary: "The caller's account: whether the name is registered, whether it has a password, its passkeys.",
    since: '2.1',
  }),
  sessions: command({
    request: P.RoomsRequest,
    ok: A.SessionsOk,
    socket: false,
    rest: { method: 'GET', path: '/api/sessions' },
    budget: 'read',
    access: 'user',
    summary: "The sessions of the caller's identity (every device signed in), the current one marked.",
    since: '2.1',
  }),
  endSession: command({
    request: A.EndSessionRequest,
    ok: P.Empty,
    socket: false,
    rest: { method: 'DELETE', path: '/api/sessions/:id', status: 204 },
    budget: 'manage',
    access: 'user',
    summary: "Ends one of the caller's sessions (its own included: signing out). Its connections get `bye session_revoked` on every node.",
    since: '2.1',
  }),
  endSessions: command({
    request: A.EndSessionsRequest,
    ok: P.Empty,
    socket: false,
    rest: { method: 'DELETE', path: '/api/sessions', query: A.EndSessionsQuery, status: 204 },
    budget: 'manage',
    access: 'user',
    summary: "With `others=1`: ends every session of the caller's but the current one.",
    since: '2.1',
  }),
  changePassword: command({
    request: A.ChangePasswordRequest,
    ok: P.Empty,
    socket: false,
    rest: { method: 'POST', path: '/api/account/password' },
    budget: 'login',
    access: 'user',
    summary: "Sets a new password (the current one required if there is one); every other session of the account ends.",
    since: '2.1',
  }),
  deleteAccount: command({
    request: A.DeleteAccountRequest,
    ok: P.Empty,
    socket: false,
    rest: { method: 'DELETE', path: '/api/account', status: 204 },
    budget: 'manage',
    access: 'user',
    summary: "Deletes the caller's account, sessions and memberships (`confirm` repeats the name); messages stay as \"deleted user\" or are removed, as the operator chose.",
    since: '2.1',
  }),
  exportData: command({
    request: A.ExportRequest,
    ok: A.ExportOk,
    socket: false,
    rest: { method: 'GET', path: '/api/account/export', query: A.ExportQuery },
    budget: 'read',
    access: 'user',
    summary: "The caller's data as JSON: account, rooms and messages, a page at a time (`after` = the previous page's `next`).",
    since: '2.1',
  }),
  passkeyOptions: command({
    request: P.PingRequest,
    ok: A.PasskeyOptionsOk,
    socket: false,
    rest: { method: 'POST', path: '/api/passkeys/options' },
    budget: 'manage',
    access: 'user',
    summary: 'WebAuthn creation options for a new passkey of the caller (valid 5 minutes, once).',
    since: '2.1',
  }),
  passkeyRegister: command({
    request: A.PasskeyRegisterRequest,
    ok: A.PasskeyRegisterOk,
    socket: false,
    rest: { method: 'POST', path: '/api/passkeys', status: 201 },
    budget: 'manage',
    access: 'user',
    summary: "Stores a new passkey from the browser's attestation; a guest who registers one claims their name.",
    since: '2.1',
  }),
  removePasskey: command({
    request: A.RemovePasskeyRequest,
    ok: P.Empty,
    socket: false,
    rest: { method: 'DELETE', path: '/api/passkeys/:id', status: 204 },
    budget: 'manage',
    access: 'user',
    summary: "Removes one of the caller's passkeys (not the last way to sign in: an account keeps a password or a passkey).",
    since: '2.1',
  }),
  passkeyLoginOptions: command({
    request: P.PingRequest,
    ok: A.PasskeyOptionsOk,
    socket: false,
    rest: { method: 'POST', path: '/api/passkeys/login/options' },
    budget: 'login',
    access: 'public',
    summary: 'WebAuthn request options for signing in with a passkey (discoverable: no name needed; valid 5 minutes, once).',
    since: '2.1',
  }),
  passkeyLogin: command({
    request: A.PasskeyLoginRequest,
    ok: P.SessionOk,
    socket: false,
    rest: { method: 'POST', path: '/api/passkeys/login' },
    budget: 'login',
    access: 'public',
    summary: "Signs in with a passkey: the browser's assertion for a challenge from `passkeyLoginOptions`. A new session.",
    since: '2.1',
  }),
  join: command({
    request: P.JoinRequest,
    ok: P.JoinOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/join' },
    budget: 'join',
    access: 'room',
    summary:
      "Subscribes the connection to a room's live stream and answers with what it missed, atomically. Over REST (since 2.3): the same answer, for an Ajax client that then polls from its lastSeq.",
    since: '1.0',
  }),
  leave: command({
    request: P.LeaveRequest,
    ok: P.Empty,
    socket: true,
    budget: 'join',
    access: 'user',
    summary: "Ends the connection's subscription to a room.",
    since: '1.0',
  }),
  send: command({
    request: P.SendRequest,
    ok: P.SendOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/messages' },
    budget: 'send',
    access: 'room',
    summary: 'Stores a message (idempotent by clientId) and acks it after the commit.',
    since: '1.0',
  }),
  history: command({
    request: P.HistoryRequest,
    ok: P.HistoryOk,
    socket: true,
    rest: { method: 'GET', path: '/api/rooms/:room/history', query: P.HistoryQuery },
    budget: 'read',
    access: 'room',
    summary: 'A page of messages in their current state: below a seq (scrollback), around one (a search result in context) or above one. REST since 2.5.',
    since: '1.0',
  }),
  page: command({
    request: P.PageRequest,
    ok: P.PageOk,
    socket: false,
    rest: { method: 'GET', path: '/api/rooms/:room/messages', query: P.PageQuery },
    budget: 'read',
    access: 'room',
    summary: 'Ajax polling and REST reads: what follows a seq (renewing presence), the page below one, or the latest page.',
    since: '1.0',
  }),
  typing: command({
    request: P.TypingRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/typing' },
    budget: 'signal',
    access: 'room',
    summary: 'Says "I am typing" in a room the caller is in.',
    since: '1.1',
  }),
  ping: command({
    request: P.PingRequest,
    ok: P.PingOk,
    socket: true,
    rest: { method: 'GET', path: '/api/ping' },
    budget: 'ping',
    access: 'user',
    summary: 'A round trip that touches no room (liveness checks, transport probes).',
    since: '1.3',
  }),
  rooms: command({
    request: P.RoomsRequest,
    ok: P.RoomsOk,
    socket: true,
    budget: 'read',
    access: 'user',
    summary: 'The rooms this connection is in, each with its last seq and how many people are present.',
    since: '1.5',
  }),
  edit: command({
    request: P.EditRequest,
    ok: P.ChangeOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/edits' },
    budget: 'send',
    access: 'room',
    summary: "Replaces the text of one of the caller's messages: an entry in the log, acked after its commit.",
    since: '2.0',
  }),
  delete: command({
    request: P.DeleteRequest,
    ok: P.ChangeOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/deletes' },
    budget: 'send',
    access: 'room',
    summary: "Deletes a message (its author, or the room's owner): its text is gone, a tombstone stays.",
    since: '2.0',
  }),
  react: command({
    request: P.ReactRequest,
    ok: P.ChangeOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/reactions' },
    budget: 'send',
    access: 'room',
    summary: 'Adds (on: true) or takes back (on: false) the caller\'s emoji reaction on a message.',
    since: '2.0',
  }),
  read: command({
    request: P.ReadRequest,
    ok: P.ReadOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/read' },
    budget: 'signal',
    access: 'room',
    summary: "Moves the caller's read position in a room forward (never back); the caller's other tabs hear it.",
    since: '2.0',
  }),
  myRooms: command({
    request: P.RoomsRequest,
    ok: P.MyRoomsOk,
    socket: true,
    rest: { method: 'GET', path: '/api/rooms/mine' },
    budget: 'read',
    access: 'user',
    summary: "The caller's rooms (joined, invited, direct messages) with read positions, unread and mention counts.",
    since: '2.0',
  }),
  directory: command({
    request: P.DirectoryRequest,
    ok: P.DirectoryOk,
    socket: true,
    rest: { method: 'GET', path: '/api/rooms', query: P.DirectoryQuery },
    budget: 'read',
    access: 'user',
    summary: 'Public rooms, busiest first, with people present and last activity; `q` searches by name.',
    since: '2.0',
  }),
  part: command({
    request: P.PartRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/part' },
    budget: 'join',
    access: 'room',
    summary: "Removes a room from the caller's rooms (for a private room: gives up membership).",
    since: '2.0',
  }),
  createRoom: command({
    request: P.CreateRoomRequest,
    ok: P.CreateRoomOk,
    socket: true,
    rest: { method: 'POST', path: '/api/private-rooms' },
    budget: 'manage',
    access: 'user',
    summary: 'Creates a private room owned by the caller, under a name nobody can guess.',
    since: '2.0',
  }),
  invite: command({
    request: P.InviteRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/members' },
    budget: 'manage',
    access: 'room',
    summary: "Adds a user to a private room (its owner only).",
    since: '2.0',
  }),
  inviteLink: command({
    request: P.InviteLinkRequest,
    ok: P.InviteLinkOk,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/invites' },
    budget: 'manage',
    access: 'room',
    summary: 'Makes an invite link token for a private room (its owner only), valid until revoked.',
    since: '2.0',
  }),
  revokeInvite: command({
    request: P.RevokeInviteRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/invites/revoke' },
    budget: 'manage',
    access: 'room',
    summary: 'Revokes an invite link (the room owner only).',
    since: '2.0',
  }),
  acceptInvite: command({
    request: P.AcceptInviteRequest,
    ok: P.CreateRoomOk,
    socket: true,
    rest: { method: 'POST', path: '/api/invites/accept' },
    budget: 'manage',
    access: 'user',
    summary: 'Joins the private room an invite link opens.',
    since: '2.0',
  }),
  removeMember: command({
    request: P.RemoveMemberRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/members/remove' },
    budget: 'manage',
    access: 'room',
    summary: "Removes a member from a private room (its owner only); the member's live subscriptions end at once.",
    since: '2.0',
  }),
  members: command({
    request: P.MembersRequest,
    ok: P.MembersOk,
    socket: true,
    rest: { method: 'GET', path: '/api/rooms/:room/members' },
    budget: 'read',
    access: 'room',
    summary: "A room's kind and title, and a private room's members with their roles.",
    since: '2.0',
  }),
  dm: command({
    request: P.DmRequest,
    ok: P.DmOk,
    socket: true,
    rest: { method: 'POST', path: '/api/dms' },
    budget: 'manage',
    access: 'user',
    summary: 'The direct-message room of the caller and another user, created on first use; the same from either side.',
    since: '2.0',
  }),
  users: command({
    request: P.UsersRequest,
    ok: P.UsersOk,
    socket: true,
    rest: { method: 'GET', path: '/api/users', query: P.UsersRequest.partial() },
    budget: 'read',
    access: 'user',
    summary: 'People whose name starts with `q` (to invite or to message directly).',
    since: '2.0',
  }),
  search: command({
    request: P.SearchRequest,
    ok: P.SearchOk,
    socket: true,
    rest: { method: 'GET', path: '/api/search', query: P.SearchQueryString },
    budget: 'search',
    access: 'user',
    summary: 'Messages matching what a person typed, newest first, in the public rooms and the rooms the caller is a member of now.',
    since: '2.4',
  }),
  setRole: command({
    request: M.SetRoleRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/roles' },
    budget: 'moderate',
    access: 'room',
    summary: "Makes a user a moderator of the room, or a member again (the room's owner, or in a public room an administrator). A line in the room's log.",
    since: '2.7',
  }),
  moderate: command({
    request: M.ModerateRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/moderation' },
    budget: 'moderate',
    access: 'room',
    summary:
      "A moderator action: delete a message, mute or unmute, ban or unban a user, slow mode, lock or unlock the room, pin or unpin a message, dismiss a message's reports. Each is recorded in the room's log and the audit log.",
    since: '2.7',
  }),
  reportMessage: command({
    request: M.ReportMessageRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/rooms/:room/reports' },
    budget: 'flag',
    access: 'room',
    summary: "Reports a message to the room's moderators, with a reason. The reporter is never shown to the reported user.",
    since: '2.7',
  }),
  reports: command({
    request: M.ReportsRequest,
    ok: M.ReportsOk,
    socket: true,
    rest: { method: 'GET', path: '/api/rooms/:room/reports' },
    budget: 'read',
    access: 'room',
    summary: "The room's open reports, oldest first, each with the message as it is now (the room's moderators).",
    since: '2.7',
  }),
  report: command({
    request: P.ReportRequest,
    ok: P.Empty,
    socket: true,
    rest: { method: 'POST', path: '/api/report' },
    budget: 'report',
    access: 'user',
    summary: 'Tells the server the client fell back to a lower transport or upgraded to a better one (counted for operators).',
    since: '2.0',
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
export type MyRoom = OkOf<'myRooms'>['rooms'][number];
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
