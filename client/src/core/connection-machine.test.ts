import { describe, expect, it } from 'vitest';
import { retryDelay, DEFAULT_BACKOFF } from './backoff.ts';
import {
  DEFAULT_TIMING,
  LADDER,
  initialMachine,
  transition,
  type ConnectionEffect,
  type ConnectionEvent,
  type MachineState,
  type Phase,
  type Skipped,
} from './connection-machine.ts';
import { OFFLINE_AFTER_ATTEMPTS, connectionView, describeConnection, type ConnectionState } from './connection-view.ts';
import { TRANSPORT_LABELS, type TransportKind } from './transport.ts';

const T = DEFAULT_TIMING;
const NOW = 1_000_000;
const env = (now = NOW) => ({ now, random: () => 0.5 });
// random() = 0.5 gives the middle of each jitter range.
const mid = (retries: number, retryAfterMs?: number) => retryDelay(retries, () => 0.5, retryAfterMs);

const auto = initialMachine(null);
const st = (patch: Partial<MachineState>): MachineState => ({ ...auto, ...patch });
const online = (via: TransportKind, trust: 'probation' | 'verifying' | 'trusted' | 'rechecking', openedAt = NOW - 60_000): Phase => ({
  name: 'online',
  via,
  trust,
  openedAt,
});
const wsRefused: Skipped = { kind: 'websocket', cause: 'refused' };
const lpCut: Skipped = { kind: 'long-polling', cause: 'lost' };

/** Effects as short strings, so a table row reads like the transcript of a transition. */
function fx(effects: readonly ConnectionEffect[]): string[] {
  return effects.map((e) => {
    switch (e.type) {
      case 'open':
      case 'probe-open':
        return `${e.type}:${e.kind}`;
      case 'remember':
        return `remember:${e.home}[${e.skipped.map((s) => `${s.kind}=${s.cause}`).join(',')}]`;
      default:
        return e.type;
    }
  });
}

interface Row {
  name: string;
  from: MachineState;
  event: ConnectionEvent;
  now?: number;
  to: Partial<MachineState>;
  effects: string[];
}

