/**
 * The SVG chart beside BENCHMARKS.md's results: fan-out, latency and memory
 * per connection for every target, and Fiberchat's figures divided by the
 * batching ceiling's (the same ratios as the results file's `vsCeiling`).
 */
import { fmt, lat, num } from './lib/format.ts';
import { IDLE_RSS_KB } from './lib/goals.ts';
import { CEILING, LABEL, TARGETS, type TargetName } from './lib/targets.ts';
import type { ByTarget } from './scenarios.ts';

type R = Record<string, unknown>;

/** A generator at or above this share of its core may be what limits the figure (the report's †). */
const GEN_BOUND = 0.9;

const COLORS: Record<TargetName, string> = { fiberchat: '#2563eb', socketio: '#f59e0b', ws: '#6b7280', wsbatch: '#111827' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

interface Group {
  label: string;
  bars: Array<{ series: TargetName; value: number; note?: string }>;
}

function panel(x: number, y: number, w: number, h: number, title: string, unit: string, groups: Group[], ref?: { value: number; label: string }): string {
  const top = y + 40;
  const bottom = y + h - 40;
  const left = x + 50;
  const right = x + w - 10;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
  const max = niceMax(Math.max(...values, ref?.value ?? 0, 1e-9));
  const yOf = (v: number) => bottom - ((bottom - top) * v) / max;
  const parts: string[] = [];
  parts.push(`<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  parts.push(`<text x="${x + w / 2}" y="${y + 33}" text-anchor="middle" font-size="11" fill="#555">${esc(unit)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const yy = yOf(v);
    parts.push(`<line x1="${left}" x2="${right}" y1="${yy}" y2="${yy}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 4}" y="${yy + 4}" text-anchor="end" font-size="10" fill="#555">${esc(short(v))}</text>`);
  }
  const gw = (right - left) / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const bw = Math.min(28, (gw - 12) / Math.max(1, g.bars.length));
    const gx = left + gi * gw + (gw - bw * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const bx = gx + bi * bw;
      if (!Number.isFinite(b.value)) {
        parts.push(`<text x="${bx + bw / 2}" y="${bottom - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
        return;
      }
      const by = yOf(b.value);
      parts.push(`<rect x="${bx + 1}" y="${by}" width="${bw - 2}" height="${bottom - by}" fill="${COLORS[b.series]}"><title>${esc(`${LABEL[b.series]}: ${short(b.value)} ${unit}`)}</title></rect>`);
      parts.push(`<text x="${bx + bw / 2}" y="${by - 3}" text-anchor="middle" font-size="9">${esc(b.note ?? short(b.value))}</text>`);
    });
    parts.push(`<text x="${left + gi * gw + gw / 2}" y="${bottom + 15}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  if (ref) {
    const yy = yOf(ref.value);
    parts.push(`<line x1="${left}" x2="${right}" y1="${yy}" y2="${yy}" stroke="#dc2626" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${right}" y="${yy - 4}" text-anchor="end" font-size="10" fill="#dc2626">${esc(ref.label)}</text>`);
  }
  return parts.join('\n');
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function short(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (v >= 1e6) return `${fmt(v / 1e6, 2)} M`;
  if (v >= 1e4) return `${fmt(v / 1e3)} k`;
  if (v >= 1e3) return `${fmt(v / 1e3, 1)} k`;
  if (v >= 10) return fmt(v);
  return fmt(v, 1);
}

/** Fiberchat ÷ the batching ceiling: fan-out deliveries and p99 at each size, WebSocket latency p99, capacity p99. */
function ceilingGroups(r: R): Group[] {
  const fan = (r.fanout ?? {}) as Record<string, ByTarget>;
  const latency = (r.latency ?? {}) as Record<string, ByTarget>;
  const cap = (r.capacity ?? {}) as ByTarget;
  const bar = (value: number, higherIsBetter: boolean): Group['bars'] => [
    { series: 'fiberchat', value, note: Number.isFinite(value) ? `${fmt(value, 2)}×${higherIsBetter ? ' ↑' : ' ↓'}` : undefined },
  ];
  return [
    ...Object.entries(fan).flatMap(([size, by]) => [
      { label: `fan-out ${short(Number(size))}`, bars: bar(num(by.fiberchat?.deliveriesPerSec) / num(by[CEILING]?.deliveriesPerSec), true) },
      { label: `p99 ${short(Number(size))}`, bars: bar(lat(by.fiberchat, 'p99') / lat(by[CEILING], 'p99'), false) },
    ]),
    { label: 'WS p99', bars: bar(lat(latency.websocket?.fiberchat, 'p99') / lat(latency.websocket?.[CEILING], 'p99'), false) },
    { label: 'cap. p99', bars: bar(lat(cap.fiberchat, 'p99') / lat(cap[CEILING], 'p99'), false) },
  ];
}

export function renderChart(r: R): string {
  const W = 1600;
  const H = 380;
  const pw = W / 4;
  const names = TARGETS;
  const fan = (r.fanout ?? {}) as Record<string, ByTarget>;
  const latency = (r.latency ?? {}) as Record<string, ByTarget>;
  const idle = (r.idle ?? {}) as Record<string, ByTarget>;
  const fanGroups: Group[] = Object.entries(fan).map(([size, by]) => ({
    label: `${size} subscribers`,
    bars: names.map((n) => {
      const v = num(by[n]?.deliveriesPerSec);
      const g = num(by[n]?.generatorCpu);
      return { series: n, value: v, note: `${short(v)}${g >= GEN_BOUND ? '†' : ''}` };
    }),
  }));
  const latGroups: Group[] = ['websocket', 'polling']
    .filter((t) => latency[t])
    .flatMap((t) => [
      { label: `${t === 'websocket' ? 'WS' : 'long-poll'} p50`, bars: names.map((n) => ({ series: n, value: lat(latency[t]?.[n], 'p50') })) },
      { label: `${t === 'websocket' ? 'WS' : 'long-poll'} p99`, bars: names.map((n) => ({ series: n, value: lat(latency[t]?.[n], 'p99') })) },
    ]);
  const idleGroups: Group[] = Object.entries(idle).map(([t, by]) => ({
    label: `${t === 'websocket' ? 'WebSocket' : 'long-polling'} (${short(num(by.fiberchat?.connections))})`,
    bars: names.map((n) => ({ series: n, value: num(by[n]?.rssPerConnKB) })),
  }));
  const legend = names
    .map((n, i) => `<rect x="${20 + i * 170}" y="${H - 18}" width="12" height="12" fill="${COLORS[n]}"/><text x="${36 + i * 170}" y="${H - 8}" font-size="12">${esc(`${LABEL[n]}${n === CEILING ? ' (batching ceiling)' : ''}`)}</text>`)
    .join('\n');
  const note = `<text x="${W - 10}" y="${H - 8}" text-anchor="end" font-size="10" fill="#555">${esc(`${r.date as string}, ${(r.machine as R).nproc as number} cores, Node ${(r.machine as R).node as string}; † generator ≥ 90 % of its core`)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    panel(0, 0, pw, H - 30, 'Fan-out: deliveries per second', 'higher is better', fanGroups),
    panel(pw, 0, pw, H - 30, 'Latency at half socket.io saturation', 'ms, send→receive, lower is better', latGroups),
    panel(2 * pw, 0, pw, H - 30, 'Idle: RSS per connection', 'KB, lower is better', idleGroups, { value: IDLE_RSS_KB, label: `target ${IDLE_RSS_KB} KB (WebSocket)` }),
    panel(3 * pw, 0, pw, H - 30, 'Fiberchat ÷ batching ceiling', '↑ higher is better, ↓ lower is better', ceilingGroups(r), { value: 1, label: 'ceiling' }),
    legend,
    note,
    '</svg>',
    '',
  ].join('\n');
}
