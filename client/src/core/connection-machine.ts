/**
 * The connection life cycle as a pure transition function:
 *
 *   idle → opening(rung) → online(transport) → waiting (reconnecting) → … ; network-down (offline)
 *
 * In automatic mode each round of attempts walks a ladder of transports,
 * WebSocket → long-polling → Ajax polling, starting at the best rung known to
 * work (`home`). A rung fails when it cannot open in time, drops right after
 * opening, or does not answer a round trip after an idle pause (some proxies
 * pass short requests but hold or cut long polls). The next rung is tried at
 * once; only when the bottom rung fails too does the machine back off. While
 * on a lower rung it probes the higher ones in the background with a second
 * transport and moves up when one proves itself.
 *
 * Every timeout is an absolute `deadline` in the state; the driver keeps one
 * timer for it and sends `deadline` when it passes. Effects are returned, not
 * performed, so every path is table-testable without sockets or clocks.
 */
import { retryDelay, type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.ts';
import { TRANSPORTS } from '../../../shared/transports.ts';
import type { CloseCause, TransportKind } from './transport.ts';

/** Transports from best to last resort. */
export const LADDER: readonly TransportKind[] = TRANSPORTS;

/** Why a rung was given up. */
export type FailCause = Exclude<CloseCause, 'server-closed'>;

/** A rung abandoned in automatic mode, and why: what the status details explain. */
export interface Skipped {
  kind: TransportKind;
  cause: FailCause;
}

export interface Timing {
  /** How long each rung may take to open in automatic mode before the next one is tried. */
  connectMs: Record<TransportKind, number>;
  /** How long a forced transport may take to open before the attempt counts as failed. */
  forcedConnectMs: number;
  /**
   * Idle pause after opening before the trust check. It must outlast a long
   * poll's first quiet stretch, so a proxy that holds or cuts held responses
   * is caught before the rung is trusted.
   */
  verifyIdleMs: number;
  /** How long a trust-check round trip may take. */
  pingMs: number;
  /** A loss this soon after opening blames the rung (a proxy that cuts long requests), not the server. */
  earlyLossMs: number;
  /** First wait before probing a higher rung; doubles after each failed probe up to `probeMaxMs`. */
  probeFirstMs: number;
  probeMaxMs: number;
}

export const DEFAULT_TIMING: Timing = {
  // WebSocket through a proxy that swallows upgrades tends to hang rather than refuse: 3 s is plenty on a working path.
  connectMs: { websocket: 3000, 'long-polling': 6000, sse: 6000, ajax: 6000 },
  forcedConnectMs: 10_000,
  verifyIdleMs: 2500,
  pingMs: 3000,
  earlyLossMs: 10_000,
  probeFirstMs: 5000,
  probeMaxMs: 60_000,
};

export type Trust = 'probation' | 'verifying' | 'trusted' | 'rechecking';

export type Phase =
  | { name: 'idle' }
  | { name: 'opening'; via: TransportKind }
  | { name: 'online'; via: TransportKind; trust: Trust; openedAt: number }
  | { name: 'waiting'; retryInMs: number }
  | { name: 'network-down' };

export interface Probe {
  via: TransportKind;
  step: 'opening' | 'settling' | 'pinging';
}

export interface MachineState {
  phase: Phase;
  /** Failed rounds in a row; 0 while the first connection is being made. */
  retries: number;
  /** The one carrier allowed (`?transport=`), or null for automatic. */
  forced: TransportKind | null;
  /** Where each round of attempts starts: the best rung known to work. */
  home: TransportKind;
  /** Why the rungs above `home` were given up, best first. */
  skipped: readonly Skipped[];
  /** Rungs that failed in the current round. */
  round: readonly Skipped[];
  /** A background attempt on a higher rung, while online on a lower one. */
  probe: Probe | null;
  probeFailures: number;
  /** When the current step times out (ms epoch); null = nothing pending. */
  deadline: number | null;
}

export type ConnectionEvent =
  | { type: 'start' }
  | { type: 'opened'; kind: TransportKind }
  | { type: 'upgraded'; kind: TransportKind }
  | { type: 'closed'; cause: CloseCause; retryAfterMs?: number }
  | { type: 'deadline' }
  | { type: 'ping-result'; ok: boolean }
  | { type: 'probe-opened' }
  /** `refused`: the server turned the probe away on purpose (a connection cap); a lower rung must not try to get around it. */
  | { type: 'probe-closed'; refused?: boolean }
  | { type: 'probe-ping-result'; ok: boolean }
  | { type: 'woke' }
  | { type: 'stale' }
  | { type: 'retry-now' }
  | { type: 'network-offline' }
  | { type: 'network-online' }
  | { type: 'unauthorized' }
  | { type: 'stop' };

export type ConnectionEffect =
  | { type: 'open'; kind: TransportKind }
  | { type: 'close' }
  | { type: 'ping' }
  | { type: 'probe-open'; kind: TransportKind }
  | { type: 'probe-ping' }
  | { type: 'probe-close' }
  | { type: 'promote-probe' }
  | { type: 'remember'; home: TransportKind; skipped: readonly Skipped[] }
  | { type: 'drop-session' };

export interface MachineEnv {
  now: number;
  random: () => number;
  policy?: BackoffPolicy;
  timing?: Timing;
}

export interface Transition {
  state: MachineState;
  effects: ConnectionEffect[];
}

/** The machine before `start`: forced, or automatic from a remembered rung. */
export function initialMachine(
  forced: TransportKind | null,
  remembered?: { home: TransportKind; skipped: readonly Skipped[] } | null,
): MachineState {
  const home = forced ?? remembered?.home ?? 'websocket';
  return {
    phase: { name: 'idle' },
    retries: 0,
    forced,
    home,
    skipped: forced ? [] : (remembered?.skipped ?? []).filter((s) => rank(s.kind) < rank(home)),
    round: [],
    probe: null,
    probeFailures: 0,
    deadline: null,
  };
}

const rank = (kind: TransportKind): number => LADDER.indexOf(kind);
const below = (kind: TransportKind): TransportKind | null => LADDER[rank(kind) + 1] ?? null;

/** The next state and the effects to run, given the current state and an event. */
export function transition(s: MachineState, event: ConnectionEvent, env: MachineEnv): Transition {
  const m = new Step(s, env);
  const { phase } = s;
  switch (event.type) {
    case 'start':
      if (phase.name !== 'idle') return m.stay();
      return m.open(s.home, { retries: 0, round: [] });

    case 'opened': {
      if (phase.name !== 'opening') return m.stay();
      const needsCheck = s.forced === null && event.kind !== 'ajax';
      if (!needsCheck) return m.settle(event.kind, env.now);
      return m.to({
        phase: { name: 'online', via: event.kind, trust: 'probation', openedAt: env.now },
        deadline: env.now + m.timing.verifyIdleMs,
      });
    }

    case 'upgraded': {
      // socket.io moved the live session to a better carrier by itself.
      if (phase.name !== 'online' || event.kind === phase.via) return m.stay();
      if (phase.trust !== 'trusted' || rank(event.kind) > rank(phase.via)) {
        return m.to({ phase: { ...phase, via: event.kind } });
      }
      return m.closeProbe().settle(event.kind, phase.openedAt);
    }

    case 'closed':
      if (phase.name === 'opening') {
        if (event.cause === 'server-closed' || event.retryAfterMs !== undefined) {
          return m.roundFailed(s.retries + 1, event.retryAfterMs);
        }
        return m.fail(phase.via, event.cause);
      }
      if (phase.name !== 'online') return m.stay();
      if (event.cause !== 'server-closed' && s.forced === null && env.now - phase.openedAt < m.timing.earlyLossMs) {
        return m.fail(phase.via, event.cause);
      }
      return m.lost(event.retryAfterMs);

    case 'deadline':
      return onDeadline(m, s);

    case 'ping-result':
      if (phase.name !== 'online') return m.stay();
      if (phase.trust === 'verifying') return event.ok ? m.settle(phase.via, phase.openedAt) : m.fail(phase.via, 'unresponsive');
      if (phase.trust === 'rechecking') {
        return event.ok ? m.to({ phase: { ...phase, trust: 'trusted' }, deadline: m.nextProbeAt(phase.via) }) : m.lost();
      }
      return m.stay();

    case 'probe-opened':
      if (s.probe?.step !== 'opening') return m.stay();
      return m.to({ probe: { ...s.probe, step: 'settling' }, deadline: env.now + m.timing.verifyIdleMs });

    case 'probe-closed':
      return s.probe ? m.probeFailed(s.probe, event.refused === true) : m.stay();

    case 'probe-ping-result':
      if (s.probe?.step !== 'pinging' || phase.name !== 'online') return m.stay();
      if (!event.ok) return m.probeFailed(s.probe);
      return m
        .effect({ type: 'promote-probe' })
        .patch({ probe: null, probeFailures: 0, phase: { ...phase, via: s.probe.via, trust: 'trusted', openedAt: env.now } })
        .settle(s.probe.via, env.now);

    case 'woke':
      // The clock jumped (sleep, throttled tab): the connection may be dead without knowing it.
      if (phase.name !== 'online' || phase.trust !== 'trusted') return m.stay();
      return m.closeProbe().effect({ type: 'ping' }).to({
        phase: { ...phase, trust: 'rechecking' },
        deadline: env.now + m.timing.pingMs,
      });

    case 'stale':
      return phase.name === 'online' ? m.lost() : m.stay();

    case 'retry-now':
      return phase.name === 'waiting' ? m.open(s.home, { round: [] }) : m.stay();

    case 'network-offline':
      if (phase.name === 'idle' || phase.name === 'network-down') return m.stay();
      return m.closeAll().to({ phase: { name: 'network-down' }, round: [], deadline: null });

    case 'network-online':
      if (phase.name === 'network-down') return m.open(s.home, { retries: Math.max(1, s.retries), round: [] });
      // The network came back while waiting out a backoff: try at once.
      if (phase.name === 'waiting') return m.open(s.home, { round: [] });
      return m.stay();

    case 'unauthorized':
      if (phase.name === 'idle') return m.stay();
      return m.closeAll().effect({ type: 'drop-session' }).to(idleFields);

    case 'stop':
      if (phase.name === 'idle') return m.stay();
      return m.closeAll().to(idleFields);
  }
}

const idleFields: Partial<MachineState> = { phase: { name: 'idle' }, retries: 0, round: [], deadline: null };

function onDeadline(m: Step, s: MachineState): Transition {
  const { phase } = s;
  const now = m.env.now;
  if (s.deadline === null || now < s.deadline) return m.stay();
  switch (phase.name) {
    case 'opening':
      return m.fail(phase.via, 'timeout');
    case 'waiting':
      return m.open(s.home, { round: [] });
    case 'online':
      switch (phase.trust) {
        case 'probation':
          return m.effect({ type: 'ping' }).to({ phase: { ...phase, trust: 'verifying' }, deadline: now + m.timing.pingMs });
        case 'verifying':
          return m.fail(phase.via, 'unresponsive');
        case 'rechecking':
          return m.lost();
        case 'trusted':
          break;
      }
      if (!s.probe) {
        const top = LADDER[0] as TransportKind;
        return m.startProbe(top);
      }
      if (s.probe.step === 'settling') {
        return m.effect({ type: 'probe-ping' }).to({ probe: { ...s.probe, step: 'pinging' }, deadline: now + m.timing.pingMs });
      }
      return m.probeFailed(s.probe);
    default:
      return m.stay();
  }
}

/** Accumulates one transition: state changes and effects, applied in order. */
class Step {
  private state: MachineState;
  private readonly effects: ConnectionEffect[] = [];
  readonly timing: Timing;

  constructor(
    private readonly from: MachineState,
    readonly env: MachineEnv,
  ) {
    this.state = from;
    this.timing = env.timing ?? DEFAULT_TIMING;
  }

  stay(): Transition {
    return { state: this.from, effects: [] };
  }

  effect(e: ConnectionEffect): this {
    this.effects.push(e);
    return this;
  }

  /** Applies a patch and goes on. */
  patch(patch: Partial<MachineState>): this {
    this.state = { ...this.state, ...patch };
    return this;
  }

  /** Applies a patch and finishes the transition. */
  to(patch: Partial<MachineState>): Transition {
    return this.patch(patch).done();
  }

  private done(): Transition {
    return { state: this.state, effects: this.effects };
  }

  /** Closes the main transport (if any) and any probe. */
  closeAll(): this {
    if (this.state.phase.name === 'opening' || this.state.phase.name === 'online') this.effect({ type: 'close' });
    return this.closeProbe();
  }

  closeProbe(): this {
    if (this.state.probe) {
      this.effect({ type: 'probe-close' });
      this.state = { ...this.state, probe: null };
    }
    return this;
  }

  private connectMs(kind: TransportKind): number {
    return this.state.forced ? this.timing.forcedConnectMs : this.timing.connectMs[kind];
  }

  /** Opens the main transport on `kind`. */
  open(kind: TransportKind, patch: Partial<MachineState>): Transition {
    this.closeAll();
    this.state = { ...this.state, ...patch };
    this.effect({ type: 'open', kind });
    this.state = { ...this.state, phase: { name: 'opening', via: kind }, deadline: this.env.now + this.connectMs(kind) };
    return this.done();
  }

  /** The rung `kind` failed: try the next one now, or back off once none is left. */
  fail(kind: TransportKind, cause: FailCause): Transition {
    const round = [...this.state.round, { kind, cause }];
    const next = this.state.forced === null ? below(kind) : null;
    if (next) return this.open(next, { round });
    return this.roundFailed(this.state.retries + 1);
  }

  /** Every rung of the round failed: wait, then start again from home. */
  roundFailed(retries: number, retryAfterMs?: number): Transition {
    this.closeAll();
    const retryInMs = retryDelay(retries, this.env.random, retryAfterMs, this.env.policy ?? DEFAULT_BACKOFF);
    this.state = {
      ...this.state,
      phase: { name: 'waiting', retryInMs },
      retries,
      round: [],
      deadline: this.env.now + retryInMs,
    };
    return this.done();
  }

  /** A trusted connection dropped: most drops are blips or restarts, so the first retry is quick. */
  lost(retryAfterMs?: number): Transition {
    return this.roundFailed(1, retryAfterMs);
  }

  /** `kind` proved itself: it becomes home, and higher rungs get probed later. */
  settle(kind: TransportKind, openedAt: number): Transition {
    const s = this.state;
    let home = kind;
    let skipped: readonly Skipped[] = [];
    if (s.forced === null) {
      // What failed above `kind`, this round or earlier, best first; the latest cause per rung wins.
      const byKind = new Map<TransportKind, Skipped>();
      for (const x of [...s.skipped, ...s.round]) if (rank(x.kind) < rank(kind)) byKind.set(x.kind, x);
      skipped = [...byKind.values()].sort((a, b) => rank(a.kind) - rank(b.kind));
      if (home !== s.home || !sameSkipped(skipped, s.skipped)) this.effect({ type: 'remember', home, skipped });
    } else {
      home = s.forced;
    }
    this.state = {
      ...s,
      phase: { name: 'online', via: kind, trust: 'trusted', openedAt },
      retries: 0,
      round: [],
      home,
      skipped,
      deadline: s.probe ? s.deadline : this.nextProbeAt(kind),
    };
    return this.done();
  }

  /** When to probe above `kind`, or null at the top or when forced. */
  nextProbeAt(kind: TransportKind): number | null {
    if (this.state.forced !== null || rank(kind) === 0) return null;
    const wait = Math.min(this.timing.probeMaxMs, this.timing.probeFirstMs * 2 ** this.state.probeFailures);
    return this.env.now + wait;
  }

  startProbe(kind: TransportKind): Transition {
    this.effect({ type: 'probe-open', kind });
    this.state = {
      ...this.state,
      probe: { via: kind, step: 'opening' },
      deadline: this.env.now + this.timing.connectMs[kind],
    };
    return this.done();
  }

  /**
   * A probe failed: try the next rung that would still be an improvement, or
   * wait longer. A probe the server refused on purpose waits at once rather
   * than trying to get around the refusal on a lower rung.
   */
  probeFailed(probe: Probe, refused = false): Transition {
    this.closeProbe();
    const phase = this.state.phase;
    if (phase.name !== 'online') return this.done();
    const next = below(probe.via);
    if (!refused && next && rank(next) < rank(phase.via)) return this.startProbe(next);
    this.state = { ...this.state, probeFailures: this.state.probeFailures + 1 };
    this.state = { ...this.state, deadline: this.nextProbeAt(phase.via) };
    return this.done();
  }
}

function sameSkipped(a: readonly Skipped[], b: readonly Skipped[]): boolean {
  return a.length === b.length && a.every((x, i) => x.kind === b[i]?.kind && x.cause === b[i]?.cause);
}
