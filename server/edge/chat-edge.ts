import {
  COMMANDS,
  LIMITS,
  PROTOCOL_VERSION,
  fail,
  may,
  parsePayload,
  type Ack,
  type Budget,
  type CommandName,
  type OkInputOf,
  type ParsedRequestOf,
} from '../../shared/protocol.ts';
import type { accountHandlers } from '../accounts/account-handlers.ts';
import type { passkeyHandlers } from '../accounts/passkeys.ts';
import { takeFromAll, type RateLimiter } from '../rate-limit.ts';
import { pageBytes, rangeOf } from '../rooms/pages.ts';
import type { RoomRegistry, Starter } from '../rooms/registry.ts';
import type { EmptyOk, EntryDraft, Reply, RoomCommand } from '../rooms/types.ts';
import type { Store } from '../store/store.ts';
import type { FileService } from '../files/file-service.ts';
import { STORE_DOWN, type Caller, type Connection, type Respond, type UserCaller } from './caller.ts';
import type { RoomAccess } from './access.ts';
import type { UserNotices } from './notices.ts';
import { adminHandlers } from './room-admin.ts';
import { Moderation } from './moderation.ts';
import type { Bus } from '../cluster/bus.ts';
import { searchCommand, resultBytes } from './search.ts';
import type { RefusalReason } from '../../shared/refusals.ts';

export type { Caller, Connection, JoinedRooms, Respond, UserCaller } from './caller.ts';

/** Serves one command, once the edge has validated, authorised and rate-limited it. */
export type Handler<K extends CommandName> = (
  caller: UserCaller,
  req: ParsedRequestOf<K>,
  respond: Respond<OkInputOf<K>>,
) => Promise<Ack<OkInputOf<K>>>;

export interface EdgeDeps {
  rooms: RoomRegistry;
  store: Store;
  /** Guest sessions, accounts, sign-in and the account's sessions (server/accounts/). */
  accounts: ReturnType<typeof accountHandlers> & ReturnType<typeof passkeyHandlers>;
  /** An account command failed below the protocol (the store): logged and counted; the caller is answered `unavailable`. */
  accountFailed?: (name: CommandName, err: unknown) => void;
  /** Uploaded files, which a message may carry (server/files/); without it, a send with attachments is refused. */
  files?: Pick<FileService, 'attachments'>;
  /** Decides who may use a room (see access.ts). */
  access: RoomAccess;
  /** Events for one user's connections, wherever they are. */
  notices: UserNotices;
  /** One limiter per budget; its keys are the connection, the identity, and (for reads) the room. */
  limiters: Record<Budget, RateLimiter>;
  /** Sends per client address across its identities, and per room across everyone. */
  sendAddress: RateLimiter;
  sendRoom: RateLimiter;
  /** Bytes of messages answered to reads and joins, per connection and identity; charged after each answer. */
  readBytes: RateLimiter;
  /** REST reads across all rooms, per identity and per address (a read per made-up room is still a read). */
  readAll: RateLimiter;
  /** A call was refused to protect others (metrics, the operations page): `rate_<budget>`. */
  refused?: (reason: RefusalReason, caller: Caller) => void;
  /** A command's handler answered (metrics): `seconds` from receipt at the edge to the answer. */
  answered?: (name: CommandName, caller: Caller, seconds: number, ok: boolean) => void;
  /** How long one search may look (ms; SEARCH_TIME_MS). */
  searchTimeMs?: number;
  /** The store failed a search (logged and counted); the caller is answered `unavailable`. */
  searchFailed?: (err: unknown) => void;
  /** Other nodes (moderation changes are told to every node). */
  bus?: Bus | undefined;
  /** Account names of the deployment's administrators (`ADMINS`). */
  admins?: readonly string[] | undefined;
  /** A client reported a transport fallback or upgrade (`report`). */
  reported?: (report: ParsedRequestOf<'report'>, caller: UserCaller) => void;
}

