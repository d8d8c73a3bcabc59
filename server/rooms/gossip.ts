import type { Message, User } from '../../shared/protocol.ts';
import type { Bus, PeerMessage } from '../cluster/bus.ts';
import { pageBytes } from './pages.ts';
import type { RoomCommand } from './types.ts';

/** In a cluster, a node repeats who is present through it this often… */
export const PEER_HEARTBEAT_MS = 5_000;
/** …and a node's word lasts this long: a node that died loses its users within it. */
export const PEER_PRESENCE_TTL_MS = 3 * PEER_HEARTBEAT_MS;
/** A hint carries its messages when they are this small; else peers read them from the store. */
export const HINT_MAX_BYTES = 16 * 1024;

/**
 * What one room says to and hears from the other nodes of a cluster, through
 * the bus: hints of how far the log reached, who is present and typing
 * through this node (repeated as a heartbeat while anyone is), a greeting on
 * start that peers answer with theirs. Only the room's fiber calls it; what
 * it hears becomes a command in the room's mailbox, so the fiber alone
 * touches the room's state. The bus carries hints, never the truth: the
 * store is, and the room reads it whenever a hint is missing or out of order.
 */
export class RoomGossip {
  /** What this node last said of presence and typing, so an unchanged list is not said again. */
  private toldPresence = '';
  private toldTyping = '';
  /** When presence is next repeated (Infinity: nobody present through this node). */
  private nextHeartbeatAt = Infinity;

  constructor(
    private readonly bus: Bus,
    private readonly room: string,
    private readonly now: () => number,
  ) {}

  /**
   * Starts hearing peers: each message becomes a command for the room's
   * mailbox, `mustArrive` for a kick (a user's access ended: never dropped),
   * not for news a later hint or store check makes good if the mailbox is full.
   */
  listen(hear: (cmd: RoomCommand, mustArrive: boolean) => void): void {
    this.bus.subscribe(this.room, (msg) => hear(commandOf(msg), msg.type === 'kick'));
  }

  /** Stops hearing peers (the room retired). */
  close(): void {
    this.bus.unsubscribe(this.room);
  }

  /** Greets the peers, who answer with who is present and typing through them. */
  hello(): void {
    this.bus.publish(this.room, { type: 'hello', node: this.bus.node });
  }

  /** When the room's timer must wake it to repeat presence. */
  get nextHeartbeat(): number {
    return this.nextHeartbeatAt;
  }

  /** Whether presence is due to be repeated at `now`. */
  heartbeatDue(now: number): boolean {
    return now >= this.nextHeartbeatAt;
  }

  /** Tells peers how far the log reached, with the messages when they are small and follow on to `last`. */
  hint(epoch: string, fresh: Message[], last: number): void {
    const contiguous = fresh.at(-1)?.seq === last && (fresh[0]?.seq ?? 0) === last - fresh.length + 1;
    const small = contiguous && pageBytes(fresh) <= HINT_MAX_BYTES;
    this.bus.publish(this.room, { type: 'hint', node: this.bus.node, epoch, last, ...(small ? { messages: fresh } : {}) });
  }

  /** Tells peers who is present through this node, when it changed (or `always`: a heartbeat or an answer). */
  tellPresence(users: User[], always = false): void {
    const said = JSON.stringify(users);
    if (!this.changed(said, this.toldPresence, always)) return;
    this.toldPresence = said;
    this.bus.publish(this.room, { type: 'presence', node: this.bus.node, users, ttlMs: PEER_PRESENCE_TTL_MS });
    this.nextHeartbeatAt = users.length > 0 ? this.now() + PEER_HEARTBEAT_MS : Infinity;
  }

  /** Tells peers who is typing through this node, when it changed (or `always`: a renewal or an answer). */
  tellTyping(users: User[], always = false): void {
    const said = JSON.stringify(users);
    if (!this.changed(said, this.toldTyping, always)) return;
    this.toldTyping = said;
    this.bus.publish(this.room, { type: 'typing', node: this.bus.node, users });
  }

  /** Whether to speak: a change, or `always` unless there is nothing to say and nothing was ever said. */
  private changed(said: string, told: string, always: boolean): boolean {
    if (always) return !(said === '[]' && told === '');
    return said !== told;
  }
}

/** A peer's message as the room's command. */
function commandOf(msg: PeerMessage): RoomCommand {
  switch (msg.type) {
    case 'hint':
      return { kind: 'hint', last: msg.last, epoch: msg.epoch, messages: msg.messages };
    case 'kick':
      return { kind: 'kick', userId: msg.userId };
    default:
      return { kind: 'peer', news: msg };
  }
}
