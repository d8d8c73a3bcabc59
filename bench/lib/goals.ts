/**
 * The performance targets the report gives verdicts on, in one place, and
 * every fan-out, latency and capacity figure divided by the batching
 * ceiling's. Verdicts only: a run never fails on a speed or memory figure
 * (run.ts fails a run on lost, refused or unpersisted messages, not on these).
 *
 * Kept apart from targets.ts, whose "targets" are the servers under test.
 */
import type { ByTarget } from '../scenarios.ts';
import { fmt, lat, ms, num } from './format.ts';
import { CEILING, LABEL, TARGETS } from './targets.ts';

type R = Record<string, unknown>;
type Fig = Record<string, unknown> | undefined;

export type GoalId =
  | 'fanout-vs-socketio'
  | 'fanout-vs-ws'
  | 'fanout-vs-ceiling'
  | 'fanout-p99-vs-ceiling'
  | 'websocket-p99-vs-socketio'
  | 'polling-p99-vs-websocket'
  | 'ajax-p50'
  | 'idle-rss'
  | 'capacity'
  | 'capacity-p99-vs-socketio'
  | 'join-p99'
  | 'jitter-catch-up'
  | 'search-p99'
  | 'search-index';

/** Idle WebSocket memory per connection, KB of RSS (raw ws holds about 4). */
export const IDLE_RSS_KB = 8;
/** Fan-out deliveries/s as a share of the batching ceiling's. */
export const FANOUT_VS_CEILING = 0.9;

/** What each goal asks, as the report and the console print it. */
export const GOALS: Record<GoalId, string> = {
  'fanout-vs-socketio': 'fan-out deliveries/s ≥ 1.5× plain socket.io',
  'fanout-vs-ws': 'fan-out deliveries/s ≥ 1.0× raw ws',
  'fanout-vs-ceiling': `fan-out deliveries/s ≥ ${FANOUT_VS_CEILING}× the batching ceiling, every acked message persisted`,
  'fanout-p99-vs-ceiling': 'fan-out send→receive p99 ≤ 1.2× the batching ceiling',
  'websocket-p99-vs-socketio': 'WebSocket p99 at half socket.io saturation ≤ plain socket.io',
  'polling-p99-vs-websocket': 'long-polling p99 ≤ 3× WebSocket',
  'ajax-p50': 'Ajax p50 ≤ half the poll interval + 10 ms (510 ms)',
  'idle-rss': `idle WebSocket RSS ≤ ${IDLE_RSS_KB} KB per connection`,
  capacity: '≥ 19,000 connections held, send→receive p99 < 50 ms',
  'capacity-p99-vs-socketio': 'capacity send→receive p99 ≤ plain socket.io',
  'join-p99': 'join p99 ≤ 5 ms in a room of 100,000 messages',
  'jitter-catch-up': 'jitter: delivered exactly once, catch-up p99 < 500 ms',
  'search-p99': 'search p99 < 50 ms on SQLite for one-word queries',
  'search-index': 'search index ≤ 1.5× the messages\' text on disk',
};

/**
 * A recorded verdict held against today's bound, for the goals whose bound
 * was raised since runs were recorded (runs.jsonl keeps what each run was
 * told): a verdict met then is met now only if its figure clears today's bound.
 */
export function stillMet(v: Pick<Verdict, 'goal' | 'shown' | 'met'>): boolean {
  if (!v.met) return false;
  const value = Number.parseFloat(v.shown);
  if (!Number.isFinite(value)) return v.met;
  if (v.goal === 'idle-rss') return value <= IDLE_RSS_KB;
  if (v.goal === 'fanout-vs-ceiling') return value >= FANOUT_VS_CEILING;
  return v.met;
}

export interface Verdict {
  goal: GoalId;
  /** What the verdict covers within its goal (`500 subscribers`, `plain socket.io`); empty when the goal has one verdict. */
  scope: string;
  /** The figure held against the bound: a ratio, or ms, or KB, as the goal says. */
  value: number;
  /** How the figure reads: `0.83×`, `33.8 ms`. */
  shown: string;
  met: boolean;
  /** `**met**`, or `missed: ` and by how much. */
  text: string;
}

