/**
 * Tells the server when this client fell back to a lower transport or moved
 * up to a better one (the `report` command), so operators see how their
 * users' networks treat each carrier. Read off the connection machine's
 * transitions, sent over the transport the client moved to. Best effort: a
 * report that cannot be sent is kept until the next connection, a few at
 * most, and one the server refuses is not retried.
 */
import type { RequestOf } from '../../../shared/protocol.ts';
import { LADDER, type MachineState } from './connection-machine.ts';
import type { Live } from './link.ts';

export type TransportReport = RequestOf<'report'>;

/** Reports waiting for a connection; the oldest goes first when more pile up (the server budgets 5 at once anyway). */
const MAX_PENDING = 4;

const rank = (kind: string): number => LADDER.indexOf(kind as (typeof LADDER)[number]);

/**
 * The report a transition makes, if any:
 * - `upgrade`: online before and after, on a better transport after (a
 *   background probe took over, or socket.io upgraded long-polling by itself);
 * - `fallback`: a rung of this round failed and the client has now settled
 *   (trusted) on a lower one; the first rung given up, and why.
 */
export function transportReport(before: MachineState, after: MachineState): TransportReport | null {
  const a = after.phase;
  const b = before.phase;
  if (a.name !== 'online') return null;
  if (b.name === 'online' && rank(a.via) < rank(b.via)) return { event: 'upgrade', from: b.via, to: a.via };
  const gaveUp = before.round[0];
  const settled = a.trust === 'trusted' && !(b.name === 'online' && b.trust === 'trusted');
  if (gaveUp && settled && after.round.length === 0 && rank(a.via) > rank(gaveUp.kind)) {
    return { event: 'fallback', from: gaveUp.kind, to: a.via, reason: gaveUp.cause };
  }
  return null;
}

export class TransportReports {
  private readonly pending: TransportReport[] = [];

  constructor(private readonly link: () => Live | null) {}

  /** Called with every transition of the machine; sends what it reports once online. */
  observe(before: MachineState, after: MachineState): void {
    const report = transportReport(before, after);
    if (report) {
      this.pending.push(report);
      if (this.pending.length > MAX_PENDING) this.pending.shift();
    }
    if (this.pending.length > 0 && after.phase.name === 'online') this.flush();
  }

  private flush(): void {
    const live = this.link();
    if (!live) return;
    for (const report of this.pending.splice(0)) void live.transport.request('report', report);
  }
}
