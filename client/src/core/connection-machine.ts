/**
 * The connection life cycle as a pure transition function:
 *
 *   idle → connecting → online(transport) → reconnecting → … → offline
 *
 * Each transition returns the next state and the effects the caller must run
 * (open or close a transport, arm or cancel the single retry timer, drop the
 * session). Keeping it pure makes every path table-testable without sockets.
 */
import { retryDelay, type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.ts';
import type { TransportKind } from './transport.ts';

/** After this many failed attempts in a row the UI says "Offline" (retries go on at the cap). */
export const OFFLINE_AFTER_ATTEMPTS = 5;

export type OfflineReason = 'unreachable' | 'network';

export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting' }
  | { status: 'online'; transport: TransportKind }
  | { status: 'reconnecting'; attempt: number; phase: 'waiting' | 'opening'; retryInMs: number }
  | { status: 'offline'; reason: OfflineReason; attempt: number; phase: 'waiting' | 'opening'; retryInMs: number };

export type ConnectionEvent =
  | { type: 'start' }
  | { type: 'opened'; transport: TransportKind }
  | { type: 'transport-changed'; transport: TransportKind }
  | { type: 'closed'; retryAfterMs?: number }
  | { type: 'retry-due' }
  | { type: 'retry-now' }
  | { type: 'network-offline' }
  | { type: 'network-online' }
  | { type: 'unauthorized' }
  | { type: 'stop' };

export type ConnectionEffect =
  | { type: 'open-transport' }
  | { type: 'close-transport' }
  | { type: 'schedule-retry'; delayMs: number }
  | { type: 'cancel-retry' }
  | { type: 'drop-session' };

export interface MachineEnv {
  random: () => number;
  policy?: BackoffPolicy;
}

export interface Transition {
  state: ConnectionState;
  effects: ConnectionEffect[];
}

export const INITIAL_CONNECTION: ConnectionState = { status: 'idle' };

const stay = (state: ConnectionState): Transition => ({ state, effects: [] });

/** True while a transport is being opened (a `closed` then means the attempt failed). */
function isOpening(s: ConnectionState): boolean {
  return s.status === 'connecting' || ((s.status === 'reconnecting' || s.status === 'offline') && s.phase === 'opening');
}

function attemptOf(s: ConnectionState): number {
  return s.status === 'reconnecting' || s.status === 'offline' ? s.attempt : 0;
}

/** Waits before attempt `attempt`, as "reconnecting" or, after many failures, "offline". */
function waitFor(attempt: number, env: MachineEnv, retryAfterMs?: number): Transition {
  const retryInMs = retryDelay(attempt, env.random, retryAfterMs, env.policy ?? DEFAULT_BACKOFF);
  const state: ConnectionState =
    attempt > OFFLINE_AFTER_ATTEMPTS
      ? { status: 'offline', reason: 'unreachable', attempt, phase: 'waiting', retryInMs }
      : { status: 'reconnecting', attempt, phase: 'waiting', retryInMs };
  return { state, effects: [{ type: 'schedule-retry', delayMs: retryInMs }] };
}

function openNow(s: ConnectionState): Transition {
  if (s.status === 'reconnecting' || s.status === 'offline') {
    return { state: { ...s, phase: 'opening', retryInMs: 0 }, effects: [{ type: 'cancel-retry' }, { type: 'open-transport' }] };
  }
  return stay(s);
}

/** The next state and the effects to run, given the current state and an event. */
export function transition(state: ConnectionState, event: ConnectionEvent, env: MachineEnv): Transition {
  switch (event.type) {
    case 'start':
      if (state.status !== 'idle') return stay(state);
      return { state: { status: 'connecting' }, effects: [{ type: 'open-transport' }] };

    case 'opened':
      if (!isOpening(state)) return stay(state);
      return { state: { status: 'online', transport: event.transport }, effects: [] };

    case 'transport-changed':
      if (state.status !== 'online') return stay(state);
      return { state: { status: 'online', transport: event.transport }, effects: [] };

    case 'closed': {
      if (state.status === 'online') {
        // A live connection dropped: count from 1 again so the first retry is quick.
        const next = waitFor(1, env, event.retryAfterMs);
        return { state: next.state, effects: [{ type: 'close-transport' }, ...next.effects] };
      }
      if (!isOpening(state)) return stay(state);
      if (state.status === 'offline' && state.reason === 'network') return stay(state);
      const next = waitFor(attemptOf(state) + 1, env, event.retryAfterMs);
      return { state: next.state, effects: [{ type: 'close-transport' }, ...next.effects] };
    }

    case 'retry-due':
      if ((state.status === 'reconnecting' || state.status === 'offline') && state.phase === 'waiting') {
        if (state.status === 'offline' && state.reason === 'network') return stay(state);
        return { state: { ...state, phase: 'opening', retryInMs: 0 }, effects: [{ type: 'open-transport' }] };
      }
      return stay(state);

    case 'retry-now':
      if ((state.status === 'reconnecting' || state.status === 'offline') && state.phase === 'waiting') {
        return openNow(state);
      }
      return stay(state);

    case 'network-offline':
      if (state.status === 'idle' || (state.status === 'offline' && state.reason === 'network')) return stay(state);
      return {
        state: { status: 'offline', reason: 'network', attempt: attemptOf(state), phase: 'waiting', retryInMs: 0 },
        effects: [{ type: 'cancel-retry' }, { type: 'close-transport' }],
      };

    case 'network-online':
      if (state.status === 'offline' && state.reason === 'network') {
        return {
          state: { status: 'reconnecting', attempt: Math.max(1, state.attempt), phase: 'opening', retryInMs: 0 },
          effects: [{ type: 'open-transport' }],
        };
      }
      // The network came back while waiting out a backoff: try at once.
      if ((state.status === 'reconnecting' || state.status === 'offline') && state.phase === 'waiting') {
        return openNow(state);
      }
      return stay(state);

    case 'unauthorized':
      if (state.status === 'idle') return stay(state);
      return {
        state: { status: 'idle' },
        effects: [{ type: 'cancel-retry' }, { type: 'close-transport' }, { type: 'drop-session' }],
      };

    case 'stop':
      if (state.status === 'idle') return stay(state);
      return { state: { status: 'idle' }, effects: [{ type: 'cancel-retry' }, { type: 'close-transport' }] };
  }
}

/** The words the status line shows for a state. */
export function describeConnection(state: ConnectionState, labels: Record<TransportKind, string>): string {
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