/**
 * The one place every network payload passes, whatever carrier it came on:
 * the command table says how to validate it, who may call it and which
 * budget it draws on; the command's handler turns it into a room command.
 * Every call resolves to an ack; none throws.
 */
export class ChatEdge {
  /** One handler per command of the table; the type makes a missing one a build error. */
  private readonly handlers: { [K in CommandName]: Handler<K> };
  /** Roles, bans, mutes, slow mode and the lock: read here, and nowhere else. */
  readonly moderation: Moderation;

  constructor(private readonly deps: EdgeDeps) {
    const moderation = (this.moderation = new Moderation({
      store: deps.store,
      access: deps.access,
      rooms: deps.rooms,
      notices: deps.notices,
      bus: deps.bus,
      admins: deps.admins,
      post: (caller, room, entry) => this.entry(caller, room, entry, () => {}),
    }));
    this.handlers = {
      join: (caller, req, respond) => this.join(caller, req, respond),
      leave: (caller, req, respond) => this.leave(caller, req, respond),
      ...this.accountCommands(),
      send: async (caller, req, respond) => {
        const refused = await moderation.mayPost(caller, req.room, 'message', req.clientId);
        if (refused) return refused;
        let attachments;
        if (req.attachments) {
          if (!deps.files) return fail('bad_request', 'this server takes no attachments');
          const found = await deps.files.attachments(caller.identity.userId, req.room, req.clientId, req.attachments);
          if (!found.ok) {
            moderation.notPosted(req.room, caller.identity.userId, req.clientId);
            return found;
          }
          attachments = found.attachments;
        }
        const entry = { kind: 'message' as const, clientId: req.clientId, text: req.text, replyTo: req.replyTo, mentions: req.mentions, attachments };
        const ack = await this.entry(caller, req.room, entry, respond);
        if (!ack.ok) moderation.notPosted(req.room, caller.identity.userId, req.clientId);
        return ack;
      },
      edit: async (caller, req, respond) =>
        (await moderation.mayPost(caller, req.room, 'edit', req.clientId)) ??
        this.entry(caller, req.room, { kind: 'edit', clientId: req.clientId, text: req.text, target: req.target, mentions: req.mentions }, respond),
      delete: async (caller, req, respond) => {
        // Whoever moderates the room may delete anyone's message; the log's rules hold the rest.
        const staff = may(await moderation.role(caller.identity.userId, req.room).catch(() => 'guest' as const), 'delete');
        return this.entry(caller, req.room, { kind: 'delete', clientId: req.clientId, text: '', target: req.target, staff }, respond);
      },
      react: async (caller, req, respond) =>
        (await moderation.mayPost(caller, req.room, 'reaction', req.clientId)) ??
        this.entry(caller, req.room, { kind: 'reaction', clientId: req.clientId, text: '', target: req.target, emoji: req.emoji, on: req.on }, respond),
      history: (caller, req, respond) =>
        this.ask(
          req.room,
          (reply) => ({ kind: 'history', range: rangeOf(req), limit: req.limit ?? LIMITS.historyDefaultPage, viewer: caller.identity.userId, reply }),
          respond,
        ),
      page: (caller, req, respond) =>
        this.ask(
          req.room,
          (reply) => ({
            kind: 'page',
            after: req.after,
            before: req.before,
            epoch: req.epoch,
            limit: req.limit ?? LIMITS.historyDefaultPage,
            // A poll (`after`) or the latest page (how an Ajax client joins) renews the
            // reader's presence; scrollback (`before`) does not.
            poller: req.before === undefined ? caller.identity : undefined,
            viewer: caller.identity.userId,
            reply,
          }),
          respond,
          this.starterOf(caller),
        ),
      typing: (caller, req, respond) => {
        const conn = caller.conn;
        if (conn && !conn.joined.has(req.room)) return Promise.resolve(fail('not_found', `join room ${req.room} before typing in it`));
        return this.ask(req.room, (reply) => ({ kind: 'typing', who: caller.identity, sub: conn?.sub, stop: req.stop, reply }), respond);
      },
      ping: async () => ({ ok: true, ts: Date.now() }),
      rooms: async (caller) => {
        const names = [...(caller.conn?.joined ?? [])].sort();
        type Summary = OkInputOf<'rooms'>['rooms'][number];
        const answers = await Promise.all(names.map((room) => this.ask<Summary>(room, (reply) => ({ kind: 'info', reply }), () => {})));
        return { ok: true, rooms: answers.flatMap((a) => (a.ok ? [{ room: a.room, lastSeq: a.lastSeq, members: a.members }] : [])) };
      },
      report: async (caller, req) => {
        this.deps.reported?.(req, caller);
        return { ok: true };
      },
      search: searchCommand({ store: deps.store, timeMs: deps.searchTimeMs ?? 250, failed: deps.searchFailed }),
      ...wrapAdmin(moderation.handlers()),
      ...wrapAdmin(adminHandlers({ store: this.deps.store, rooms: this.deps.rooms, access: this.deps.access, notices: this.deps.notices })),
    };
  }

