import type { EventName, EventOf } from '../../shared/protocol.ts';
import type { Bus, UserNotice } from '../cluster/bus.ts';
import { Frame } from '../rooms/frame.ts';
import type { Link } from './link.ts';

type UserEvent = Extract<EventName, 'read' | 'removed' | 'invited' | 'reported'>;

/**
 * Events for one user, wherever their connections are: a read position that
 * moved in another tab, an invitation, a removal. This node keeps its live
 * connections by user (any carrier that pushes: see `Link`) and writes the
 * notice to each as one frame; in a cluster the notice also goes to every
 * other node through the bus, which delivers it to its own connections of
 * that user (an Ajax client learns the same through `myRooms`).
 */
export class UserNotices {
  /** Most users have one or two connections: a Set per user, dropped with its last connection. */
  private readonly byUser = new Map<string, Set<Link>>();

  constructor(private readonly bus: Bus | undefined) {
    bus?.onNotice((n) => {
      if (n.event !== 'sessions_ended' && n.event !== 'moderation_changed') this.deliver(n.userId, n.event, n.payload);
    });
  }

  connected(link: Link): void {
    const userId = link.identity.userId;
    let links = this.byUser.get(userId);
    if (!links) this.byUser.set(userId, (links = new Set()));
    links.add(link);
  }

  disconnected(link: Link): void {
    const userId = link.identity.userId;
    const links = this.byUser.get(userId);
    if (!links?.delete(link)) return;
    if (links.size === 0) this.byUser.delete(userId);
  }

  send<E extends UserEvent>(userId: string, event: E, payload: EventOf<E>): void {
    this.deliver(userId, event, payload);
    if (this.bus) this.bus.notify({ node: this.bus.node, userId, event, payload } as UserNotice);
  }

  /** Users with a live connection here. */
  get users(): number {
    return this.byUser.size;
  }

  private deliver(userId: string, event: UserEvent, payload: EventOf<UserEvent>): void {
    const links = this.byUser.get(userId);
    if (!links) return;
    const frame = new Frame(event, payload);
    for (const link of links) link.write(frame);
  }
}
