/**
 * Moderation at the edge: the one place that reads a person's role in a
 * room, and the rules that follow from it (bans on every room command;
 * mutes, the lock and slow mode on posting), plus the four moderation
 * commands. State lives in the store (moderation-records.ts); each node
 * caches a room's for at most `CACHE_MS` and drops it at once when any node
 * changes it (a notice on the bus), so a change holds on every node within
 * a second. Every action is also an entry of the room's log, posted as the
 * moderator, and a row of the audit log, with the reason given.
 */
import { randomUUID } from 'node:crypto';
import {
  fail,
  forbiddenUntil,
  may,
  outranks,
  changeRole,
  MODERATION_LIMITS,
  type Ack,
  type Fail,
  type Message,
  type ModNote,
  type OkInputOf,
  type ParsedRequestOf,
  type RoomRole,
  type RoomStanding,
  type User,
} from '../../shared/protocol.ts';
import type { Bus } from '../cluster/bus.ts';
import { nameKey } from '../accounts/name-key.ts';
import type { RoomRegistry } from '../rooms/registry.ts';
import type { Identity } from '../rooms/types.ts';
import type { AccountRecord } from '../store/account-records.ts';
import { isMessage } from '../store/log-rules.ts';
import type { RoomModeration } from '../store/moderation-records.ts';
import type { EntryDraft, Store } from '../store/store.ts';
import type { RoomAccess } from './access.ts';
import { STORE_DOWN, type UserCaller } from './caller.ts';
import type { UserNotices } from './notices.ts';

/** How long a node trusts its copy of a room's moderation state without hearing of a change. */
export const CACHE_MS = 1000;
/** Rooms whose state a node caches at once, and accounts it remembers (oldest forgotten first). */
const CACHED_ROOMS = 10_000;
const CACHED_ACCOUNTS = 10_000;
const ACCOUNT_MS = 30_000;
/** Slow-mode clocks kept (one per person and room that posted lately). */
const SLOWMODE_CLOCKS = 50_000;

export interface ModerationDeps {
  store: Store;
  access: RoomAccess;
  rooms: RoomRegistry;
  notices: UserNotices;
  bus?: Bus | undefined;
  /** Account names of the deployment's administrators (`ADMINS`): owners of every public room. */
  admins?: readonly string[] | undefined;
  /** Posts an entry to the room's log as `caller` (the moderator), acked after its commit. */
  post: (caller: UserCaller, room: string, entry: EntryDraft) => Promise<Ack<OkInputOf<'edit'>>>;
  now?: () => number;
}

type ModerationCommand = 'setRole' | 'moderate' | 'reportMessage' | 'reports';
type Handlers = { [K in ModerationCommand]: (caller: UserCaller, req: ParsedRequestOf<K>) => Promise<Ack<OkInputOf<K>>> };

export class Moderation {
  private readonly cache = new Map<string, { at: number; state: Promise<RoomModeration> }>();
  private readonly accounts = new Map<string, { at: number; account: Promise<AccountRecord | undefined> }>();
  private readonly lastPost = new Map<string, { at: number; clientId: string }>();
  private readonly adminKeys: ReadonlySet<string>;
  private readonly now: () => number;

  constructor(private readonly deps: ModerationDeps) {
    this.adminKeys = new Set((deps.admins ?? []).map((n) => nameKey(n)));
    this.now = deps.now ?? Date.now;
    deps.bus?.onNotice((n) => {
      if (n.event === 'moderation_changed') this.cache.delete(n.payload.room);
    });
  }

