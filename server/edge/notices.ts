import type { EventName, EventOf } from '../../shared/protocol.ts';
import type { Bus } from '../cluster/bus.ts';
import type { ChatServer, ChatSocket } from './socket-edge.ts';

type UserEvent = Extract<EventName, 'read' | 'removed' | 'invited'>;
const USER_EVENTS: readonly string[] = ['read', 'removed', 'invited'] satisfies readonly UserEvent[];

/**
 * Events for one user, wherever their connections are: a read position that
 * moved in another tab, an invitation, a removal. Each socket joins a
 * socket.io room of its user; in a cluster the notice also goes to every
 * other node through the bus, which delivers it to its own sockets of that
 * user (an Ajax client learns the same through `myRooms`).
 */
export class UserNotices {
  constructor(
    private readonly io: ChatServer,
    private readonly bus: Bus | undefined,
  ) {
    bus?.onNotice((n) => {
      if (USER_EVENTS.includes(n.event)) this.deliver(n.userId, n.event as UserEvent, n.payload as EventOf<UserEvent>);
    });
  }

  /** A new connection of `socket`'s user. */
  connected(socket: ChatSocket): void {
    void socket.join(userChannel(socket.data.identity.userId));
  }

  send<E extends UserEvent>(userId: string, event: E, payload: EventOf<E>): void {
    this.deliver(userId, event, payload);
    this.bus?.notify({ node: this.bus.node, userId, event, payload });
  }

  private deliver(userId: string, event: UserEvent, payload: EventOf<UserEvent>): void {
    (this.io.to(userChannel(userId)).emit as (ev: string, p: unknown) => boolean)(event, payload);
  }
}

function userChannel(userId: string): string {
  return `user:${userId}`;
}