  /**
   * The account commands of the table, each answering `unavailable` (and
   * reporting the failure) when the store fails, so that a REST client gets
   * a typed 503 rather than an error page.
   */
  private accountCommands() {
    const a = this.deps.accounts;
    const names = [
      'session', 'register', 'login', 'account', 'sessions', 'endSession', 'endSessions', 'changePassword',
      'deleteAccount', 'exportData', 'passkeyOptions', 'passkeyRegister', 'removePasskey', 'passkeyLoginOptions', 'passkeyLogin',
    ] as const satisfies ReadonlyArray<keyof typeof a>;
    const out = {} as { [K in (typeof names)[number]]: Handler<K> };
    for (const name of names) {
      const handler = a[name] as unknown as (caller: UserCaller, req: unknown) => Promise<Ack<object>>;
      (out as Record<string, unknown>)[name] = async (caller: UserCaller, req: unknown) => {
        try {
          return await handler(caller, req);
        } catch (err) {
          this.deps.accountFailed?.(name, err);
          return STORE_DOWN;
        }
      };
    }
    return out;
  }

  /** A new entry of the room's log (a message, or a change to one), charged to the caller if it starts the room. */
  private entry(caller: UserCaller, room: string, entry: EntryDraft, respond: Respond<OkInputOf<'edit'>>): Promise<Ack<OkInputOf<'edit'>>> {
    return this.ask(room, (reply) => ({ kind: 'send', author: caller.identity, entry, reply }), respond, this.starterOf(caller));
  }


  /**
   * Serves command `name` for `caller`: authenticate, validate against the
   * table's schema, check room access, take from the budget, then hand to
   * the command's handler. `respond` gets the answer at the moment it is
   * given (a room answers inside its turn); the promise resolves with it too.
   */
  async call<K extends CommandName>(name: K, caller: Caller, payload: unknown, respond?: Respond<OkInputOf<K>>): Promise<Ack<OkInputOf<K>>> {
    const received = performance.now();
    const spec = COMMANDS[name];
    const identity = caller.identity;
    if (spec.access !== 'public' && !identity) return fail('unauthorized', 'a valid session token is required');
    const req = parsePayload(spec.request, payload);
    if (!req.ok) return req;
    const value = req.value as ParsedRequestOf<K>;
    // Whoever may not use a room learns nothing of it, not even that it exists.
    if (spec.access === 'room' && identity && !(await this.deps.access.allows(identity.userId, (value as { room: string }).room))) {
      return fail('not_found', 'no such room');
    }
    // A ban holds for every command that names the room.
    if (spec.access === 'room' && identity) {
      const banned = await this.moderation.admits(identity, caller.address, (value as { room: string }).room);
      if (banned) return banned;
    }
    const keys = limitKeys(spec.budget, caller, value);
    const wait = this.spend(spec.budget, keys, caller, value);
    if (wait > 0) {
      this.deps.refused?.(`rate_${spec.budget}`, caller);
      return fail('rate_limited', tooFast[spec.budget], wait);
    }
    const handler = this.handlers[name] as Handler<K>;
    // Timed at the first answer, whether the handler gives it through `respond` (a room, inside its turn) or returns it.
    let timed = false;
    const time = (ack: Ack<unknown>) => {
      if (timed) return;
      timed = true;
      this.deps.answered?.(name, caller, (performance.now() - received) / 1000, ack.ok);
    };
    const answer: Respond<OkInputOf<K>> = (ack) => {
      time(ack);
      respond?.(ack);
    };
    if (!charged(spec.budget)) return handler(caller as UserCaller, value, answer).then(timeAnd(time));
    // Reads and joins are also charged by the bytes they answer, once known.
    const bytes = this.deps.readBytes;
    const chargeKeys = connAndUser(caller);
    return handler(caller as UserCaller, value, (ack) => {
      if (ack.ok && 'messages' in ack && Array.isArray(ack.messages)) bytes.charge(chargeKeys, pageBytes(ack.messages));
      if (ack.ok && 'results' in ack && Array.isArray(ack.results)) bytes.charge(chargeKeys, resultBytes(ack.results as Array<{ text: string; snippet: string }>));
      answer(ack);
    }).then(timeAnd(time));
  }