  /** The room's moderation state, from this node's copy when fresh. */
  state(room: string): Promise<RoomModeration> {
    const hit = this.cache.get(room);
    if (hit && this.now() - hit.at < CACHE_MS) return hit.state;
    const state = this.deps.store.moderation.load(room);
    state.catch(() => this.cache.delete(room));
    if (this.cache.size >= CACHED_ROOMS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.delete(room);
    this.cache.set(room, { at: this.now(), state });
    return state;
  }

  /** A room's state changed here: forget it on this node and on every other. */
  private changed(room: string, by: string): void {
    this.cache.delete(room);
    const bus = this.deps.bus;
    bus?.notify({ node: bus.node, userId: by, event: 'moderation_changed', payload: { room } });
  }

  private account(userId: string): Promise<AccountRecord | undefined> {
    const hit = this.accounts.get(userId);
    if (hit && this.now() - hit.at < ACCOUNT_MS) return hit.account;
    const account = this.deps.store.account(userId);
    account.catch(() => this.accounts.delete(userId));
    if (this.accounts.size >= CACHED_ACCOUNTS) this.accounts.delete(this.accounts.keys().next().value as string);
    this.accounts.set(userId, { at: this.now(), account });
    return account;
  }

  /** Whether the user is one of the deployment's administrators: an account whose name `ADMINS` lists. */
  async isAdmin(userId: string): Promise<boolean> {
    if (this.adminKeys.size === 0) return false;
    const account = await this.account(userId);
    return account !== undefined && this.adminKeys.has(account.nameKey);
  }

  /**
   * A user's role in a room. A private room's owner is its creator; a
   * public room's are the administrators (without `ADMINS`: its first
   * poster, as before moderation); a direct message has members only.
   */
  async role(userId: string, room: string): Promise<RoomRole> {
    const info = await this.deps.access.info(room);
    const visibility = info?.visibility ?? 'public';
    const hasAccount = async () => ((await this.account(userId)) !== undefined ? 'member' : 'guest');
    if (visibility === 'dm') return hasAccount();
    if (visibility === 'private' && info?.owner === userId) return 'owner';
    if (visibility === 'public') {
      if (this.adminKeys.size > 0 ? await this.isAdmin(userId) : info?.owner === userId) return 'owner';
    }
    const state = await this.state(room);
    if (state.moderators.some((m) => m.userId === userId)) return 'moderator';
    return hasAccount();
  }

  /** Refuses a banned user (or address) every command that names the room. */
  async admits(identity: Identity, address: string, room: string): Promise<Fail | undefined> {
    const state = await this.state(room).catch(() => undefined);
    // The store is down: answered as the room itself would answer, and retried by the client.
    if (!state) return STORE_DOWN;
    const banned = state.bans.some((b) => b.user.userId === identity.userId || (b.address !== undefined && b.address === address));
    return banned ? fail('forbidden', 'you are banned from this room') : undefined;
  }

  /**
   * Whether `caller` may post an entry of this kind now: a mute refuses
   * messages, edits and reactions; a lock and slow mode refuse messages by
   * anyone who does not moderate the room. A message let through under slow
   * mode starts its author's clock (a retry of that same message passes).
   */
  async mayPost(caller: UserCaller, room: string, kind: 'message' | 'edit' | 'reaction', clientId: string): Promise<Fail | undefined> {
    try {
      return await this.checkPost(caller, room, kind, clientId);
    } catch {
      return STORE_DOWN;
    }
  }

  private async checkPost(caller: UserCaller, room: string, kind: 'message' | 'edit' | 'reaction', clientId: string): Promise<Fail | undefined> {
    const userId = caller.identity.userId;
    const state = await this.state(room);
    const now = this.now();
    const mute = state.mutes.find((m) => m.user.userId === userId && (m.until === 0 || m.until > now));
    if (mute) {
      return mute.until === 0
        ? forbiddenUntil('you are muted in this room until a moderator unmutes you', undefined)
        : forbiddenUntil(`you are muted in this room until ${new Date(mute.until).toISOString()}`, mute.until);
    }
    if (kind !== 'message' || (!state.rules.locked && state.rules.slowmode === 0)) return undefined;
    const role = await this.role(userId, room);
    if (state.rules.locked && !may(role, 'postWhenLocked')) return fail('forbidden', 'this room is locked: only its moderators can post');
    if (state.rules.slowmode === 0 || may(role, 'skipSlowmode')) return undefined;
    const key = `${room}\u0000${userId}`;
    const last = this.lastPost.get(key);
    const until = last ? last.at + state.rules.slowmode * 1000 : 0;
    if (last && until > now && last.clientId !== clientId) {
      return forbiddenUntil(`slow mode: one message every ${state.rules.slowmode} s; you can post again in ${Math.ceil((until - now) / 1000)} s`, until);
    }
    this.lastPost.delete(key);
    if (this.lastPost.size >= SLOWMODE_CLOCKS) this.lastPost.delete(this.lastPost.keys().next().value as string);
    this.lastPost.set(key, { at: last?.clientId === clientId ? last.at : now, clientId });
    return undefined;
  }

  /** A message refused after `mayPost` let it through: its slow-mode clock does not run. */
  notPosted(room: string, userId: string, clientId: string): void {
    const key = `${room}\u0000${userId}`;
    if (this.lastPost.get(key)?.clientId === clientId) this.lastPost.delete(key);
  }

  /** The caller's standing in a room, for a join's answer. */
  async standing(userId: string, room: string): Promise<RoomStanding> {
    const [state, role] = await Promise.all([this.state(room), this.role(userId, room)]);
    const now = this.now();
    const mute = state.mutes.find((m) => m.user.userId === userId && (m.until === 0 || m.until > now));
    const out: RoomStanding = { role };
    if (mute) out.mutedUntil = mute.until;
    if (state.rules.slowmode > 0) out.slowmode = state.rules.slowmode;
    if (state.rules.locked) out.locked = true;
    if (state.rules.pins.length > 0) {
      const pinned = await Promise.all(state.rules.pins.map((seq) => this.messageAt(room, seq)));
      out.pinned = pinned.flatMap((m) =>
        m ? [{ seq: m.seq, author: m.author, authorId: m.authorId, text: [...m.text].slice(0, 140).join(''), ...(m.deleted ? { deleted: true } : {}) }] : [],
      );
    }
    if (may(role, 'reports')) out.reports = await this.deps.store.moderation.openReportCount(room);
    return out;
  }

  private async messageAt(room: string, seq: number): Promise<Message | undefined> {
    if (seq < 1) return undefined;
    const [m] = await this.deps.store.readAfter(room, seq - 1, 1);
    return m && m.seq === seq && isMessage(m) ? m : undefined;
  }

  /** Everyone who moderates the room (to tell them of reports). */
  private async staff(room: string): Promise<string[]> {
    const { store, access } = this.deps;
    const info = await access.info(room);
    const ids = new Set((await this.state(room)).moderators.map((m) => m.userId));
    if (info?.visibility === 'private' && info.owner) ids.add(info.owner);
    if ((info?.visibility ?? 'public') === 'public') {
      if (this.adminKeys.size === 0) {
        if (info?.owner) ids.add(info.owner);
      } else {
        for (const key of this.adminKeys) {
          const admin = await store.accountByName(key);
          if (admin) ids.add(admin.userId);
        }
      }
    }
    return [...ids];
  }

  private async tellStaff(room: string): Promise<void> {
    const open = await this.deps.store.moderation.openReportCount(room);
    for (const userId of await this.staff(room)) this.deps.notices.send(userId, 'reported', { room, open });
  }

  private async audit(caller: UserCaller, room: string, action: string, extra: { subject?: User; target?: number; seconds?: number; role?: string; reason?: string }) {
    await this.deps.store.moderation.audit({ ts: this.now(), room, actor: { userId: caller.identity.userId, name: caller.identity.name }, action, ...extra });
  }

  /** Posts a moderation entry as the moderator; undefined once committed, else the refusal. */
  private async note(caller: UserCaller, room: string, mod: ModNote, target?: number): Promise<Fail | undefined> {
    const entry: EntryDraft = { kind: 'moderation', clientId: randomUUID(), text: '', mod, ...(target !== undefined ? { target } : {}) };
    const ack = await this.deps.post(caller, room, entry);
    return ack.ok ? undefined : ack;
  }

  /** The moderation commands, each answering `unavailable` when the store fails rather than throwing. */
  handlers(): Handlers {
    const inner = this.rawHandlers();
    const out = {} as Record<string, unknown>;
    for (const [name, handler] of Object.entries(inner)) {
      out[name] = async (caller: UserCaller, req: never) => {
        try {
          return await (handler as (c: UserCaller, r: never) => Promise<unknown>)(caller, req);
        } catch {
          return STORE_DOWN;
        }
      };
    }
    return out as Handlers;
  }

  private rawHandlers(): Handlers {
    const { store, rooms, notices } = this.deps;
    const records = store.moderation;
    /** The subject of an action on a user: they exist, and the actor outranks them. */
    const subjectOf = async (caller: UserCaller, room: string, actor: RoomRole, userId: string): Promise<{ user: User } | Fail> => {
      if (userId === caller.identity.userId) return fail('forbidden', 'you cannot do that to yourself');
      const user = await store.user(userId);
      if (!user) return fail('not_found', 'no such user');
      if (!outranks(actor, await this.role(userId, room))) return fail('forbidden', 'you cannot act on someone whose role is the same as yours or above');
      return { user };
    };
    const reason = (r: string | undefined) => (r ? { reason: r } : {});

    return {
      setRole: async (caller, { room, userId, role }) => {
        const actor = caller.identity.userId;
        if ((await this.deps.access.info(room))?.visibility === 'dm') return fail('forbidden', 'a direct message has no roles');
        const [actorRole, subjectRole, user, account] = await Promise.all([this.role(actor, room), this.role(userId, room), store.user(userId), this.account(userId)]);
        if (!user) return fail('not_found', 'no such user');
        const state = await this.state(room);
        const book = {
          owners: [...(actorRole === 'owner' ? [actor] : []), ...(subjectRole === 'owner' ? [userId] : [])],
          moderators: state.moderators.map((m) => m.userId),
        };
        const change = changeRole(book, actor, userId, role, account !== undefined);
        if (!change.ok) return fail('forbidden', change.reason);
        const refused = await this.note(caller, room, { action: 'role', user, role });
        if (refused) return refused;
        await records.setModerator(room, user, role === 'moderator');
        this.changed(room, actor);
        await this.audit(caller, room, 'role', { subject: user, role });
        return { ok: true };
      },

      moderate: async (caller, req) => {
        const { room, action } = req;
        const actor = caller.identity.userId;
        if ((await this.deps.access.info(room))?.visibility === 'dm') return fail('forbidden', 'a direct message has no moderators');
        const role = await this.role(actor, room);
        if (!may(role, action)) return fail('forbidden', 'only the room\'s moderators can do that');
        const now = this.now();
        const resolve = async (target: number | undefined, resolution: 'dismissed' | 'acted') => {
          if (target === undefined) return 0;
          const n = await records.resolveReports(room, target, actor, resolution, now);
          if (n > 0) await this.tellStaff(room);
          return n;
        };

        switch (action) {
          case 'delete': {
            const target = req.target as number;
            const ack = await this.deps.post(caller, room, { kind: 'delete', clientId: randomUUID(), text: '', target, staff: true });
            if (!ack.ok) return ack;
            await resolve(target, 'acted');
            await this.audit(caller, room, action, { target, ...reason(req.reason) });
            return { ok: true };
          }
          case 'mute':
          case 'unmute':
          case 'ban':
          case 'unban': {
            const subject = await subjectOf(caller, room, role, req.userId as string);
            if ('ok' in subject) return subject;
            const { user } = subject;
            const state = await this.state(room);
            if (action === 'unmute' && !state.mutes.some((m) => m.user.userId === user.userId && (m.until === 0 || m.until > now))) {
              return fail('not_found', `${user.name} is not muted here`);
            }
            if (action === 'unban' && !state.bans.some((b) => b.user.userId === user.userId)) return fail('not_found', `${user.name} is not banned here`);
            const seconds = action === 'mute' && req.seconds ? req.seconds : undefined;
            const refused = await this.note(caller, room, { action, user, ...(seconds !== undefined ? { seconds } : {}) });
            if (refused) return refused;
            if (action === 'mute') await records.mute(room, user, seconds === undefined ? 0 : now + seconds * 1000);
            if (action === 'unmute') await records.unmute(room, user.userId);
            if (action === 'unban') await records.unban(room, user.userId);
            if (action === 'ban') {
              const address = req.address ? await this.lastAddress(user.userId) : undefined;
              await records.ban(room, { user, address, at: now });
              await records.setModerator(room, user, false);
              await store.removeMember(room, user.userId);
            }
            this.changed(room, actor);
            if (action === 'ban') {
              // Every subscription of theirs ends at once, here and (through the bus) on every node.
              rooms.kick(room, user.userId);
              notices.send(user.userId, 'removed', { room });
            }
            await resolve(req.target, 'acted');
            await this.audit(caller, room, action, { subject: user, ...(req.target !== undefined ? { target: req.target } : {}), ...(seconds !== undefined ? { seconds } : {}), ...reason(req.reason) });
            return { ok: true };
          }
          case 'slowmode':
          case 'lock':
          case 'unlock':
          case 'pin':
          case 'unpin': {
            const rules = { ...(await this.state(room)).rules };
            const target = req.target;
            if (action === 'pin') {
              if (rules.pins.includes(target as number)) return { ok: true };
              if (rules.pins.length >= MODERATION_LIMITS.pins) return fail('forbidden', `at most ${MODERATION_LIMITS.pins} messages can be pinned: unpin one first`);
            }
            if (action === 'unpin' && !rules.pins.includes(target as number)) return fail('not_found', 'that message is not pinned');
            const seconds = action === 'slowmode' ? (req.seconds ?? 0) : undefined;
            const refused = await this.note(caller, room, { action, ...(seconds !== undefined ? { seconds } : {}) }, target);
            if (refused) return refused;
            // Read again after the commit: another moderator may have changed the rules meanwhile.
            this.cache.delete(room);
            const fresh = { ...(await this.state(room)).rules };
            if (action === 'slowmode') fresh.slowmode = seconds as number;
            if (action === 'lock' || action === 'unlock') fresh.locked = action === 'lock';
            if (action === 'pin') fresh.pins = [...fresh.pins.filter((p) => p !== target), target as number].slice(-MODERATION_LIMITS.pins);
            if (action === 'unpin') fresh.pins = fresh.pins.filter((p) => p !== target);
            await records.setRules(room, fresh);
            this.changed(room, actor);
            await this.audit(caller, room, action, { ...(target !== undefined ? { target } : {}), ...(seconds !== undefined ? { seconds } : {}), ...reason(req.reason) });
            return { ok: true };
          }
          case 'dismiss': {
            const n = await resolve(req.target, 'dismissed');
            if (n === 0) return fail('not_found', 'that message has no open reports');
            await this.audit(caller, room, action, { target: req.target as number, ...reason(req.reason) });
            return { ok: true };
          }
        }
      },

      reportMessage: async (caller, { room, target, reason: why, text }) => {
        const message = await this.messageAt(room, target);
        if (!message || message.deleted) return fail('not_found', 'no such message in this room');
        if (message.authorId === caller.identity.userId) return fail('bad_request', 'you cannot report your own message');
        const filed = await records.addReport({
          id: randomUUID(),
          room,
          target,
          authorId: message.authorId,
          reporter: { userId: caller.identity.userId, name: caller.identity.name },
          reason: why,
          text: text || undefined,
          ts: this.now(),
        });
        if (filed) await this.tellStaff(room);
        return { ok: true };
      },

      reports: async (caller, { room }) => {
        const userId = caller.identity.userId;
        if (!may(await this.role(userId, room), 'reports')) return fail('forbidden', "only the room's moderators can see its reports");
        // A reported moderator never sees who reported them: those reports are left to the others (and to /ops).
        const open = (await records.openReports(room, MODERATION_LIMITS.reportsShown)).filter((r) => r.authorId !== userId);
        const messages = new Map<number, Message | undefined>();
        for (const r of open) if (!messages.has(r.target)) messages.set(r.target, await this.messageAt(room, r.target));
        return {
          ok: true,
          open: await records.openReportCount(room),
          reports: open.map((r) => {
            const message = messages.get(r.target);
            return { id: r.id, room, target: r.target, reporter: r.reporter, reason: r.reason, ts: r.ts, ...(r.text ? { text: r.text } : {}), ...(message ? { message } : {}) };
          }),
        };
      },
    };
  }

  /** The address a user's most recent session came from (a ban that also holds for the address). */
  private async lastAddress(userId: string): Promise<string | undefined> {
    const sessions = await this.deps.store.sessions(userId, this.now());
    return sessions.sort((a, b) => b.lastSeenAt - a.lastSeenAt).find((s) => s.address)?.address;
  }
}
