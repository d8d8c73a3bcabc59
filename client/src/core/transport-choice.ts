/**
 * The automatic transport choice: remembered for the browser session (so a
 * network that blocks WebSocket does not cost every page load a timeout), and
 * explained to the user when it is not the best transport.
 */
import { z } from 'zod';
import { LADDER, type FailCause, type Skipped } from './connection-machine.ts';
import type { ConnectionState } from './connection-view.ts';
import { STORAGE_KEYS, type KeyValueStorage } from './storage.ts';
import { TRANSPORT_LABELS, type TransportKind } from './transport.ts';

/** What the UI needs to say which transport is live and why. */
export interface TransportInfo {
  /** The transport `?transport=` pins, or null for automatic. */
  forced: TransportKind | null;
  /** Transports given up in automatic mode, best first, with the reason. */
  skipped: readonly Skipped[];
  /** The automatic choice started from what an earlier page of this session found. */
  remembered: boolean;
  /** A better transport being tried in the background, if any. */
  probing: TransportKind | null;
}

export interface RememberedChoice {
  home: TransportKind;
  skipped: readonly Skipped[];
}

const Kind = z.enum(LADDER as [TransportKind, ...TransportKind[]]);
const Stored = z.object({
  home: Kind,
  skipped: z.array(z.object({ kind: Kind, cause: z.enum(['refused', 'timeout', 'lost', 'unresponsive']) })),
});

/** Reads the choice an earlier page of this browser session made; null when none or unreadable. */
export function loadChoice(storage: KeyValueStorage): RememberedChoice | null {
  const raw = storage.getItem(STORAGE_KEYS.transport);
  if (raw === null) return null;
  try {
    const r = Stored.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function saveChoice(storage: KeyValueStorage, choice: RememberedChoice): void {
  storage.setItem(STORAGE_KEYS.transport, JSON.stringify(choice));
}

const CAUSES: Record<FailCause, string> = {
  refused: 'could not connect',
  timeout: 'did not connect in time',
  lost: 'was cut off right after connecting',
  unresponsive: 'connected but stopped answering',
};

/**
 * One or two sentences for the status tooltip and details: why the live
 * transport is not WebSocket. Null when there is nothing to explain.
 */
export function explainTransport(info: TransportInfo, connection: ConnectionState): string | null {
  if (connection.status !== 'online') return null;
  const live = TRANSPORT_LABELS[connection.transport];
  if (info.forced) return `${live} was chosen with ?transport= in the address.`;
  const reasons = info.skipped
    .filter((s) => LADDER.indexOf(s.kind) < LADDER.indexOf(connection.transport))
    .map((s) => `${TRANSPORT_LABELS[s.kind]} ${CAUSES[s.cause]}`);
  if (reasons.length === 0) return null;
  const parts = [`Using ${live}: ${reasons.join('; ')}.`];
  if (info.remembered) parts.push('Remembered for this browser session.');
  parts.push(info.probing ? `Trying ${TRANSPORT_LABELS[info.probing]} in the background now.` : 'Faster transports are retried in the background.');
  return parts.join(' ');
}
