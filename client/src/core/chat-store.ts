/**
 * The chat core's state as one immutable snapshot, with the subscribe /
 * getSnapshot pair React's `useSyncExternalStore` expects. Every change makes
 * a new snapshot object, so an unchanged snapshot is referentially stable.
 */
import type { DisconnectReason } from '../../../shared/protocol.ts';
import type { ConnectionState } from './connection-view.ts';
import type { Arrival, MyRoomsState } from './my-rooms.ts';
import type { OutboxEntry } from './outbox.ts';
import type { RoomInfo } from './room-info.ts';
import type { RoomState } from './room-log.ts';
import type { Session } from './session.ts';
import type { TransportInfo } from './transport-choice.ts';
import type { ConnectionRefusal } from './transport.ts';

export interface ChatSnapshot {
  session: Session | null;
  /** Pre-fill for the nickname form. */
  suggestedName: string;
  login: { pending: boolean; error: string | null };
  /** Why the user was signed out without asking (the session expired or was ended elsewhere), until they sign in again. */
  signedOut: string | null;
  /**
   * A `?name=` link asked for another name while signed in: the user decides
   * between switching and staying. Null when nothing is asked.
   */
  pendingSwitch: { name: string } | null;
  connection: ConnectionState;
  /** Why the server last closed the connection on purpose (`bye`), until the next connection is up. */
  lastBye: DisconnectReason | null;
  /** Why the server last refused to open a connection (a connection cap), until a connection is up. */
  lastRefusal: ConnectionRefusal | null;
  /** Which transport the connection may use and why it is not the best one. */
  transport: TransportInfo;
  activeRoom: string | null;
  rooms: Readonly<Record<string, RoomState>>;
  /** Messages typed but not yet acked, oldest first. */
  outbox: readonly OutboxEntry[];
  // ----- my rooms and read positions (my-rooms.ts) -----
  /** The user's rooms (`myRooms`), with unread and mention counts kept live. */
  myRooms: MyRoomsState;
  /** How the open room was found when it was opened: where the "New" divider goes. */
  arrival: Arrival | null;
  /** What is known of each room beyond its log: kind, title, owner, members (room-info.ts). */
  roomInfo: Readonly<Record<string, RoomInfo>>;
  /** Per room: the message the next send answers, and the message being edited. */
  composing: Readonly<Record<string, Composing>>;
  /** A request to bring a message into view (a reply's original); `n` tells repeated requests apart. */
  reveal: { room: string; seq: number; n: number } | null;
  /** The user lost access to a room (removed by its owner), until they dismiss the notice. */
  removedFrom: { room: string; title: string } | null;
}

/** What the composer of one room is doing besides typing. */
export interface Composing {
  replyTo: number | null;
  editing: number | null;
}

export const INITIAL_SNAPSHOT: ChatSnapshot = {
  session: null,
  suggestedName: '',
  login: { pending: false, error: null },
  signedOut: null,
  pendingSwitch: null,
  connection: { status: 'idle' },
  lastBye: null,
  lastRefusal: null,
  transport: { forced: null, skipped: [], remembered: false, probing: null },
  activeRoom: null,
  rooms: {},
  outbox: [],
  myRooms: { loaded: false, rooms: [] },
  arrival: null,
  roomInfo: {},
  composing: {},
  reveal: null,
  removedFrom: null,
};

export class ChatStore {
  private snapshot: ChatSnapshot = INITIAL_SNAPSHOT;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  getSnapshot = (): ChatSnapshot => this.snapshot;

  /** Applies a patch and notifies subscribers. */
  set(patch: Partial<ChatSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of [...this.listeners]) l();
  }

  /** Replaces one room through `fn`; a room not tracked, or an unchanged result, is a no-op. */
  updateRoom(name: string, fn: (r: RoomState) => RoomState): void {
    const room = this.snapshot.rooms[name];
    if (!room) return;
    const next = fn(room);
    if (next !== room) this.set({ rooms: { ...this.snapshot.rooms, [name]: next } });
  }
}
