import { describe, expect, it } from 'vitest';
import { retryDelay, DEFAULT_BACKOFF } from './backoff.ts';
import {
  OFFLINE_AFTER_ATTEMPTS,
  describeConnection,
  transition,
  type ConnectionEvent,
  type ConnectionState,
} from './connection-machine.ts';
import { TRANSPORT_LABELS } from './transport.ts';

// random() = 1 - ε gives the top of each jitter range, 0 the bottom; 0.5 the middle.
const env = { random: () => 0.5 };
const mid = (attempt: number, retryAfterMs?: number) => retryDelay(attempt, env.random, retryAfterMs);

const idle: ConnectionState = { status: 'idle' };
const connecting: ConnectionState = { status: 'connecting' };
const onlineWs: ConnectionState = { status: 'online', transport: 'websocket' };
const waiting = (attempt: number): ConnectionState => ({
  status: 'reconnecting',
  attempt,
  phase: 'waiting',
  retryInMs: mid(attempt),
});
const opening = (attempt: number): ConnectionState => ({ status: 'reconnecting', attempt, phase: 'opening', retryInMs: 0 });
const netOffline: ConnectionState = { status: 'offline', reason: 'network', attempt: 0, phase: 'waiting', retryInMs: 0 };

describe('connection state machine', () => {
  const cases: Array<{
    name: string;
    from: ConnectionState;
    event: ConnectionEvent;
    to: ConnectionState;
    effects: string[];
  }> = [
    { name: 'start opens a transport', from: idle, event: { type: 'start' }, to: connecting, effects: ['open-transport'] },
    { name: 'start twice is ignored', from: connecting, event: { type: 'start' }, to: connecting, effects: [] },
    {
      name: 'first open goes online with its transport',
      from: connecting,
      event: { type: 'opened', transport: 'long-polling' },
      to: { status: 'online', transport: 'long-polling' },
      effects: [],
    },
    {
      name: 'an upgrade changes the live transport',
      from: { status: 'online', transport: 'long-polling' },
      event: { type: 'transport-changed', transport: 'websocket' },
      to: onlineWs,
      effects: [],
    },
    {
      name: 'a failed first attempt waits before retrying',
      from: connecting,
      event: { type: 'closed' },
      to: waiting(1),
      effects: ['close-transport', `schedule-retry:${mid(1)}`],
    },
    {
      name: 'losing a live connection reconnects quickly',
      from: onlineWs,
      event: { type: 'closed' },
      to: waiting(1),
      effects: ['close-transport', `schedule-retry:${mid(1)}`],
    },
    {
      name: "the server's retryAfterMs is a floor on the wait",
      from: onlineWs,
      event: { type: 'closed', retryAfterMs: 5000 },
      to: { status: 'reconnecting', attempt: 1, phase: 'waiting', retryInMs: 5000 },
      effects: ['close-transport', 'schedule-retry:5000'],
    },
    { name: 'the retry deadline opens again', from: waiting(2), event: { type: 'retry-due' }, to: opening(2), effects: ['open-transport'] },
    {
      name: 'a failed retry backs off further',
      from: opening(2),
      event: { type: 'closed' },
      to: waiting(3),
      effects: ['close-transport', `schedule-retry:${mid(3)}`],
    },
    {
      name: 'many failures in a row show offline, still retrying',
      from: opening(OFFLINE_AFTER_ATTEMPTS),
      event: { type: 'closed' },
      to: {
        status: 'offline',
        reason: 'unreachable',
        attempt: OFFLINE_AFTER_ATTEMPTS + 1,
        phase: 'waiting',
        retryInMs: mid(OFFLINE_AFTER_ATTEMPTS + 1),
      },
      effects: ['close-transport', `schedule-retry:${mid(OFFLINE_AFTER_ATTEMPTS + 1)}`],
    },
    {
      name: 'offline recovers to online on the next successful attempt',
      from: { status: 'offline', reason: 'unreachable', attempt: 7, phase: 'opening', retryInMs: 0 },
      event: { type: 'opened', transport: 'websocket' },
      to: onlineWs,
      effects: [],
    },
    { name: 'a stale close while waiting is ignored', from: waiting(2), event: { type: 'closed' }, to: waiting(2), effects: [] },
    { name: 'a stale open while waiting is ignored', from: waiting(2), event: { type: 'opened', transport: 'websocket' }, to: waiting(2), effects: [] },
    {
      name: 'retry-now skips the wait',
      from: waiting(3),
      event: { type: 'retry-now' },
      to: opening(3),
      effects: ['cancel-retry', 'open-transport'],
    },
    {
      name: 'the browser going offline stops attempts',
      from: onlineWs,
      event: { type: 'network-offline' },
      to: netOffline,
      effects: ['cancel-retry', 'close-transport'],
    },
    { name: 'retry deadlines do nothing while the network is down', from: netOffline, event: { type: 'retry-due' }, to: netOffline, effects: [] },
    {
      name: 'the network coming back opens at once',
      from: netOffline,
      event: { type: 'network-online' },
      to: opening(1),
      effects: ['open-transport'],
    },
    {
      name: 'the network coming back during a backoff cuts it short',
      from: waiting(4),
      event: { type: 'network-online' },
      to: opening(4),
      effects: ['cancel-retry', 'open-transport'],
    },
    {
      name: 'an unauthorized token ends the session',
      from: connecting,
      event: { type: 'unauthorized' },
      to: idle,
      effects: ['cancel-retry', 'close-transport', 'drop-session'],
    },
    { name: 'stop closes everything', from: waiting(2), event: { type: 'stop' }, to: idle, effects: ['cancel-retry', 'close-transport'] },
    { name: 'stop when idle does nothing', from: idle, event: { type: 'stop' }, to: idle, effects: [] },
  ];

  it.each(cases)('$name', ({ from, event, to, effects }) => {
    const t = transition(from, event, env);
    expect(t.state).toEqual(to);
    expect(t.effects.map((e) => (e.type === 'schedule-retry' ? `${e.type}:${e.delayMs}` : e.type))).toEqual(effects);
  });
});

