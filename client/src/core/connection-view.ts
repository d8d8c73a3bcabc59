/**
 * The connection as the status line sees it: a projection of the connection
 * machine's state that hides probes, trust checks and the ladder.
 */
import type { DisconnectReason } from '../../../shared/protocol.ts';
import type { MachineState } from './connection-machine.ts';
import { REFUSAL_TEXT } from './error-text.ts';
import type { ConnectionRefusal, TransportKind } from './transport.ts';

/** After this many failed rounds in a row the UI says "Offline" (retries go on at the cap). */
export const OFFLINE_AFTER_ATTEMPTS = 5;

export type OfflineReason = 'unreachable' | 'network';

/** The connection as the status line sees it. */
export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting' }
  | { status: 'online'; transport: TransportKind }
  | { status: 'reconnecting'; attempt: number; phase: 'waiting' | 'opening'; retryInMs: number }
  | { status: 'offline'; reason: OfflineReason; attempt: number; phase: 'waiting' | 'opening'; retryInMs: number };

/** Projects the machine onto the status line's view. */
export function connectionView(s: MachineState): ConnectionState {
  const { phase, retries } = s;
  switch (phase.name) {
    case 'idle':
      return { status: 'idle' };
    case 'online':
      return { status: 'online', transport: phase.via };
    case 'network-down':
      return { status: 'offline', reason: 'network', attempt: retries, phase: 'waiting', retryInMs: 0 };
    case 'opening':
    case 'waiting': {
      if (phase.name === 'opening' && retries === 0) return { status: 'connecting' };
      const step = phase.name === 'opening' ? 'opening' : 'waiting';
      const retryInMs = phase.name === 'waiting' ? phase.retryInMs : 0;
      if (retries > OFFLINE_AFTER_ATTEMPTS) {
        return { status: 'offline', reason: 'unreachable', attempt: retries, phase: step, retryInMs };
      }
      return { status: 'reconnecting', attempt: retries, phase: step, retryInMs };
    }
  }
}

/** Why the server said goodbye, in words, while reconnecting after it. */
const BYE_TEXT: Record<DisconnectReason, string> = {
  server_shutdown: 'the server is restarting',
  slow_consumer: 'catching up',
  session_expired: 'session expired',
  session_revoked: 'signed out from another device',
};

/**
 * The words the status line shows for a state, and, while it reconnects, why
 * the server last closed the connection (`bye`) or refused to open one.
 */
export function describeConnection(
  state: ConnectionState,
  labels: Record<TransportKind, string>,
  bye: DisconnectReason | null = null,
  refusal: ConnectionRefusal | null = null,
): string {
  const retrying = state.status === 'reconnecting' || (state.status === 'offline' && state.reason === 'unreachable');
  if (refusal !== null && retrying) return REFUSAL_TEXT[refusal];
  if (bye !== null && state.status === 'reconnecting') return `Reconnecting… (${BYE_TEXT[bye]})`;
  switch (state.status) {
    case 'idle':
      return 'Not connected';
    case 'connecting':
      return 'Connecting…';
    case 'online':
      return `Connected · ${labels[state.transport]}`;
    case 'reconnecting':
      return 'Reconnecting…';
    case 'offline':
      return 'Offline';
  }
}
