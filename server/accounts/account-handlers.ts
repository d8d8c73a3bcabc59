import { randomUUID } from 'node:crypto';
import { EXPORT_PAGE, fail, type Ack, type OkInputOf, type ParsedRequestOf, type SessionInfo } from '../../shared/protocol.ts';
import { takeFromAll, type RateLimiter } from '../rate-limit.ts';
import type { Identity } from '../rooms/types.ts';
import type { AuthoredCursor } from '../store/account-records.ts';
import type { Store } from '../store/store.ts';
import { isCommonPassword } from './common-passwords.ts';
import { deviceLabel } from './device-label.ts';
import type { HashGate } from './hash-gate.ts';
import { nameKey } from './name-key.ts';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from './password.ts';
import type { Origin, SessionService } from './session-service.ts';

/** The display name messages keep once their author deleted the account (DELETED_USER_MESSAGES=keep). */
export const DELETED_USER_NAME = 'deleted user';

/** Who is calling an account command: their identity when they sent a token, and where from. */
export interface AccountCaller {
  identity: Identity | undefined;
  address: string;
  userAgent?: string | undefined;
}

export interface AccountDeps {
  store: Store;
  sessions: SessionService;
  gate: HashGate;
  /** Failed sign-ins, keyed `a:<address>` and `n:<name key>` (see `failureKeys`). */
  failuresByAddress: RateLimiter;
  failuresByAccount: RateLimiter;
  /** How a deleted account's messages end: kept under `DELETED_USER_NAME`, or removed through their rooms' logs. */
  deletedMessages: 'keep' | 'remove';
  /** Removes one message of `author` through its room's log (a tombstone every reader sees). */
  removeMessage(room: string, seq: number, author: Identity): Promise<void>;
  /** Rooms whose stored entries changed outside their logs (renamed author): cached copies go. */
  changedOutsideLog(rooms: readonly string[]): void;
  /** An account was made (metrics, logs). */
  registered?(how: 'password' | 'passkey' | 'claim'): void;
  /** A sign-in failed (metrics, the operations page). */
  signInFailed?(caller: AccountCaller): void;
}

const WRONG = 'Wrong name or password.';
const BUSY = 'Too many sign-ins right now; try again in a moment.';
const COMMON = 'That password is one of the most common ones, so it is among the first an attacker tries. Pick another.';
const TAKEN = 'That name belongs to an account. Sign in, or pick another name.';

function originOf(caller: AccountCaller): Origin {
  return { userAgent: caller.userAgent, address: caller.address };
}

function bad(message: string) {
  return fail('bad_request', message);
}

/**
 * The account commands: creating an account or claiming a guest's name,
 * signing in with a password, the account's sessions, a password change,
 * the account's data and its deletion. Every answer is an ack; a store
 * failure propagates to the edge, which answers `unavailable`.
 */