const rows: Row[] = [
  // ----- starting -----
  {
    name: 'start tries WebSocket first, with a connect deadline',
    from: auto,
    event: { type: 'start' },
    to: { phase: { name: 'opening', via: 'websocket' }, deadline: NOW + T.connectMs.websocket },
    effects: ['open:websocket'],
  },
  {
    name: 'start begins at the rung remembered for this browser session',
    from: initialMachine(null, { home: 'long-polling', skipped: [wsRefused] }),
    event: { type: 'start' },
    to: { phase: { name: 'opening', via: 'long-polling' }, deadline: NOW + T.connectMs['long-polling'], skipped: [wsRefused] },
    effects: ['open:long-polling'],
  },
  {
    name: 'a forced transport opens with the longer forced deadline',
    from: initialMachine('ajax'),
    event: { type: 'start' },
    to: { phase: { name: 'opening', via: 'ajax' }, deadline: NOW + T.forcedConnectMs },
    effects: ['open:ajax'],
  },
  {
    name: 'start twice is ignored',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'start' },
    to: { phase: { name: 'opening', via: 'websocket' } },
    effects: [],
  },

  // ----- opening -----
  {
    name: 'WebSocket opens on probation: checked after an idle pause',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'opened', kind: 'websocket' },
    to: { phase: online('websocket', 'probation', NOW), deadline: NOW + T.verifyIdleMs },
    effects: [],
  },
  {
    name: 'Ajax needs no check: it is trusted at once, remembered, and higher rungs get probed later',
    from: st({ phase: { name: 'opening', via: 'ajax' }, round: [wsRefused, lpCut], deadline: NOW + 5 }),
    event: { type: 'opened', kind: 'ajax' },
    to: { phase: online('ajax', 'trusted', NOW), home: 'ajax', skipped: [wsRefused, lpCut], round: [], deadline: NOW + T.probeFirstMs },
    effects: ['remember:ajax[websocket=refused,long-polling=lost]'],
  },
  {
    name: 'a forced transport is trusted at once and never probes',
    from: { ...initialMachine('websocket'), phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 },
    event: { type: 'opened', kind: 'websocket' },
    to: { phase: online('websocket', 'trusted', NOW), deadline: null },
    effects: [],
  },
  {
    name: 'an open from a transport no longer awaited is ignored',
    from: st({ phase: { name: 'waiting', retryInMs: 500 }, retries: 2, deadline: NOW + 500 }),
    event: { type: 'opened', kind: 'websocket' },
    to: { phase: { name: 'waiting', retryInMs: 500 } },
    effects: [],
  },
  {
    name: 'a refused WebSocket falls to long-polling at once',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'refused' },
    to: { phase: { name: 'opening', via: 'long-polling' }, round: [wsRefused], deadline: NOW + T.connectMs['long-polling'] },
    effects: ['close', 'open:long-polling'],
  },
  {
    name: 'a WebSocket that misses its deadline falls to long-polling',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW }),
    event: { type: 'deadline' },
    to: {
      phase: { name: 'opening', via: 'long-polling' },
      round: [{ kind: 'websocket', cause: 'timeout' }],
      deadline: NOW + T.connectMs['long-polling'],
    },
    effects: ['close', 'open:long-polling'],
  },
  {
    name: 'a deadline event before the deadline does nothing',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 1 }),
    event: { type: 'deadline' },
    to: { phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 1 },
    effects: [],
  },
  {
    name: 'when the last rung fails too, the round failed: back off, then start again from home',
    from: st({ phase: { name: 'opening', via: 'ajax' }, round: [wsRefused, lpCut], deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'refused' },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, retries: 1, round: [], home: 'websocket', deadline: NOW + mid(1) },
    effects: ['close'],
  },
  {
    name: 'a forced transport that fails backs off instead of falling',
    from: { ...initialMachine('websocket'), phase: { name: 'opening', via: 'websocket' }, retries: 2, deadline: NOW + 5 },
    event: { type: 'closed', cause: 'refused' },
    to: { phase: { name: 'waiting', retryInMs: mid(3) }, retries: 3, deadline: NOW + mid(3) },
    effects: ['close'],
  },
  {
    name: 'a connection cap refusing the first rung backs off for the pause it asks, without walking down the ladder',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'server-closed', retryAfterMs: 10_000 },
    to: { phase: { name: 'waiting', retryInMs: 10_000 }, retries: 1, round: [], home: 'websocket', deadline: NOW + 10_000 },
    effects: ['close'],
  },
  {
    name: "a server's retryAfterMs while opening is obeyed, not blamed on the rung",
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'server-closed', retryAfterMs: 5000 },
    to: { phase: { name: 'waiting', retryInMs: 5000 }, retries: 1, round: [], deadline: NOW + 5000 },
    effects: ['close'],
  },

  // ----- probation and the trust check -----
  {
    name: 'after the idle pause, a round trip checks the new connection',
    from: st({ phase: online('long-polling', 'probation', NOW - T.verifyIdleMs), deadline: NOW }),
    event: { type: 'deadline' },
    to: { phase: online('long-polling', 'verifying', NOW - T.verifyIdleMs), deadline: NOW + T.pingMs },
    effects: ['ping'],
  },
  {
    name: 'a passed check trusts the rung, makes it home, remembers why the better ones failed',
    from: st({ phase: online('long-polling', 'verifying', NOW - 3000), round: [wsRefused], deadline: NOW + 5 }),
    event: { type: 'ping-result', ok: true },
    to: {
      phase: online('long-polling', 'trusted', NOW - 3000),
      home: 'long-polling',
      skipped: [wsRefused],
      round: [],
      retries: 0,
      deadline: NOW + T.probeFirstMs,
    },
    effects: ['remember:long-polling[websocket=refused]'],
  },
  {
    name: 'a passed check on WebSocket, already home, has nothing to remember or probe',
    from: st({ phase: online('websocket', 'verifying', NOW - 3000), retries: 3, deadline: NOW + 5 }),
    event: { type: 'ping-result', ok: true },
    to: { phase: online('websocket', 'trusted', NOW - 3000), retries: 0, deadline: null },
    effects: [],
  },
  {
    name: 'a failed check blames the rung: the next one is tried at once',
    from: st({ phase: online('long-polling', 'verifying', NOW - 3000), round: [wsRefused], deadline: NOW + 5 }),
    event: { type: 'ping-result', ok: false },
    to: {
      phase: { name: 'opening', via: 'sse' },
      round: [wsRefused, { kind: 'long-polling', cause: 'unresponsive' }],
      deadline: NOW + T.connectMs.sse,
    },
    effects: ['close', 'open:sse'],
  },
  {
    name: 'an unanswered check (a proxy holding replies) blames the rung too',
    from: st({ phase: online('long-polling', 'verifying', NOW - 3000), deadline: NOW }),
    event: { type: 'deadline' },
    to: { phase: { name: 'opening', via: 'sse' }, round: [{ kind: 'long-polling', cause: 'unresponsive' }], deadline: NOW + T.connectMs.sse },
    effects: ['close', 'open:sse'],
  },
  {
    name: 'a connection cut right after opening (a proxy cutting long polls) blames the rung',
    from: st({ phase: online('long-polling', 'probation', NOW - 1000), round: [wsRefused], deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'lost' },
    to: { phase: { name: 'opening', via: 'sse' }, round: [wsRefused, lpCut], deadline: NOW + T.connectMs.sse },
    effects: ['close', 'open:sse'],
  },
  {
    name: 'an early loss on a trusted rung still blames it',
    from: st({ phase: online('long-polling', 'trusted', NOW - T.earlyLossMs + 1), home: 'long-polling', deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'lost' },
    to: { phase: { name: 'opening', via: 'sse' }, round: [lpCut], deadline: NOW + T.connectMs.sse },
    effects: ['close', 'open:sse'],
  },
  {
    name: 'the server closing a new connection on purpose is not the rung’s fault',
    from: st({ phase: online('websocket', 'probation', NOW - 1000), deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'server-closed', retryAfterMs: 500 },
    to: { phase: { name: 'waiting', retryInMs: mid(1, 500) }, retries: 1, deadline: NOW + mid(1, 500) },
    effects: ['close'],
  },

  // ----- losing a trusted connection -----
  {
    name: 'losing a settled connection reconnects quickly from home',
    from: st({ phase: online('websocket', 'trusted'), deadline: null }),
    event: { type: 'closed', cause: 'lost' },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, retries: 1, deadline: NOW + mid(1) },
    effects: ['close'],
  },
  {
    name: "the server's retryAfterMs is a floor on the wait",
    from: st({ phase: online('websocket', 'trusted'), deadline: null }),
    event: { type: 'closed', cause: 'server-closed', retryAfterMs: 5000 },
    to: { phase: { name: 'waiting', retryInMs: 5000 }, retries: 1, deadline: NOW + 5000 },
    effects: ['close'],
  },
  {
    name: 'a forced transport lost early still just reconnects',
    from: { ...initialMachine('long-polling'), phase: online('long-polling', 'trusted', NOW - 100) },
    event: { type: 'closed', cause: 'lost' },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, home: 'long-polling', retries: 1, deadline: NOW + mid(1) },
    effects: ['close'],
  },
  {
    name: 'losing the main connection also ends a running probe',
    from: st({ phase: online('ajax', 'trusted'), home: 'ajax', probe: { via: 'websocket', step: 'settling' }, deadline: NOW + 5 }),
    event: { type: 'closed', cause: 'lost' },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, probe: null, retries: 1, deadline: NOW + mid(1) },
    effects: ['close', 'probe-close'],
  },

  // ----- socket.io upgrading by itself -----
  {
    name: 'a long-polling session upgraded to WebSocket makes WebSocket home and stops probing',
    from: st({
      phase: online('long-polling', 'trusted'),
      home: 'long-polling',
      skipped: [{ kind: 'websocket', cause: 'timeout' }],
      probe: { via: 'websocket', step: 'opening' },
      deadline: NOW + 5,
    }),
    event: { type: 'upgraded', kind: 'websocket' },
    to: { phase: online('websocket', 'trusted'), home: 'websocket', skipped: [], probe: null, deadline: null },
    effects: ['probe-close', 'remember:websocket[]'],
  },
  {
    name: 'an upgrade during probation just changes the carrier under check',
    from: st({ phase: online('long-polling', 'probation', NOW - 100), deadline: NOW + 5 }),
    event: { type: 'upgraded', kind: 'websocket' },
    to: { phase: online('websocket', 'probation', NOW - 100), deadline: NOW + 5 },
    effects: [],
  },

  // ----- waiting -----
  {
    name: 'the retry deadline opens home again',
    from: st({ phase: { name: 'waiting', retryInMs: 900 }, retries: 2, deadline: NOW }),
    event: { type: 'deadline' },
    to: { phase: { name: 'opening', via: 'websocket' }, retries: 2, deadline: NOW + T.connectMs.websocket },
    effects: ['open:websocket'],
  },
  {
    name: 'retry-now skips the wait',
    from: st({ phase: { name: 'waiting', retryInMs: 9000 }, retries: 4, home: 'ajax', deadline: NOW + 9000 }),
    event: { type: 'retry-now' },
    to: { phase: { name: 'opening', via: 'ajax' }, retries: 4, deadline: NOW + T.connectMs.ajax },
    effects: ['open:ajax'],
  },
  {
    name: 'retry-now while online does nothing',
    from: st({ phase: online('websocket', 'trusted') }),
    event: { type: 'retry-now' },
    to: { phase: online('websocket', 'trusted') },
    effects: [],
  },

  // ----- probing upwards -----
  {
    name: 'on a lower rung, the probe deadline tries WebSocket in the background',
    from: st({ phase: online('ajax', 'trusted'), home: 'ajax', deadline: NOW }),
    event: { type: 'deadline' },
    to: { probe: { via: 'websocket', step: 'opening' }, deadline: NOW + T.connectMs.websocket },
    effects: ['probe-open:websocket'],
  },
  {
    name: 'an opened probe idles before its check',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'websocket', step: 'opening' }, deadline: NOW + 5 }),
    event: { type: 'probe-opened' },
    to: { probe: { via: 'websocket', step: 'settling' }, deadline: NOW + T.verifyIdleMs },
    effects: [],
  },
  {
    name: 'after idling, the probe is checked with a round trip',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'websocket', step: 'settling' }, deadline: NOW }),
    event: { type: 'deadline' },
    to: { probe: { via: 'websocket', step: 'pinging' }, deadline: NOW + T.pingMs },
    effects: ['probe-ping'],
  },
  {
    name: 'a probe that passes replaces the main connection: up to WebSocket',
    from: st({
      phase: online('ajax', 'trusted'),
      home: 'ajax',
      skipped: [wsRefused, lpCut],
      probe: { via: 'websocket', step: 'pinging' },
      probeFailures: 3,
      deadline: NOW + 5,
    }),
    event: { type: 'probe-ping-result', ok: true },
    to: { phase: online('websocket', 'trusted', NOW), home: 'websocket', skipped: [], probe: null, probeFailures: 0, deadline: null },
    effects: ['promote-probe', 'remember:websocket[]'],
  },
  {
    name: 'a long-polling probe that passes moves up one rung and keeps probing above it',
    from: st({
      phase: online('ajax', 'trusted'),
      home: 'ajax',
      skipped: [wsRefused, lpCut],
      probe: { via: 'long-polling', step: 'pinging' },
      deadline: NOW + 5,
    }),
    event: { type: 'probe-ping-result', ok: true },
    to: {
      phase: online('long-polling', 'trusted', NOW),
      home: 'long-polling',
      skipped: [wsRefused],
      probe: null,
      deadline: NOW + T.probeFirstMs,
    },
    effects: ['promote-probe', 'remember:long-polling[websocket=refused]'],
  },
  {
    name: 'a failed WebSocket probe from Ajax tries long-polling next',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'websocket', step: 'opening' }, deadline: NOW + 5 }),
    event: { type: 'probe-closed' },
    to: { probe: { via: 'long-polling', step: 'opening' }, deadline: NOW + T.connectMs['long-polling'] },
    effects: ['probe-close', 'probe-open:long-polling'],
  },
  {
    name: 'a WebSocket probe the server refused on purpose waits instead of trying long-polling',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'websocket', step: 'opening' }, deadline: NOW + 5 }),
    event: { type: 'probe-closed', refused: true },
    to: { probe: null, probeFailures: 1, deadline: NOW + T.probeFirstMs * 2 },
    effects: ['probe-close'],
  },
  {
    name: 'when no probe helps, the next round waits twice as long',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'sse', step: 'pinging' }, probeFailures: 1, deadline: NOW + 5 }),
    event: { type: 'probe-ping-result', ok: false },
    to: { probe: null, probeFailures: 2, deadline: NOW + T.probeFirstMs * 4 },
    effects: ['probe-close'],
  },
  {
    name: 'probe waits stop growing at the cap',
    from: st({ phase: online('long-polling', 'trusted'), probe: { via: 'websocket', step: 'opening' }, probeFailures: 20, deadline: NOW }),
    event: { type: 'deadline' },
    to: { probe: null, probeFailures: 21, deadline: NOW + T.probeMaxMs },
    effects: ['probe-close'],
  },
  {
    name: 'a probe that misses its check deadline failed',
    from: st({ phase: online('long-polling', 'trusted'), probe: { via: 'websocket', step: 'pinging' }, deadline: NOW }),
    event: { type: 'deadline' },
    to: { probe: null, probeFailures: 1, deadline: NOW + T.probeFirstMs * 2 },
    effects: ['probe-close'],
  },
  {
    name: 'probe results without a probe are ignored',
    from: st({ phase: online('websocket', 'trusted') }),
    event: { type: 'probe-ping-result', ok: true },
    to: { phase: online('websocket', 'trusted') },
    effects: [],
  },

  // ----- wall-clock liveness -----
  {
    name: 'after the clock jumped, a settled connection is re-checked (and a probe dropped)',
    from: st({ phase: online('long-polling', 'trusted'), probe: { via: 'websocket', step: 'settling' }, deadline: NOW + 5 }),
    event: { type: 'woke' },
    to: { phase: online('long-polling', 'rechecking'), probe: null, deadline: NOW + T.pingMs },
    effects: ['probe-close', 'ping'],
  },
  {
    name: 'a passed re-check goes back to normal',
    from: st({ phase: online('long-polling', 'rechecking'), deadline: NOW + 5 }),
    event: { type: 'ping-result', ok: true },
    to: { phase: online('long-polling', 'trusted'), deadline: NOW + T.probeFirstMs },
    effects: [],
  },
  {
    name: 'a failed re-check reconnects (the rung is not blamed)',
    from: st({ phase: online('websocket', 'rechecking'), deadline: NOW + 5 }),
    event: { type: 'ping-result', ok: false },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, home: 'websocket', retries: 1, deadline: NOW + mid(1) },
    effects: ['close'],
  },
  {
    name: 'an unanswered re-check reconnects',
    from: st({ phase: online('websocket', 'rechecking'), deadline: NOW }),
    event: { type: 'deadline' },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, retries: 1, deadline: NOW + mid(1) },
    effects: ['close'],
  },
  {
    name: 'a woke signal while not settled is ignored',
    from: st({ phase: { name: 'waiting', retryInMs: 100 }, deadline: NOW + 100 }),
    event: { type: 'woke' },
    to: { phase: { name: 'waiting', retryInMs: 100 } },
    effects: [],
  },
  {
    name: 'a connection silent past its limit is dropped and reconnected before anything is sent',
    from: st({ phase: online('websocket', 'trusted') }),
    event: { type: 'stale' },
    to: { phase: { name: 'waiting', retryInMs: mid(1) }, retries: 1, deadline: NOW + mid(1) },
    effects: ['close'],
  },
  {
    name: 'stale while not online is ignored',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'stale' },
    to: { phase: { name: 'opening', via: 'websocket' } },
    effects: [],
  },

  // ----- the browser's network signal -----
  {
    name: 'the browser going offline stops everything',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'websocket', step: 'opening' }, deadline: NOW + 5 }),
    event: { type: 'network-offline' },
    to: { phase: { name: 'network-down' }, probe: null, deadline: null },
    effects: ['close', 'probe-close'],
  },
  {
    name: 'going offline while waiting just cancels the wait',
    from: st({ phase: { name: 'waiting', retryInMs: 100 }, retries: 2, deadline: NOW + 100 }),
    event: { type: 'network-offline' },
    to: { phase: { name: 'network-down' }, retries: 2, deadline: null },
    effects: [],
  },
  {
    name: 'offline twice is ignored',
    from: st({ phase: { name: 'network-down' } }),
    event: { type: 'network-offline' },
    to: { phase: { name: 'network-down' } },
    effects: [],
  },
  {
    name: 'the network coming back opens home at once',
    from: st({ phase: { name: 'network-down' }, home: 'long-polling' }),
    event: { type: 'network-online' },
    to: { phase: { name: 'opening', via: 'long-polling' }, retries: 1, deadline: NOW + T.connectMs['long-polling'] },
    effects: ['open:long-polling'],
  },
  {
    name: 'the network coming back during a backoff cuts it short',
    from: st({ phase: { name: 'waiting', retryInMs: 8000 }, retries: 4, deadline: NOW + 8000 }),
    event: { type: 'network-online' },
    to: { phase: { name: 'opening', via: 'websocket' }, retries: 4, deadline: NOW + T.connectMs.websocket },
    effects: ['open:websocket'],
  },
  {
    name: 'network-online while online is ignored',
    from: st({ phase: online('websocket', 'trusted') }),
    event: { type: 'network-online' },
    to: { phase: online('websocket', 'trusted') },
    effects: [],
  },

  // ----- session and stop -----
  {
    name: 'an unauthorized token ends the session',
    from: st({ phase: { name: 'opening', via: 'websocket' }, deadline: NOW + 5 }),
    event: { type: 'unauthorized' },
    to: { phase: { name: 'idle' }, deadline: null },
    effects: ['close', 'drop-session'],
  },
  {
    name: 'unauthorized while probing closes both transports',
    from: st({ phase: online('ajax', 'trusted'), probe: { via: 'websocket', step: 'opening' }, deadline: NOW + 5 }),
    event: { type: 'unauthorized' },
    to: { phase: { name: 'idle' }, probe: null, deadline: null },
    effects: ['close', 'probe-close', 'drop-session'],
  },
  {
    name: 'stop while waiting cancels the wait',
    from: st({ phase: { name: 'waiting', retryInMs: 100 }, retries: 3, deadline: NOW + 100 }),
    event: { type: 'stop' },
    to: { phase: { name: 'idle' }, retries: 0, deadline: null },
    effects: [],
  },
  {
    name: 'stop while online closes the transport',
    from: st({ phase: online('websocket', 'trusted') }),
    event: { type: 'stop' },
    to: { phase: { name: 'idle' }, deadline: null },
    effects: ['close'],
  },
  { name: 'stop when idle does nothing', from: auto, event: { type: 'stop' }, to: auto, effects: [] },
];

