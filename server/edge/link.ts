import type { EventOf } from '../../shared/protocol.ts';
import type { Subscriber } from '../rooms/types.ts';

/**
 * One live connection of any carrier that pushes to its client, as the
 * edge's bookkeeping sees it: a room's subscriber (`write`), with the address
 * it counts against, and a way to end it. Sessions that end, tokens that
 * expire and the user's notices reach connections through this, never
 * through a carrier's own types.
 */
export interface Link extends Subscriber {
  /** The client's address key (per-address caps and budgets). */
  readonly address: string;
  /** False once the connection has closed. */
  readonly open: boolean;
  /** Tells the client why (`bye`) and closes the connection. */
  close(bye: EventOf<'bye'>): void;
}