  /** Takes what a call costs from its budgets, all or nothing; 0 when allowed, else the wait. */
  private spend(budget: Budget, keys: string[], caller: Caller, req: unknown): number {
    const { limiters, sendAddress, sendRoom, readBytes } = this.deps;
    if (budget === 'send') {
      const room = (req as { room: string }).room;
      return takeFromAll([
        [limiters.send, keys],
        [sendAddress, [`a:${caller.address}`]],
        [sendRoom, [`r:${room}`]],
      ]);
    }
    if (charged(budget)) {
      // A connection or identity in byte debt waits before it is answered again.
      const debt = readBytes.check(connAndUser(caller));
      if (debt > 0) return debt;
    }
    if (budget === 'read' && !caller.conn) {
      return takeFromAll([
        [limiters.read, keys],
        [this.deps.readAll, [`u:${caller.identity?.userId ?? ''}`, `a:${caller.address}`]],
      ]);
    }
    return limiters[budget].takeAll(keys);
  }

  /** Who a new room fiber is charged to. */
  private starterOf(caller: UserCaller): Starter {
    return { userId: caller.identity.userId, address: caller.address };
  }

  /** Called once when a socket connection goes: it leaves every room it was in. */
  async disconnected(conn: Connection): Promise<void> {
    const rooms = [...conn.joined];
    conn.joined.clear();
    for (const limiter of [...Object.values(this.deps.limiters), this.deps.readBytes]) limiter.forget(`c:${conn.sub.id}`);
    await this.deps.rooms.leaveAll(conn.sub, rooms);
  }

  private async join(caller: UserCaller, req: ParsedRequestOf<'join'>, respond: Respond<OkInputOf<'join'>>) {
    const conn = caller.conn;
    const { room } = req;
    // The caller's role, mute and the room's rules, read before the room's turn (an answer is given inside it).
    const standing = await this.moderation.standing(caller.identity.userId, room).catch(() => undefined);
    // The answer says the protocol, whichever carrier asked.
    const versioned = (reply: Reply<OkInputOf<'join'>>): Reply<OkInputOf<'join'>> => (ack) =>
      reply(ack.ok ? { ...ack, protocol: PROTOCOL_VERSION, ...(standing ? { standing } : {}) } : ack);
    if (!conn) {
      // Over REST (Ajax polling): the same answer; then polls of GET /api/rooms/:room/messages?after= follow the room.
      return this.ask<OkInputOf<'join'>>(
        room,
        (reply) => ({ kind: 'join', poller: caller.identity, since: req.since, epoch: req.epoch, reply: versioned(reply) }),
        respond,
        this.starterOf(caller),
      );
    }
    if (!conn.joined.has(room) && conn.joined.size + conn.joining >= LIMITS.roomsPerConnection) {
      return Promise.resolve(fail('forbidden', `a connection may be in at most ${LIMITS.roomsPerConnection} rooms`));
    }
    // The slot is held while the join is in flight, so concurrent joins cannot pass the cap together.
    conn.joining++;
    return this.ask<OkInputOf<'join'>>(
      room,
      (reply) => ({ kind: 'join', sub: conn.sub, since: req.since, epoch: req.epoch, reply: versioned(reply) }),
      (ack) => {
        conn.joining--;
        if (ack.ok) conn.joined.add(room);
        respond(ack);
      },
      this.starterOf(caller),
    );
  }

