/**
 * The chat core: owns the session, the one connection and its state machine,
 * and composes room sync and the outbox behind a single facade. It exposes an
 * external store (`subscribe`/`getSnapshot`) for `useSyncExternalStore` and
 * lives outside the React tree, so StrictMode's double mounting never opens a
 * second connection.
 */
import type { Attachment, OkOf } from '../../../shared/protocol.ts';
import { checkName } from '../../../shared/text-rules.ts';
import { newClientId } from './client-id.ts';
import {
  DEFAULT_TIMING,
  initialMachine,
  transition,
  type ConnectionEffect,
  type ConnectionEvent,
  type MachineState,
  type Timing,
} from './connection-machine.ts';
import { connectionView, type ConnectionState } from './connection-view.ts';
import { SESSION_EXPIRED_TEXT, SESSION_REVOKED_TEXT } from './error-text.ts';
import { ChatStore, type ChatSnapshot } from './chat-store.ts';
import type { Live } from './link.ts';
import { MyRooms, type Alert } from './my-rooms.ts';
import { usersOf } from './room-log.ts';
import { OutboxSender, type SendResult } from './outbox-sender.ts';
import { OutboxStorage } from './outbox-storage.ts';
import { RoomActions } from './room-actions.ts';
import { RoomSync } from './room-sync.ts';
import { clearSession, lastName, loadSession, saveSession, type Session, type SessionApi, type SessionResult } from './session.ts';
import { memoryStorage, type KeyValueStorage } from './storage.ts';
import { Timers, type TimerApi } from './timers.ts';
import { loadChoice, saveChoice, type TransportInfo } from './transport-choice.ts';
import { TransportReports } from './transport-reports.ts';
import {
  forcedKind,
  roundTrip,
  type Transport,
  type TransportFactory,
  type TransportListener,
  type TransportPreference,
} from './transport.ts';

export type { ChatSnapshot } from './chat-store.ts';
export type { SendResult } from './outbox-sender.ts';
export type { Alert } from './my-rooms.ts';

/** The wall-clock watch ticks this often while online. */
export const CLOCK_TICK_MS = 2000;
/** A tick this much later than due means the machine slept or the tab was frozen. */
export const CLOCK_JUMP_MS = 8000;

export interface ChatClientDeps {
  /** Shared by the browser's tabs (localStorage): session and outboxes. */
  storage: KeyValueStorage;
  /** This tab only (sessionStorage): its outbox id and the transport choice. Defaults to memory. */
  tabStorage?: KeyValueStorage;
  sessionApi: SessionApi;
  transportFactory: TransportFactory;
  /** `?transport=`; default automatic. */
  preference?: TransportPreference;
  timing?: Timing;
  now?: () => number;
  random?: () => number;
  newClientId?: () => string;
  timers?: TimerApi;
  /** Hears of mentions and direct messages (desktop notifications, a sound). */
  alert?: (a: Alert) => void;
}

export class ChatClient {
  private readonly store = new ChatStore();
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timing: Timing;
  private readonly tabStorage: KeyValueStorage;
  private readonly outbox: OutboxSender;
  private readonly rooms: RoomSync;
  private readonly myRooms: MyRooms;
  /** Fallbacks and upgrades, told to the server for its operators. */
  private readonly reports: TransportReports;
  /** Edits, deletes, reactions, replies; private rooms and direct messages (room-actions.ts). */
  readonly actions: RoomActions;

  private machine: MachineState;
  private transport: Transport | null = null;
  /** A second transport trying a better rung in the background. */
  private probe: Transport | null = null;
  private readonly queue: ConnectionEvent[] = [];
  private dispatching = false;
  /** When the server was last heard on the main transport. */
  private lastHeard = 0;
  /** When the wall-clock watch last ticked. */
  private lastTick = 0;
  /** Why the server said the session is over (`bye`), for the words on the welcome screen. */
  private endedBy: 'session_expired' | 'session_revoked' | null = null;