describe('connection state machine', () => {
  it.each(rows)('$name', ({ from, event, now, to, effects }) => {
    const t = transition(from, event, env(now));
    expect(t.state).toEqual({ ...from, ...to });
    expect(fx(t.effects)).toEqual(effects);
    if (effects.length === 0 && t.state === from) expect(t.state).toBe(from);
  });

  it('covers every event type', () => {
    const seen = new Set(rows.map((r) => r.event.type));
    const all: ConnectionEvent['type'][] = [
      'start', 'opened', 'upgraded', 'closed', 'deadline', 'ping-result', 'probe-opened', 'probe-closed',
      'probe-ping-result', 'woke', 'stale', 'retry-now', 'network-offline', 'network-online', 'unauthorized', 'stop',
    ];
    expect([...seen].sort()).toEqual([...all].sort());
  });
});

/** Drives the machine through a story, advancing a fake clock to each deadline. */
class Story {
  state: MachineState;
  now = NOW;
  readonly log: string[] = [];

  constructor(state: MachineState) {
    this.state = state;
  }

  send(event: ConnectionEvent): this {
    const t = transition(this.state, event, env(this.now));
    this.state = t.state;
    this.log.push(...fx(t.effects));
    return this;
  }

  /** Jumps to the pending deadline and fires it. */
  expire(): this {
    if (this.state.deadline === null) throw new Error('no deadline armed');
    this.now = this.state.deadline;
    return this.send({ type: 'deadline' });
  }