describe('retryDelay', () => {
  it.each([
    { attempt: 1, random: 0, expected: DEFAULT_BACKOFF.firstMs / 2 },
    { attempt: 1, random: 0.999999, expected: DEFAULT_BACKOFF.firstMs },
    { attempt: 2, random: 0, expected: DEFAULT_BACKOFF.baseMs },
    { attempt: 3, random: 0, expected: DEFAULT_BACKOFF.baseMs * 2 },
    { attempt: 50, random: 0.999999, expected: DEFAULT_BACKOFF.capMs },
    { attempt: 50, random: 0, expected: DEFAULT_BACKOFF.capMs / 2 },
  ])('attempt $attempt with random $random waits $expected ms', ({ attempt, random, expected }) => {
    expect(retryDelay(attempt, () => random)).toBe(expected);
  });

  it('never waits less than the server asked', () => {
    expect(retryDelay(1, () => 0, 7000)).toBe(7000);
  });

  it('grows monotonically up to the cap at a fixed jitter', () => {
    const delays = Array.from({ length: 12 }, (_, i) => retryDelay(i + 1, () => 0.5));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
  });
});

describe('describeConnection', () => {
  it.each<[ConnectionState, string]>([
    [connecting, 'Connecting…'],
    [onlineWs, 'Connected · WebSocket'],
    [{ status: 'online', transport: 'long-polling' }, 'Connected · Long-polling'],
    [{ status: 'online', transport: 'ajax' }, 'Connected · Ajax polling'],
    [waiting(2), 'Reconnecting…'],
    [netOffline, 'Offline'],
  ])('%j reads "%s"', (state, text) => {
    expect(describeConnection(state, TRANSPORT_LABELS)).toBe(text);
  });
});