  private leave(caller: UserCaller, req: ParsedRequestOf<'leave'>, respond: Respond<EmptyOk>) {
    const conn = caller.conn;
    if (!conn?.joined.has(req.room)) return Promise.resolve(fail('not_found', `not in room ${req.room}`));
    conn.joined.delete(req.room);
    return this.ask<EmptyOk>(req.room, (reply) => ({ kind: 'leave', sub: conn.sub, reply }), respond);
  }

  /**
   * Hands a command to its room. `respond` is called with the answer at the
   * moment the room gives it, inside the room's turn: an answer written to a
   * socket then is queued before anything the room broadcasts afterwards (a
   * join's answer before the first live message, a send's ack before the
   * broadcast carrying it), which a promise continuation would not guarantee.
   */
  private ask<T>(room: string, build: (reply: Reply<T>) => RoomCommand, respond: Respond<T>, starter?: Starter): Promise<Ack<T>> {
    return new Promise((resolve) =>
      this.deps.rooms.dispatch(
        room,
        build((ack) => {
          respond(ack);
          resolve(ack);
        }),
        starter,
      ),
    );
  }
}

const tooFast: Record<Budget, string> = {
  session: 'too many sessions from this address',
  login: 'too many sign-in attempts from this address',
  join: 'joining too fast',
  send: 'sending too fast',
  read: 'reading too fast',
  signal: 'too many signals',
  ping: 'pinging too fast',
  manage: 'too many changes to rooms',
  search: 'searching too fast',
  report: 'reporting too often',
  moderate: 'moderating too fast',
  flag: 'too many reports: wait a minute',
};

/** Passes an answer through after timing it (for handlers that return their answer rather than respond with it). */
function timeAnd<T extends Ack<unknown>>(time: (ack: T) => void): (ack: T) => T {
  return (ack) => {
    time(ack);
    return ack;
  };
}

/** The admin handlers take no `respond`: they answer when they return. */
function wrapAdmin<H extends Record<string, (caller: UserCaller, req: never) => Promise<Ack<object>>>>(handlers: H) {
  return handlers as unknown as { [K in keyof H]: Handler<K & CommandName> };
}

/**
 * Which buckets a call draws from. Sessions are limited per client address;
 * everything else per connection (on a socket) and per identity across all
 * its connections. REST reads are limited per identity and room: that is the
 * floor under an Ajax client's poll interval, which may poll several rooms.
 */
/** Budgets whose answers carry pages of messages, charged by their bytes too. */
function charged(budget: Budget): boolean {
  return budget === 'read' || budget === 'join' || budget === 'search';
}

function connAndUser(caller: Caller): string[] {
  const user = `u:${caller.identity?.userId ?? ''}`;
  return caller.conn ? [`c:${caller.conn.sub.id}`, user] : [user];
}

function limitKeys(budget: Budget, caller: Caller, req: unknown): string[] {
  if (budget === 'session' || budget === 'login') return [`a:${caller.address}`];
  // Changes to rooms reach other people (invitations, direct messages): cheap identities from one address share a budget.
  // So do searches, the most expensive reads.
  if (budget === 'manage' || budget === 'search' || budget === 'flag') return [`u:${caller.identity?.userId ?? ''}`, `a:${caller.address}`];
  const user = `u:${caller.identity?.userId ?? ''}`;
  if (!caller.conn) {
    const room = (req as { room?: unknown }).room;
    return [budget === 'read' && typeof room === 'string' ? `${user}:${room}` : user];
  }
  return [`c:${caller.conn.sub.id}`, user];
}
