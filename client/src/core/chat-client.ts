/**
 * The chat core: owns the session, the one connection and its state machine,
 * and composes room sync and the outbox behind a single facade. It exposes an
 * external store (`subscribe`/`getSnapshot`) for `useSyncExternalStore` and
 * lives outside the React tree, so StrictMode's double mounting never opens a
 * second connection.
 */
import { newClientId } from './client-id.ts';
import { transition, type ConnectionEffect, type ConnectionEvent } from './connection-machine.ts';
import { ChatStore, type ChatSnapshot } from './chat-store.ts';
import type { Live } from './link.ts';
import { OutboxSender, type SendResult } from './outbox-sender.ts';
import { RoomSync } from './room-sync.ts';
import { clearSession, lastName, loadSession, saveSession, type SessionApi } from './session.ts';
import type { KeyValueStorage } from './storage.ts';
import { Timers, type TimerApi } from './timers.ts';
import type { Transport, TransportFactory, TransportListener } from './transport.ts';

export type { ChatSnapshot } from './chat-store.ts';
export type { SendResult } from './outbox-sender.ts';

export interface ChatClientDeps {
  storage: KeyValueStorage;
  sessionApi: SessionApi;
  transportFactory: TransportFactory;
  now?: () => number;
  random?: () => number;
  newClientId?: () => string;
  timers?: TimerApi;
}

export class ChatClient {
  private readonly store = new ChatStore();
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly outbox: OutboxSender;
  private readonly rooms: RoomSync;

  private transport: Transport | null = null;
  private readonly queue: ConnectionEvent[] = [];
  private dispatching = false;

  constructor(private readonly deps: ChatClientDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.timers = new Timers(deps.timers);
    const link = () => this.live();
    const common = { store: this.store, link, timers: this.timers, now: this.now };
    this.outbox = new OutboxSender({
      ...common,
      storage: deps.storage,
      random: this.random,
      newClientId: deps.newClientId ?? newClientId,
    });
    this.rooms = new RoomSync({ ...common, outbox: this.outbox });
  }

  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);
  getSnapshot = (): ChatSnapshot => this.store.getSnapshot();

  /** The transport and session, only while online. */
  private live(): Live | null {
    const { session, connection } = this.store.getSnapshot();
    if (!this.transport || !session || connection.status !== 'online') return null;
    return { transport: this.transport, session };
  }

  // ----- life cycle and session -------------------------------------------

  /** Restores the stored session and outbox; connects if signed in. `autoName` signs in at once (`?name=`). */
  start(opts: { autoName?: string | undefined } = {}): void {
    const { storage } = this.deps;
    const session = loadSession(storage, this.now());
    const wanted = opts.autoName?.trim() ?? '';
    this.store.set({ session, suggestedName: wanted || session?.name || lastName(storage) });
    this.outbox.load();
    if (wanted !== '' && wanted !== session?.name) void this.signIn(wanted);
    else if (session) this.dispatch({ type: 'start' });
  }

  /** Closes the connection and every timer (page unload, tests). */
  stop(): void {
    this.dispatch({ type: 'stop' });
    this.timers.clearAll();
  }

  /** Creates a session under `name` and connects with it. */
  async signIn(name: string): Promise<void> {
    if (this.store.getSnapshot().login.pending) return;
    this.store.set({ login: { pending: true, error: null }, suggestedName: name });
    const res = await this.deps.sessionApi.create(name);
    if (!res.ok) {
      this.store.set({ login: { pending: false, error: res.message } });
      return;
    }
    this.dispatch({ type: 'stop' });
    saveSession(this.deps.storage, res.session);
    this.store.set({ session: res.session, suggestedName: res.session.name, login: { pending: false, error: null } });
    this.dispatch({ type: 'start' });
  }

  /** "Change name": forget the session and show the nickname form. Unsent messages stay queued. */
  signOut(): void {
    this.dispatch({ type: 'stop' });
    clearSession(this.deps.storage);
    this.store.set({ session: null });
  }

  /** The browser's online/offline signal: skip useless attempts offline, retry at once when back. */
  setNetworkAvailable(online: boolean): void {
    this.dispatch({ type: online ? 'network-online' : 'network-offline' });
  }

  /** Reconnect now instead of waiting out the backoff. */
  retryNow(): void {
    this.dispatch({ type: 'retry-now' });
  }

  // ----- rooms and messages ------------------------------------------------

  openRoom(name: string): void {
    this.rooms.open(name);
  }

  loadOlder(name: string): Promise<void> {
    return this.rooms.loadOlder(name);
  }

  notifyTyping(name: string): void {
    this.rooms.notifyTyping(name);
  }

  send(room: string, text: string): SendResult {
    const res = this.outbox.send(room, text);
    if (res.ok) this.rooms.resetTyping(room);
    return res;
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
      for (let ev = this.queue.shift(); ev !== undefined; ev = this.queue.shift()) {
        const before = this.store.getSnapshot().connection;
        const { state, effects } = transition(before, ev, { random: this.random });
        if (state !== before) this.store.set({ connection: state });
        for (const effect of effects) this.run(effect);
        if (before.status !== 'online' && state.status === 'online') {
          this.rooms.connected();
          this.outbox.connected();
        }
        if (before.status === 'online' && state.status !== 'online') this.rooms.disconnected();
      }
    } finally {
      this.dispatching = false;
    }
  }

  private run(effect: ConnectionEffect): void {
    switch (effect.type) {
      case 'open-transport': {
        this.closeTransport();
        const session = this.store.getSnapshot().session;
        if (!session) return;
        const transport: Transport = this.deps.transportFactory(session.token, this.listenerFor(() => transport));
        this.transport = transport;
        transport.open();
        return;
      }
      case 'close-transport':
        return this.closeTransport();
      case 'schedule-retry':
        return this.timers.set('reconnect', effect.delayMs, () => this.dispatch({ type: 'retry-due' }));
      case 'cancel-retry':
        return this.timers.clear('reconnect');
      case 'drop-session':
        clearSession(this.deps.storage);
        this.store.set({ session: null, login: { pending: false, error: 'Your session has expired. Please join again.' } });
        return;
    }
  }

  private closeTransport(): void {
    const t = this.transport;
    this.transport = null;
    t?.close();
  }

  /** Callbacks from one transport; ignored once it is no longer the current one. */
  private listenerFor(self: () => Transport): TransportListener {
    const current = () => this.transport !== null && this.transport === self();
    return {
      opened: (kind) => current() && this.dispatch({ type: 'opened', transport: kind }),
      kindChanged: (kind) => current() && this.dispatch({ type: 'transport-changed', transport: kind }),
      closed: (info) => {
        if (!current()) return;
        this.dispatch(info.unauthorized ? { type: 'unauthorized' } : { type: 'closed', retryAfterMs: info.retryAfterMs });
      },
      messages: (ev) => current() && this.rooms.receiveMessages(ev.room, ev.messages),
      presence: (ev) => current() && this.rooms.receivePresence(ev.room, ev.members),
      typing: (ev) => current() && this.rooms.receiveTyping(ev.room, ev.typing),
      bye: () => {
        // The server closes next; the transport reports that with the requested pause.
      },
    };
  }
}
