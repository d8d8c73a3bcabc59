/**
 * What the room and outbox logic may use of the connection: the live
 * transport and session, or null while not connected.
 */
import type { Session } from './session.ts';
import type { Transport } from './transport.ts';

export interface Live {
  transport: Transport;
  session: Session;
}

export type Link = () => Live | null;