export function accountHandlers(deps: AccountDeps) {
  const { store, sessions, gate } = deps;

  /** Hashes or verifies through the gate; undefined when it is full. */
  const hashing = <T>(work: () => Promise<T>) => gate.run(work);

  const failureKeys = (caller: AccountCaller, key: string) =>
    [
      [deps.failuresByAddress, [`a:${caller.address}`]],
      [deps.failuresByAccount, [`n:${key}`]],
    ] as const;
  /** The wait before this caller may try this name again (0: now). Takes nothing. */
  const failureWait = (caller: AccountCaller, key: string) => Math.max(...failureKeys(caller, key).map(([limiter, keys]) => limiter.waitFor(keys)));
  /**
   * Spends one failure, once the password was checked: 0 when the budget had
   * room, else the wait. Guesses queued together behind the hash gate all
   * pass the check before hashing; those that find the budget spent by then
   * are answered as refused, so no more verdicts are told than it allows.
   */
  const spendFailure = (caller: AccountCaller, key: string) => takeFromAll(failureKeys(caller, key));
  const tooManyFailures = (wait: number) =>
    fail('rate_limited', `Too many failed sign-ins. Try again in ${Math.ceil(wait / 1000)} s.`, wait);

  return {
    /** A guest session, unless an account owns the name. */
    async session(caller: AccountCaller, req: ParsedRequestOf<'session'>): Promise<Ack<OkInputOf<'session'>>> {
      if (await store.accountByName(nameKey(req.name))) return fail('name_taken', TAKEN);
      const user = { userId: randomUUID(), name: req.name };
      // Remembered by name, so others can find this user to invite or to message.
      await store.saveUser(user);
      return { ok: true, ...(await sessions.open(user, originOf(caller), false)) };
    },

    async register(caller: AccountCaller, req: ParsedRequestOf<'register'>): Promise<Ack<OkInputOf<'register'>>> {
      const key = nameKey(req.name);
      if (isCommonPassword(req.password)) return bad(COMMON);
      const guest = caller.identity;
      if (guest) {
        if (await store.account(guest.userId)) return bad('You already have an account.');
        if (nameKey(guest.name) !== key) return bad(`A guest can claim only their own name (${guest.name}).`);
      } else if (await store.accountByName(key)) {
        return fail('name_taken', TAKEN);
      }
      const hash = await hashing(() => hashPassword(req.password));
      if (!hash) return fail('unavailable', BUSY, 1000);
      const userId = guest?.userId ?? randomUUID();
      const created = await store.createAccount({ userId, name: req.name, nameKey: key, passwordHash: hash.value, createdAt: Date.now() });
      if (!created) return fail('name_taken', TAKEN);
      await store.saveUser({ userId, name: req.name });
      sessions.becameAccount(userId);
      deps.registered?.(guest ? 'claim' : 'password');
      // A guest who claims their name stays in the session they are in (its other tabs too).
      if (guest?.sessionId !== undefined && guest.expiresAt !== undefined) {
        return { ok: true, ...sessions.reissue({ ...guest, name: req.name, sessionId: guest.sessionId, expiresAt: guest.expiresAt }, true) };
      }
      return { ok: true, ...(await sessions.open({ userId, name: req.name }, originOf(caller), true)) };
    },

    async login(caller: AccountCaller, req: ParsedRequestOf<'login'>): Promise<Ack<OkInputOf<'login'>>> {
      const key = nameKey(req.name.trim());
      const wait = failureWait(caller, key);
      if (wait > 0) return tooManyFailures(wait);
      const account = await store.accountByName(key);
      // An unknown name, or an account without a password, costs a hash all the same: the time of the answer tells nothing.
      const stored = account?.passwordHash ?? (await decoyHash());
      const verdict = await hashing(() => verifyPassword(req.password, stored));
      if (!verdict) return fail('unavailable', BUSY, 1000);
      if (!account?.passwordHash || !verdict.value) {
        const spent = spendFailure(caller, key);
        if (spent > 0) return tooManyFailures(spent);
        deps.signInFailed?.(caller);
        return fail('unauthorized', WRONG);
      }
      // Right, but other guesses spent the budget while this one waited: refused as they are, or a guess could slip through the race.
      const late = failureWait(caller, key);
      if (late > 0) return tooManyFailures(late);
      if (needsRehash(account.passwordHash)) {
        const fresh = await hashing(() => hashPassword(req.password));
        if (fresh) await store.setPassword(account.userId, fresh.value);
      }
      return { ok: true, ...(await sessions.open(account, originOf(caller), true)) };
    },

    async account(caller: AccountCaller & { identity: Identity }): Promise<Ack<OkInputOf<'account'>>> {
      const who = caller.identity;
      const [account, passkeys] = await Promise.all([store.account(who.userId), store.passkeys(who.userId)]);
      return {
        ok: true,
        userId: who.userId,
        name: account?.name ?? who.name,
        registered: account !== undefined,
        hasPassword: account?.passwordHash !== undefined,
        passkeys: passkeys.map((p) => ({ id: p.id, label: p.label, createdAt: p.createdAt, ...(p.lastUsedAt === undefined ? {} : { lastUsedAt: p.lastUsedAt }) })),
        ...(account ? { createdAt: account.createdAt } : {}),
      };
    },

    async sessions(caller: AccountCaller & { identity: Identity }): Promise<Ack<OkInputOf<'sessions'>>> {
      const rows = await store.sessions(caller.identity.userId, Date.now());
      const list: SessionInfo[] = rows.map((s) => ({
        id: s.id,
        current: s.id === caller.identity.sessionId,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        ...(s.userAgent ? { userAgent: s.userAgent, device: deviceLabel(s.userAgent) } : {}),
        ...(s.address ? { address: s.address } : {}),
      }));
      return { ok: true, sessions: list };
    },

    async endSession(caller: AccountCaller & { identity: Identity }, req: ParsedRequestOf<'endSession'>): Promise<Ack<OkInputOf<'endSession'>>> {
      const userId = caller.identity.userId;
      if (!(await store.endSession(userId, req.id))) return fail('not_found', 'no such session');
      sessions.ended(userId, [req.id]);
      return { ok: true };
    },

    async endSessions(caller: AccountCaller & { identity: Identity }): Promise<Ack<OkInputOf<'endSessions'>>> {
      const userId = caller.identity.userId;
      sessions.ended(userId, await store.endSessions(userId, caller.identity.sessionId));
      return { ok: true };
    },

    async changePassword(caller: AccountCaller & { identity: Identity }, req: ParsedRequestOf<'changePassword'>): Promise<Ack<OkInputOf<'changePassword'>>> {
      const who = caller.identity;
      const account = await store.account(who.userId);
      if (!account) return bad('A guest has no password: create an account to set one.');
      if (account.passwordHash !== undefined) {
        const wait = failureWait(caller, account.nameKey);
        if (wait > 0) return tooManyFailures(wait);
        if (req.current === undefined) return bad('Give your current password.');
        const current = account.passwordHash;
        const verdict = await hashing(() => verifyPassword(req.current ?? '', current));
        if (!verdict) return fail('unavailable', BUSY, 1000);
        if (!verdict.value) {
          const spent = spendFailure(caller, account.nameKey);
          if (spent > 0) return tooManyFailures(spent);
          deps.signInFailed?.(caller);
          return fail('forbidden', 'The current password is wrong.');
        }
        const late = failureWait(caller, account.nameKey);
        if (late > 0) return tooManyFailures(late);
      }
      if (isCommonPassword(req.password)) return bad(COMMON);
      const hash = await hashing(() => hashPassword(req.password));
      if (!hash) return fail('unavailable', BUSY, 1000);
      await store.setPassword(who.userId, hash.value);
      // Whoever knew the old password is signed out everywhere but here.
      sessions.ended(who.userId, await store.endSessions(who.userId, who.sessionId));
      return { ok: true };
    },

    async deleteAccount(caller: AccountCaller & { identity: Identity }, req: ParsedRequestOf<'deleteAccount'>): Promise<Ack<OkInputOf<'deleteAccount'>>> {
      const who = caller.identity;
      if (nameKey(req.confirm.trim()) !== nameKey(who.name)) return bad(`Type your name (${who.name}) to confirm.`);
      if (deps.deletedMessages === 'remove') {
        let after: AuthoredCursor | undefined;
        for (;;) {
          const page = await store.authored(who.userId, after, EXPORT_PAGE);
          // One room at a time, in log order: each delete is an entry of its room's log, acked after its commit.
          for (const m of page) await deps.removeMessage(m.room, m.seq, who);
          const last = page.at(-1);
          if (!last || page.length < EXPORT_PAGE) break;
          after = { room: last.room, seq: last.seq };
        }
      }
      const ended = (await store.sessions(who.userId, 0)).map((s) => s.id);
      deps.changedOutsideLog(await store.deleteAccount(who.userId, DELETED_USER_NAME));
      sessions.ended(who.userId, ended);
      return { ok: true };
    },

    async exportData(caller: AccountCaller & { identity: Identity }, req: ParsedRequestOf<'exportData'>): Promise<Ack<OkInputOf<'exportData'>>> {
      const who = caller.identity;
      const after = req.after === undefined ? undefined : decodeCursor(req.after);
      if (req.after !== undefined && !after) return bad('after: not a cursor from a previous page');
      const [account, messages, rooms] = await Promise.all([
        store.account(who.userId),
        store.authored(who.userId, after, EXPORT_PAGE),
        after ? Promise.resolve([]) : store.memberships(who.userId),
      ]);
      const last = messages.at(-1);
      return {
        ok: true,
        exportedAt: Date.now(),
        account: { userId: who.userId, name: account?.name ?? who.name, registered: account !== undefined, ...(account ? { createdAt: account.createdAt } : {}) },
        rooms: rooms.map((r) => ({ room: r.room, visibility: r.visibility, lastRead: r.lastRead, ...(r.title === undefined ? {} : { title: r.title }) })),
        messages,
        ...(last && messages.length === EXPORT_PAGE ? { next: encodeCursor({ room: last.room, seq: last.seq }) } : {}),
      };
    },
  };
}

function encodeCursor(c: AuthoredCursor): string {
  return Buffer.from(JSON.stringify([c.room, c.seq])).toString('base64url');
}

function decodeCursor(s: string): AuthoredCursor | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1])) return { room: v[0], seq: v[1] as number };
  } catch {
    // Not a cursor of ours: answered below.
  }
  return undefined;
}