  get view(): string {
    return describeConnection(connectionView(this.state), TRANSPORT_LABELS);
  }
}

describe('connection stories', () => {
  it('WebSocket refused, long polls cut and streams buffered: settles on Ajax, explains all three, and comes back up when the path clears', () => {
    const s = new Story(auto).send({ type: 'start' });
    s.send({ type: 'closed', cause: 'refused' }); // proxy refuses the upgrade
    s.send({ type: 'opened', kind: 'long-polling' });
    s.now += 1000;
    s.send({ type: 'closed', cause: 'lost' }); // proxy cuts the held poll
    s.expire(); // proxy buffers the event stream: it never opens
    s.send({ type: 'opened', kind: 'ajax' });
    expect(s.view).toBe('Connected · Ajax polling');
    expect(s.state.skipped).toEqual([wsRefused, lpCut, { kind: 'sse', cause: 'timeout' }]);

    // First probe: the path is still blocked.
    s.expire().send({ type: 'probe-closed' });
    expect(s.state.probe).toEqual({ via: 'long-polling', step: 'opening' });
    s.send({ type: 'probe-opened' }).send({ type: 'probe-closed' });
    expect(s.state.probe).toEqual({ via: 'sse', step: 'opening' });
    s.expire(); // the buffered stream never says it is ready
    expect(s.state.probe).toBeNull();
    // Second probe, after the block is lifted.
    s.expire().send({ type: 'probe-opened' }).expire().send({ type: 'probe-ping-result', ok: true });
    expect(s.view).toBe('Connected · WebSocket');
    expect(s.state.skipped).toEqual([]);
    expect(s.log).toEqual([
      'open:websocket',
      'close',
      'open:long-polling',
      'close',
      'open:sse',
      'close',
      'open:ajax',
      'remember:ajax[websocket=refused,long-polling=lost,sse=timeout]',
      'probe-open:websocket',
      'probe-close',
      'probe-open:long-polling',
      'probe-close',
      'probe-open:sse',
      'probe-close',
      'probe-open:websocket',
      'probe-ping',
      'promote-probe',
      'remember:websocket[]',
    ]);
  });

  it('a long-polling proxy that holds replies is caught by the idle check', () => {
    const s = new Story(auto).send({ type: 'start' });
    s.expire(); // WebSocket upgrade hangs
    s.send({ type: 'opened', kind: 'long-polling' });
    expect(s.view).toBe('Connected · Long-polling');
    s.expire(); // idle pause over: check
    s.expire(); // no answer
    expect(s.log.at(-1)).toBe('open:sse');
    s.send({ type: 'opened', kind: 'sse' });
    expect(s.view).toBe('Connected · Server-Sent Events');
    s.expire().send({ type: 'ping-result', ok: true }); // the stream proves itself
    expect(s.state.skipped).toEqual([
      { kind: 'websocket', cause: 'timeout' },
      { kind: 'long-polling', cause: 'unresponsive' },
    ]);
  });

  it('a server that is down costs a walk down the ladder per round, with growing waits, and home never moves', () => {
    const s = new Story(auto).send({ type: 'start' });
    const waits: number[] = [];
    for (let round = 0; round < OFFLINE_AFTER_ATTEMPTS + 2; round++) {
      for (let rung = 0; rung < LADDER.length; rung++) s.send({ type: 'closed', cause: 'refused' });
      expect(s.state.phase.name).toBe('waiting');
      waits.push(s.state.phase.name === 'waiting' ? s.state.phase.retryInMs : -1);
      s.expire();
    }
    expect(s.state.home).toBe('websocket');
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1] as number);
    expect(waits.at(-1)).toBeLessThanOrEqual(DEFAULT_BACKOFF.capMs);
    expect(s.view).toBe('Offline');
    // The server is back: WebSocket works again on the next round.
    s.send({ type: 'opened', kind: 'websocket' }).expire().send({ type: 'ping-result', ok: true });
    expect(s.view).toBe('Connected · WebSocket');
    expect(s.state.retries).toBe(0);
  });
});