const AJAX_BOUND_MS = 1000 / 2 + 10;
const deliveries = (f: Fig) => num(f?.deliveriesPerSec);
const x2 = (v: number) => `${fmt(v, 2)}×`;

function verdict(goal: GoalId, scope: string, value: number, shown: string, met: boolean, miss: string): Verdict {
  return { goal, scope, value, shown, met, text: met ? '**met**' : `missed: ${miss}` };
}

/** Every verdict the results hold figures for; a goal whose figures are missing (a scenario not run) is left out. */
export function verdicts(r: R): Verdict[] {
  const out: Verdict[] = [];
  const fan = (r.fanout ?? {}) as Record<string, ByTarget>;
  for (const [size, by] of Object.entries(fan)) {
    const scope = `${fmt(Number(size))} subscribers`;
    const f = by.fiberchat;
    const vs = deliveries(f) / deliveries(by.socketio);
    if (Number.isFinite(vs)) out.push(verdict('fanout-vs-socketio', scope, vs, x2(vs), vs >= 1.5, `${fmt(((1.5 - vs) / 1.5) * 100)} % short`));
    const vw = deliveries(f) / deliveries(by.ws);
    if (Number.isFinite(vw)) out.push(verdict('fanout-vs-ws', scope, vw, x2(vw), vw >= 1, `${fmt((1 - vw) * 100)} % short`));
    const vc = deliveries(f) / deliveries(by[CEILING]);
    if (Number.isFinite(vc)) {
      const acked = num(f?.acked);
      const persisted = num(f?.persisted);
      const lost = persisted < acked;
      const misses = [...(vc < FANOUT_VS_CEILING ? [`${fmt(((FANOUT_VS_CEILING - vc) / FANOUT_VS_CEILING) * 100)} % short`] : []), ...(lost ? [`${fmt(persisted)} of ${fmt(acked)} acked messages committed`] : [])];
      out.push(verdict('fanout-vs-ceiling', scope, vc, x2(vc), vc >= FANOUT_VS_CEILING && !lost && Number.isFinite(persisted), misses.join('; ') || 'persistence not measured'));
    }
    const pc = lat(f, 'p99') / lat(by[CEILING], 'p99');
    if (Number.isFinite(pc)) out.push(verdict('fanout-p99-vs-ceiling', scope, pc, x2(pc), pc <= 1.2, `${fmt((pc / 1.2 - 1) * 100)} % over`));
  }

  const latency = (r.latency ?? {}) as Record<string, ByTarget>;
  const fws = lat(latency.websocket?.fiberchat, 'p99');
  const sws = lat(latency.websocket?.socketio, 'p99');
  if (Number.isFinite(fws / sws)) {
    out.push(verdict('websocket-p99-vs-socketio', '', fws / sws, x2(fws / sws), fws <= sws, `${ms(fws - sws)} ms over`));
  }
  const fpoll = lat(latency.polling?.fiberchat, 'p99') / fws;
  if (Number.isFinite(fpoll)) out.push(verdict('polling-p99-vs-websocket', '', fpoll, x2(fpoll), fpoll <= 3, `${fmt(fpoll, 1)}×`));
  const ajax = lat(latency.ajax?.fiberchat, 'p50');
  if (Number.isFinite(ajax)) out.push(verdict('ajax-p50', '', ajax, `${ms(ajax)} ms`, ajax <= AJAX_BOUND_MS, `${ms(ajax - AJAX_BOUND_MS)} ms over`));

  const rss = num(((r.idle ?? {}) as Record<string, ByTarget>).websocket?.fiberchat?.rssPerConnKB);
  if (Number.isFinite(rss)) out.push(verdict('idle-rss', '', rss, `${fmt(rss, 1)} KB`, rss <= IDLE_RSS_KB, `${fmt(rss - IDLE_RSS_KB, 1)} KB over (${fmt((rss / IDLE_RSS_KB - 1) * 100)} %)`));

  const cap = (r.capacity ?? {}) as ByTarget;
  for (const name of TARGETS) {
    const c = cap[name];
    if (!c) continue;
    const held = num(c.heldAtEnd);
    const p99 = lat(c, 'p99');
    out.push(verdict('capacity', LABEL[name], p99, `${ms(p99)} ms`, held >= 19_000 && p99 < 50, held < 19_000 ? `${fmt(held)} held` : `p99 ${ms(p99)} ms`));
  }
  const cf = lat(cap.fiberchat, 'p99');
  const cs = lat(cap.socketio, 'p99');
  if (Number.isFinite(cf / cs)) out.push(verdict('capacity-p99-vs-socketio', '', cf / cs, x2(cf / cs), cf <= cs, `${ms(cf - cs)} ms over`));

  const join = r.join as Fig;
  if (join) {
    const p99 = lat(join, 'p99');
    out.push(verdict('join-p99', '', p99, `${ms(p99)} ms`, p99 <= 5, `by ${ms(p99 - 5)} ms`));
  }
  const jit = r.jitter as Fig;
  if (jit) {
    const p99 = num((jit.catchUpMs as Record<string, number> | undefined)?.p99);
    out.push(verdict('jitter-catch-up', '', p99, `${ms(p99)} ms`, p99 < 500 && num(jit.deliveredRatio) === 1, `catch-up p99 ${ms(p99)} ms, ${fmt(num(jit.deliveredRatio) * 100, 2)} % delivered once`));
  }
  const sqlite = (r.search as Fig)?.sqlite as Record<string, Record<string, number> | number> | undefined;
  if (sqlite) {
    for (const kind of ['common', 'rare'] as const) {
      const p99 = num((sqlite[kind] as Record<string, number> | undefined)?.p99);
      out.push(verdict('search-p99', `${kind} word`, p99, `${ms(p99)} ms`, p99 < 50, `by ${ms(p99 - 50)} ms`));
    }
    const ratio = num(sqlite.indexToText);
    out.push(verdict('search-index', '', ratio, x2(ratio), ratio <= 1.5, `${fmt(((ratio - 1.5) / 1.5) * 100)} % over`));
  }
  return out;
}

