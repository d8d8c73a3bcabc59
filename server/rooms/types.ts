import type { Ack, Message, OkInputOf } from '../../shared/protocol.ts';
import type { PeerMessage } from '../cluster/bus.ts';
import type { Frame } from './frame.ts';
import type { EntryDraft } from '../store/store.ts';
import type { PageRange } from './pages.ts';
import type { FailureKind as SharedFailureKind } from '../../shared/refusals.ts';

/** Who is acting, as established by the auth middleware and nothing else. */
export interface Identity {
  userId: string;
  name: string;
  /** When the session token proving this identity expires (ms since epoch). */
  expiresAt?: number;
  /** The session row the token names (absent for tokens issued before 2.1). */
  sessionId?: string;
}

/**
 * One live connection in a room, whatever carries it: the seam between the
 * room fiber and the carriers. The room's list of subscribers is the only
 * record of who hears it; a broadcast builds one `Frame` and writes it to
 * each. A carrier writes it in its own encoding (made once per frame, see
 * `Frame.encoded`) and keeps the connection within its outbound budget.
 */
export interface Subscriber {
  /** Unique per connection. */
  readonly id: string;
  readonly identity: Identity;
  /** Delivers one event of the room's stream, after everything written to the connection before. Never throws. */
  write(frame: Frame): void;
  /** The user lost access to the room: the subscription ended, and the connection is told. */
  removed?(room: string): void;
}

export type Reply<T> = (ack: Ack<T>) => void;
/** The answer of commands that carry nothing but `ok: true`. */
export type EmptyOk = OkInputOf<'leave'>;

/** Where a caught failure happened; counted by kind on /metrics. */
export type FailureKind = Extract<SharedFailureKind, 'load' | 'read' | 'commit' | 'catch_up' | 'membership'>;

/** Presence and typing heard from another node, for one room. */
export type PeerNews = Exclude<PeerMessage, { type: 'hint' } | { type: 'kick' }>;

/** An entry as a command asks for it (one type with the store's `Draft`, which adds id, author and time). */
export type { EntryDraft };

/** The commands a room fiber serves, one at a time, in mailbox order. */
export type RoomCommand =
  | { kind: 'join'; sub: Subscriber; since?: number | undefined; epoch?: string | undefined; reply: Reply<OkInputOf<'join'>> }
  /**
   * A join over REST (Ajax polling): the same resume and membership as a
   * socket join, with presence held by a poll lease instead of a subscription.
   */
  | { kind: 'join'; sub?: undefined; poller: Identity; since?: number | undefined; epoch?: string | undefined; reply: Reply<OkInputOf<'join'>> }
  /** `disconnected`: the connection dropped (presence keeps the user for a grace period). */
  | { kind: 'leave'; sub: Subscriber; disconnected?: boolean; reply?: Reply<EmptyOk> }
  /** From a socket (`sub`) or from an Ajax poller (`who` only, admitted by its poll lease). */
  | { kind: 'typing'; who: Identity; sub?: Subscriber | undefined; stop?: boolean | undefined; reply?: Reply<EmptyOk> }
  /** A new entry of the log: a message, or a change (edit, delete, reaction) to an earlier one. */
  | { kind: 'send'; author: Identity; entry: EntryDraft; reply: Reply<OkInputOf<'edit'>> }
  | { kind: 'history'; range: PageRange; limit: number; viewer?: string | undefined; reply: Reply<OkInputOf<'history'>> }
  /**
   * A REST read. With `after`, a poll or resume (the join rules with `since`
   * and `epoch`); `poller`: the Ajax client whose poll renews its presence.
   */
  | {
      kind: 'page';
      after?: number | undefined;
      before?: number | undefined;
      epoch?: string | undefined;
      limit: number;
      poller?: Identity | undefined;
      /** Whose reactions count as `mine` in the page. */
      viewer?: string | undefined;
      reply: Reply<OkInputOf<'page'>>;
    }
  /** A summary of the room (the `rooms` command). */
  | { kind: 'info'; reply: Reply<OkInputOf<'rooms'>['rooms'][number]> }
  /**
   * The room's log reached `last` somewhere (another node's commit, or the
   * registry's periodic check of the store): deliver what this node has not.
   */
  | { kind: 'hint'; last: number; epoch?: string | undefined; messages?: Message[] | undefined }
  /** Presence, typing or a greeting from another node. */
  | { kind: 'peer'; news: PeerNews }
  /** A user lost access to the room: end every subscription of theirs here, at once. */
  | { kind: 'kick'; userId: string }
  /** Enqueued by the room's deadline timer: expire typing, presence, or retire. */
  | { kind: 'tick' };