describe('connectionView', () => {
  it.each<[string, Partial<MachineState>, ConnectionState]>([
    ['idle', {}, { status: 'idle' }],
    ['first attempt', { phase: { name: 'opening', via: 'long-polling' } }, { status: 'connecting' }],
    ['online', { phase: online('ajax', 'probation') }, { status: 'online', transport: 'ajax' }],
    [
      'waiting to retry',
      { phase: { name: 'waiting', retryInMs: 700 }, retries: 2 },
      { status: 'reconnecting', attempt: 2, phase: 'waiting', retryInMs: 700 },
    ],
    [
      'retrying',
      { phase: { name: 'opening', via: 'websocket' }, retries: 2 },
      { status: 'reconnecting', attempt: 2, phase: 'opening', retryInMs: 0 },
    ],
    [
      'many failed rounds',
      { phase: { name: 'waiting', retryInMs: 9000 }, retries: OFFLINE_AFTER_ATTEMPTS + 1 },
      { status: 'offline', reason: 'unreachable', attempt: OFFLINE_AFTER_ATTEMPTS + 1, phase: 'waiting', retryInMs: 9000 },
    ],
    [
      'network down',
      { phase: { name: 'network-down' }, retries: 1 },
      { status: 'offline', reason: 'network', attempt: 1, phase: 'waiting', retryInMs: 0 },
    ],
  ])('%s', (_name, patch, view) => {
    expect(connectionView(st(patch))).toEqual(view);
  });
});