/** The verdict of a goal for a scope, if the results have one. */
export function verdictOf(vs: readonly Verdict[], goal: GoalId, scope = ''): Verdict | undefined {
  return vs.find((v) => v.goal === goal && v.scope === scope);
}

const FANOUT_KEYS = ['deliveriesPerSec', 'sendsPerSec', 'framesPerSec'] as const;
const CAPACITY_KEYS = ['connectsPerSec', 'rssMB'] as const;

/** Each figure of `f` divided by the same figure of the ceiling `c`: the named keys, and latency p50 and p99. */
function divide(f: Fig, c: Fig, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = num(f?.[key]) / num(c?.[key]);
  out.latencyP50 = lat(f, 'p50') / lat(c, 'p50');
  out.latencyP99 = lat(f, 'p99') / lat(c, 'p99');
  for (const [key, v] of Object.entries(out)) if (!Number.isFinite(v)) delete out[key];
  return out;
}

/**
 * Every other target's fan-out, latency and capacity figures ÷ the batching
 * ceiling's, by scenario (and subscriber count or transport) and target. The
 * ceiling speaks WebSocket only, so only WebSocket latency has a ratio.
 */
export function ceilingRatios(r: R): Record<string, unknown> {
  const others = TARGETS.filter((t) => t !== CEILING);
  const byTarget = (by: ByTarget, keys: readonly string[]) =>
    Object.fromEntries(others.filter((t) => by[t]).map((t) => [t, divide(by[t], by[CEILING], keys)]));
  const out: Record<string, unknown> = {};
  const fan = r.fanout as Record<string, ByTarget> | undefined;
  if (fan) out.fanout = Object.fromEntries(Object.entries(fan).filter(([, by]) => by[CEILING]).map(([size, by]) => [size, byTarget(by, FANOUT_KEYS)]));
  const latency = r.latency as Record<string, ByTarget> | undefined;
  if (latency) {
    out.latency = Object.fromEntries(Object.entries(latency).filter(([, by]) => by[CEILING]).map(([tr, by]) => [tr, byTarget(by, [])]));
  }
  const cap = r.capacity as ByTarget | undefined;
  if (cap?.[CEILING]) out.capacity = byTarget(cap, CAPACITY_KEYS);
  return out;
}