  constructor(private readonly deps: ChatClientDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.timing = deps.timing ?? DEFAULT_TIMING;
    this.timers = new Timers(deps.timers);
    this.tabStorage = deps.tabStorage ?? memoryStorage();
    const forced = forcedKind(deps.preference ?? 'auto');
    const remembered = forced ? null : loadChoice(this.tabStorage);
    this.machine = initialMachine(forced, remembered);
    this.store.set({ transport: this.infoOf(this.machine, remembered !== null) });
    const link = () => this.live();
    const common = { store: this.store, link, timers: this.timers, now: this.now };
    const ids = deps.newClientId ?? newClientId;
    this.outbox = new OutboxSender({
      ...common,
      storage: new OutboxStorage(deps.storage, this.tabStorage),
      random: this.random,
      newClientId: ids,
    });
    this.rooms = new RoomSync({ ...common, outbox: this.outbox, joined: (room, ack) => this.myRooms.joined(room, ack) });
    this.myRooms = new MyRooms({
      ...common,
      subscribe: (rooms) => this.rooms.subscribeAll(rooms),
      unsubscribe: (room) => this.rooms.unsubscribe(room),
      alert: deps.alert,
    });
    this.reports = new TransportReports(link);
    this.actions = new RoomActions({
      store: this.store,
      link,
      newClientId: ids,
      loadOlder: (room) => this.rooms.loadOlder(room),
      loadAround: (room, seq) => this.rooms.loadAround(room, seq),
      backToLive: (room) => this.rooms.backToLive(room),
    });
  }

  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);
  getSnapshot = (): ChatSnapshot => this.store.getSnapshot();

  /**
   * The transport and session, only while online. Everything that talks to
   * the server asks here first, so a connection silent for longer than its
   * transport allows (the machine slept, the tab was frozen) is noticed
   * before a message goes into it: it is dropped and reconnected instead.
   */
  private live(): Live | null {
    const { session } = this.store.getSnapshot();
    if (!this.transport || !session || this.machine.phase.name !== 'online') return null;
    if (this.now() - this.lastHeard > this.transport.silenceLimitMs()) {
      this.dispatch({ type: 'stale' });
      return null;
    }
    return { transport: this.transport, session };
  }

  // ----- life cycle and session -------------------------------------------

  /**
   * Restores the stored session and outbox; connects if signed in.
   *
   * `autoName` (`?name=`) signs in at once only when signed out. Signed in
   * under another name, it is a question for the user (`pendingSwitch`), and
   * the current identity stays connected until `confirmSwitch`: a link that
   * anyone can send must not be able to throw away someone's session and
   * its token, which is the only way back to that identity.
   */
  start(opts: { autoName?: string | undefined } = {}): void {
    const { storage } = this.deps;
    const session = loadSession(storage, this.now());
    const raw = opts.autoName ?? '';
    const wanted = raw.trim() === '' ? null : checkName(raw);
    const wantedName = wanted === null ? '' : wanted.ok ? wanted.value : raw.trim();
    this.outbox.load();
    if (!session) {
      this.store.set({ session, suggestedName: wantedName || lastName(storage) });
      if (wanted !== null) void this.signIn(raw);
      return;
    }
    const pendingSwitch = wanted?.ok && wanted.value !== session.name ? { name: wanted.value } : null;
    this.store.set({ session, suggestedName: session.name, pendingSwitch });
    this.dispatch({ type: 'start' });
  }

  /**
   * The user answered "Switch" to a `?name=` link: sign in under the new name.
   * The current session stays until the new one exists, so a refusal (name
   * rules, rate limit, no network) leaves the user where they were, with the
   * reason in `login.error`.
   */
  async confirmSwitch(): Promise<void> {
    const pending = this.store.getSnapshot().pendingSwitch;
    if (pending) await this.signIn(pending.name);
  }

  /** The user answered "Stay": keep the current identity. */
  cancelSwitch(): void {
    if (this.store.getSnapshot().pendingSwitch) this.store.set({ pendingSwitch: null, login: { pending: false, error: null } });
  }

  /** Closes the connection and every timer (page unload, tests). */
  stop(): void {
    this.dispatch({ type: 'stop' });
    this.timers.clearAll();
  }

  /**
   * Creates a guest session under `name` and connects with it, replacing the
   * current one only once the new one exists. The name is checked with the
   * shared name rules first, so a refusal needs no round trip and reads the
   * same as the server's.
   */
  async signIn(name: string): Promise<void> {
    if (this.store.getSnapshot().login.pending) return;
    const check = checkName(name);
    if (!check.ok) {
      this.store.set({ login: { pending: false, error: check.message }, suggestedName: name });
      return;
    }
    this.store.set({ suggestedName: check.value });
    await this.adopt(() => this.deps.sessionApi.create(check.value));
  }

  /** Signs in to an account with its password (`create`: makes the account first). */
  async signInWithPassword(name: string, password: string, create = false): Promise<void> {
    const check = checkName(name);
    if (!check.ok) {
      this.store.set({ login: { pending: false, error: check.message } });
      return;
    }
    await this.adopt(() => (create ? this.deps.sessionApi.register(check.value, password) : this.deps.sessionApi.login(check.value, password)));
  }

  /** Signs in with a passkey the browser holds for this site. */
  async signInWithPasskey(): Promise<void> {
    await this.adopt(() => this.deps.sessionApi.passkey());
  }

  /**
   * A guest keeps their name: an account with a password, under the same
   * userId and the same session (the connection goes on as it is). Answers
   * the refusal in words, or null.
   */
  async claimName(password: string): Promise<string | null> {
    const session = this.store.getSnapshot().session;
    if (!session) return 'You are not signed in.';
    const res = await this.deps.sessionApi.register(session.name, password, session.token);
    if (!res.ok) return res.message;
    this.replaced(res.session);
    return null;
  }

  /** The server answered with a fresher copy of this session (a claim by passkey made it an account). */
  replaced(session: Session): void {
    saveSession(this.deps.storage, session);
    this.store.set({ session });
  }

  /**
   * Replaces the session with the one `open` makes, reconnecting with it; a
   * refusal (name rules, a wrong password, rate limit, no network) leaves the
   * user where they were, with the reason in `login.error`.
   */
  private async adopt(open: () => Promise<SessionResult>): Promise<void> {
    if (this.store.getSnapshot().login.pending) return;
    this.store.set({ login: { pending: true, error: null }, signedOut: null });
    const res = await open();
    if (!res.ok) {
      this.store.set({ login: { pending: false, error: res.message } });
      return;
    }
    this.dispatch({ type: 'stop' });
    saveSession(this.deps.storage, res.session);
    this.store.set({
      session: res.session,
      suggestedName: res.session.name,
      login: { pending: false, error: null },
      pendingSwitch: null,
    });
    this.dispatch({ type: 'start' });
  }

  /** The user turned to another way in: the last refusal no longer applies. */
  clearLoginError(): void {
    if (this.store.getSnapshot().login.error !== null) this.store.set({ login: { pending: this.store.getSnapshot().login.pending, error: null } });
  }

  /**
   * "Sign out": ends the session on the server (unless it is `ended`
   * already, as by deleting the account) and shows the welcome screen, with
   * `notice` when given. Unsent messages stay queued.
   */
  signOut(opts: { notice?: string; ended?: boolean } = {}): void {
    const session = this.store.getSnapshot().session;
    this.dispatch({ type: 'stop' });
    clearSession(this.deps.storage);
    this.store.set({ session: null, pendingSwitch: null, signedOut: opts.notice ?? null });
    if (session && !opts.ended) void this.deps.sessionApi.end(session);
  }

  /** The browser's online/offline signal: skip useless attempts offline, retry at once when back. */
  setNetworkAvailable(online: boolean): void {
    this.dispatch({ type: online ? 'network-online' : 'network-offline' });
  }

  /** Reconnect now instead of waiting out the backoff. */
  retryNow(): void {
    this.dispatch({ type: 'retry-now' });
  }

  /** The page became visible again or got focus: a good moment to check a connection that may have slept. */
  checkConnection(): void {
    this.clockTick();
  }

  /** localStorage changed in another tab (the `storage` event). */
  storageChanged(key: string | null): void {
    this.outbox.storageChanged(key);
  }

  // ----- rooms and messages ------------------------------------------------

  openRoom(name: string): void {
    this.rooms.open(name);
  }

  loadOlder(name: string): Promise<void> {
    return this.rooms.loadOlder(name);
  }

  /** Loads the page below an older stretch on show (scrolling down toward the live tail). */
  loadNewer(name: string): Promise<void> {
    return this.rooms.loadNewer(name);
  }

  /** Leaves an older stretch on show for the room's live tail ("Jump to present"). */
  backToLive(name: string): void {
    this.rooms.backToLive(name);
  }

  /** The rooms this connection is in, with how many people each has present; null while offline. */
  async listRooms(): Promise<OkOf<'rooms'>['rooms'] | null> {
    const live = this.live();
    if (!live) return null;
    const res = await live.transport.request('rooms', {});
    return res.ok ? res.rooms : null;
  }

  notifyTyping(name: string): void {
    this.rooms.notifyTyping(name);
  }

  /**
   * Queues a message; `mentions` are the userIds it mentions (see
   * mentions.ts). It answers the message chosen with "Reply", if any.
   */
  send(room: string, text: string, mentions: readonly string[] = [], attachments: readonly Attachment[] = []): SendResult {
    const replyTo = this.actions.replyFor(room);
    const res = this.outbox.send(room, text, mentions, replyTo, attachments);
    // What the user just wrote shows at the end of the conversation: back to it.
    if (res.ok) this.rooms.backToLive(room);
    if (res.ok) {
      this.rooms.resetTyping(room);
      if (replyTo !== undefined) this.actions.cancelReply(room);
    }
    return res;
  }

  // ----- my rooms, read positions, typing stop ------------------------------

  /** The composer was emptied: end this user's "is typing" at once. */
  stopTyping(room: string): void {
    this.rooms.stopTyping(room);
  }

  /** The view showed messages up to `seq` in a visible tab: they are read (never moves back). */
  markRead(room: string, seq: number): void {
    this.myRooms.seen(room, seq);
  }

  /** "Leave room": removes it from the user's rooms. Resolves with a sentence for people, or null. */
  partRoom(room: string): Promise<string | null> {
    return this.myRooms.part(room);
  }

  /** Public rooms whose name contains `q`, for "Browse rooms". */
  browseRooms(q: string): ReturnType<MyRooms['directory']> {
    return this.myRooms.directory(q);
  }

  retry(clientId: string): void {
    this.outbox.retry(clientId);
  }

  discard(clientId: string): void {
    this.outbox.discard(clientId);
  }

  // ----- connection state machine ------------------------------------------

  private dispatch(event: ConnectionEvent): void {
    // Transports may call back synchronously from open(); queue instead of re-entering.
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let ev = this.queue.shift(); ev !== undefined; ev = this.queue.shift()) this.step(ev);
    } finally {
      this.dispatching = false;
    }
  }

  private step(event: ConnectionEvent): void {
    const before = this.machine;
    const mainBefore = this.transport;
    const { state, effects } = transition(before, event, { now: this.now(), random: this.random, timing: this.timing });
    if (state === before) return;
    this.machine = state;
    for (const effect of effects) this.run(effect);
    if (state.deadline !== before.deadline) {
      if (state.deadline === null) this.timers.clear('connection');
      else this.timers.set('connection', Math.max(0, state.deadline - this.now()), () => this.dispatch({ type: 'deadline' }));
    }
    this.publish(state);

    const wasOnline = before.phase.name === 'online';
    const isOnline = state.phase.name === 'online';
    if (wasOnline && (!isOnline || this.transport !== mainBefore)) {
      this.rooms.disconnected();
      this.myRooms.disconnected();
    }
    if (isOnline && (!wasOnline || this.transport !== mainBefore)) {
      const { lastBye, lastRefusal } = this.store.getSnapshot();
      if (lastBye !== null || lastRefusal !== null) this.store.set({ lastBye: null, lastRefusal: null });
      this.lastHeard = this.now();
      this.startClock();
      this.rooms.connected();
      this.myRooms.connected();
      this.outbox.connected();
    }
    if (!isOnline) this.timers.clear('clock');
    this.reports.observe(before, state);
  }

  /** Updates the snapshot's connection view and transport details, keeping unchanged objects. */
  private publish(state: MachineState): void {
    const snap = this.store.getSnapshot();
    const connection = connectionView(state);
    const transport = this.infoOf(state, snap.transport.remembered);
    const patch: { connection?: ConnectionState; transport?: TransportInfo } = {};
    if (JSON.stringify(connection) !== JSON.stringify(snap.connection)) patch.connection = connection;
    if (JSON.stringify(transport) !== JSON.stringify(snap.transport)) patch.transport = transport;
    if (patch.connection || patch.transport) this.store.set(patch);
  }

  private infoOf(state: MachineState, remembered: boolean): TransportInfo {
    return { forced: state.forced, skipped: state.skipped, remembered, probing: state.probe?.via ?? null };
  }

  private run(effect: ConnectionEffect): void {
    switch (effect.type) {
      case 'open': {
        this.closeTransport();
        const t = this.makeTransport(effect.kind);
        this.transport = t;
        t?.open();
        return;
      }
      case 'close':
        return this.closeTransport();
      case 'ping':
        return this.ping(this.transport, (ok) => ({ type: 'ping-result', ok }));
      case 'probe-open': {
        this.closeProbe();
        const t = this.makeTransport(effect.kind);
        this.probe = t;
        t?.open();
        return;
      }
      case 'probe-ping':
        return this.ping(this.probe, (ok) => ({ type: 'probe-ping-result', ok }));
      case 'probe-close':
        return this.closeProbe();
      case 'promote-probe': {
        const old = this.transport;
        this.transport = this.probe;
        this.probe = null;
        old?.close();
        return;
      }
      case 'remember':
        return saveChoice(this.tabStorage, { home: effect.home, skipped: effect.skipped });
      case 'drop-session':
        clearSession(this.deps.storage);
        this.store.set({
          session: null,
          pendingSwitch: null,
          login: { pending: false, error: null },
          signedOut: this.endedBy === 'session_revoked' ? SESSION_REVOKED_TEXT : SESSION_EXPIRED_TEXT,
        });
        this.endedBy = null;
        return;
    }
  }

  private makeTransport(kind: Parameters<TransportFactory>[0]): Transport | null {
    const session = this.store.getSnapshot().session;
    if (!session) return null;
    const transport: Transport = this.deps.transportFactory(kind, session.token, this.listenerFor(() => transport));
    return transport;
  }

  /** One round trip on `t`; the answer counts only while `t` still has the same role. */
  private ping(t: Transport | null, result: (ok: boolean) => ConnectionEvent): void {
    if (!t) return;
    const role = t === this.transport ? 'main' : 'probe';
    void roundTrip(t).then((ok) => {
      if ((role === 'main' ? this.transport : this.probe) === t) this.dispatch(result(ok));
    });
  }

  private closeTransport(): void {
    const t = this.transport;
    this.transport = null;
    t?.close();
  }

  private closeProbe(): void {
    const t = this.probe;
    this.probe = null;
    t?.close();
  }

  // ----- wall-clock liveness -----------------------------------------------

  private startClock(): void {
    this.lastTick = this.now();
    this.timers.set('clock', CLOCK_TICK_MS, () => this.clockTick());
  }

  /**
   * Timers stop while the machine sleeps and crawl in a frozen tab, but the
   * wall clock keeps going. A tick far later than due means the connection
   * may have died unnoticed: drop it if it has been silent too long, else
   * check it with a round trip.
   */
  private clockTick(): void {
    if (this.machine.phase.name !== 'online' || !this.transport) return;
    const now = this.now();
    const late = now - this.lastTick - CLOCK_TICK_MS;
    this.lastTick = now;
    this.timers.set('clock', CLOCK_TICK_MS, () => this.clockTick());
    if (now - this.lastHeard > this.transport.silenceLimitMs()) this.dispatch({ type: 'stale' });
    else if (late > CLOCK_JUMP_MS) this.dispatch({ type: 'woke' });
  }

  /** Callbacks from one transport, routed by its role now: main, probe, or retired (ignored). */
  private listenerFor(self: () => Transport): TransportListener {
    const role = (): 'main' | 'probe' | null => {
      const t = self();
      if (this.transport === t) return 'main';
      if (this.probe === t) return 'probe';
      return null;
    };
    const main = () => role() === 'main';
    return {
      opened: (kind) => {
        const r = role();
        if (r === 'main') this.dispatch({ type: 'opened', kind });
        else if (r === 'probe') this.dispatch({ type: 'probe-opened' });
      },
      kindChanged: (kind) => main() && this.dispatch({ type: 'upgraded', kind }),
      closed: (info) => {
        const r = role();
        if (r === 'probe') return this.dispatch({ type: 'probe-closed', refused: info.refusal !== undefined });
        if (r !== 'main') return;
        if (info.unauthorized) return this.dispatch({ type: 'unauthorized' });
        const refusal = info.refusal ?? null;
        if (this.store.getSnapshot().lastRefusal !== refusal) this.store.set({ lastRefusal: refusal });
        this.dispatch({ type: 'closed', cause: info.cause ?? 'lost', retryAfterMs: info.retryAfterMs });
      },
      messages: (ev) => {
        if (!main()) return;
        this.rooms.receiveMessages(ev.room, ev.messages);
        this.myRooms.received(ev.room, ev.messages);
      },
      presence: (ev) => main() && this.rooms.receivePresence(ev.room, usersOf(ev)),
      typing: (ev) => main() && this.rooms.receiveTyping(ev.room, usersOf({ members: ev.typing, users: ev.users })),
      bye: (ev) => {
        if (!main()) return;
        // The server closes next, and the transport reports that with the
        // requested pause. An expired session will not be let back in: sign
        // out now rather than after a refused reconnect.
        if (ev.reason === 'session_expired' || ev.reason === 'session_revoked') {
          this.endedBy = ev.reason;
          this.dispatch({ type: 'unauthorized' });
        } else this.store.set({ lastBye: ev.reason });
      },
      heard: () => {
        if (main()) this.lastHeard = this.now();
      },
      roomReset: (room) => main() && this.rooms.reload(room),
      read: (ev) => main() && this.myRooms.readElsewhere(ev.room, ev.seq),
      invited: (ev) => {
        if (!main()) return;
        this.actions.invited(ev.room, ev.title, ev.by);
        this.myRooms.invited();
      },
      removed: (ev) => {
        if (!main()) return;
        // The server has ended the subscription: the room's copy goes, and the list no longer has it.
        this.actions.removed(ev.room);
        this.rooms.unsubscribe(ev.room);
        void this.myRooms.refresh();
      },
    };
  }
}