describe('initialMachine', () => {
  it('keeps only reasons for rungs above the remembered home', () => {
    const m = initialMachine(null, { home: 'long-polling', skipped: [wsRefused, lpCut] });
    expect(m.skipped).toEqual([wsRefused]);
  });

  it('a forced transport ignores any memory', () => {
    expect(initialMachine('ajax', { home: 'long-polling', skipped: [wsRefused] })).toMatchObject({ home: 'ajax', skipped: [] });
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
});

describe('describeConnection', () => {
  it.each<[ConnectionState, string]>([
    [{ status: 'connecting' }, 'Connecting…'],
    [{ status: 'online', transport: 'websocket' }, 'Connected · WebSocket'],
    [{ status: 'online', transport: 'long-polling' }, 'Connected · Long-polling'],
    [{ status: 'online', transport: 'ajax' }, 'Connected · Ajax polling'],
    [{ status: 'reconnecting', attempt: 2, phase: 'waiting', retryInMs: 100 }, 'Reconnecting…'],
    [{ status: 'offline', reason: 'network', attempt: 0, phase: 'waiting', retryInMs: 0 }, 'Offline'],
  ])('%j reads "%s"', (state, text) => {
    expect(describeConnection(state, TRANSPORT_LABELS)).toBe(text);
  });

  const refused = 'Too many connections from this address or account; retrying…';
  it.each<[ConnectionState, string]>([
    [{ status: 'reconnecting', attempt: 1, phase: 'waiting', retryInMs: 10_000 }, refused],
    [{ status: 'reconnecting', attempt: 1, phase: 'opening', retryInMs: 0 }, refused],
    [{ status: 'offline', reason: 'unreachable', attempt: 9, phase: 'waiting', retryInMs: 10_000 }, refused],
    [{ status: 'offline', reason: 'network', attempt: 0, phase: 'waiting', retryInMs: 0 }, 'Offline'],
    [{ status: 'online', transport: 'websocket' }, 'Connected · WebSocket'],
  ])('after a connection-cap refusal, %j reads "%s"', (state, text) => {
    expect(describeConnection(state, TRANSPORT_LABELS, 'server_shutdown', 'too_many_connections')).toBe(text);
  });
});
