/**
 * Turns a results file into the results section of BENCHMARKS.md (between
 * the `bench:results` markers; everything else in the file is prose kept as
 * written) and into an SVG chart. Every figure is also given as a ratio to
 * the peers, because absolute numbers on a shared 2-core machine drift.
 */
import type { ByTarget } from './scenarios.ts';

type R = Record<string, unknown>;
type Fig = Record<string, unknown>;

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Event-loop delay is sampled every 10 ms (prom-client's and the peers' resolution); the histogram includes that interval. */
const ELD_RESOLUTION_MS = 10;
/** A generator at or above this share of its core may be what limits the figure. */
const GEN_BOUND = 0.9;

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const fmt = (v: number, digits = 0): string =>
  Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
const k = (v: number): string => (Number.isFinite(v) ? `${fmt(v / 1000, v >= 100_000 ? 0 : 1)} k` : '–');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, 2)}×` : '–');
const pct = (v: number): string => (Number.isFinite(v) ? `${fmt(v * 100)} %` : '–');
const ms = (v: number): string => (Number.isFinite(v) ? (v < 10 ? fmt(v, 2) : v < 100 ? fmt(v, 1) : fmt(v)) : '–');
const eld = (v: number): string => (Number.isFinite(v) ? ms(Math.max(0, v - ELD_RESOLUTION_MS)) : '–');
const lat = (f: Fig | undefined, key: 'p50' | 'p99'): number => num((f?.latencyMs as Record<string, number> | undefined)?.[key]);
const gen = (f: Fig | undefined): string => {
  const g = num(f?.generatorCpu);
  return Number.isFinite(g) ? `${pct(g)}${g >= GEN_BOUND ? ' †' : ''}` : '–';
};
const verdict = (ok: boolean, miss: string): string => (ok ? '**met**' : `missed: ${miss}`);

export function updateBenchmarksMd(md: string, r: R, svgPath: string): string {
  const section = [START, ...resultsSection(r, svgPath), END].join('\n');
  const a = md.indexOf(START);
  const b = md.indexOf(END);
  if (a >= 0 && b > a) return md.slice(0, a) + section + md.slice(b + END.length);
  return `${md.trimEnd()}\n\n${section}\n`;
}

function resultsSection(r: R, svgPath: string): string[] {
  const m = r.machine as Record<string, unknown>;
  const out: string[] = [];
  out.push(`## Results: ${r.date as string} (${r.mode as string} run, ${fmt(num(r.durationSec) / 60, 1)} min)`);
  out.push('');
  out.push(
    `Machine: ${m.nproc as number} cores (${m.cpuModel as string}), ${m.memoryGiB as number} GiB, ${m.kernel as string}, Node ${m.node as string}, open-file limit ${m.openFileLimit as number}; ${m.taskset as string}${typeof m.calibrationMs === 'number' ? `; calibration loop ${fmt(m.calibrationMs, 1)} ms (the same JavaScript on every run: a larger figure means a slower machine at the time)` : ''}. Command: \`${r.command as string}\`. Raw figures: [\`bench/results/${r.date as string}.json\`](bench/results/${r.date as string}.json).`,
  );
  out.push('');
  out.push(
    '*Generator CPU* is the load generator\'s share of its own core during the window; † marks ≥ 90 %, where the generator may be what limits the figure (then the server\'s true figure is higher). *Background* is CPU used on the machine by anything but the server and the generator. *ELD* is the server\'s event-loop delay p99 beyond the 10 ms sampling interval.',
  );
  out.push('');
  out.push(`![Fiberchat, plain socket.io and raw ws: fan-out, latency, memory per connection](${svgPath})`);
  out.push('');

  const fan = r.fanout as Record<string, ByTarget> | undefined;
  if (fan) {
    out.push('### Fan-out: one room, 4 publishers × 8 sends in flight, 100-byte text');
    out.push('');
    out.push('Deliveries per second (one per message per subscriber), median of the interleaved windows.');
    out.push('');
    out.push('| subscribers | Fiberchat | plain socket.io | raw ws | ÷ socket.io (target ≥ 1.5×) | ÷ raw ws (target ≥ 1.0×) | frames/s F · S · W | server CPU F · S · W | generator CPU F · S · W | ELD p99 ms F · S · W | background |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [size, by] of Object.entries(fan)) {
      const f = by.fiberchat;
      const s = by.socketio;
      const w = by.ws;
      const d = (x: Fig | undefined) => num(x?.deliveriesPerSec);
      const rs = d(f) / d(s);
      const rw = d(f) / d(w);
      out.push(
        `| ${fmt(Number(size))} | ${k(d(f))} | ${k(d(s))} | ${k(d(w))} | ${ratio(d(f), d(s))} ${verdict(rs >= 1.5, `${fmt((1.5 - rs) / 1.5 * 100)} % short`)} | ${ratio(d(f), d(w))} ${verdict(rw >= 1, `${fmt((1 - rw) * 100)} % short`)} | ${[f, s, w].map((x) => k(num(x?.framesPerSec))).join(' · ')} | ${[f, s, w].map((x) => pct(num(x?.serverCpu))).join(' · ')} | ${[f, s, w].map(gen).join(' · ')} | ${[f, s, w].map((x) => eld(num(x?.eldP99Ms))).join(' · ')} | ${pct(Math.max(...[f, s, w].map((x) => num(x?.backgroundCpu))))} |`,
      );
    }
    out.push('');
    out.push('Send→receive latency at saturation (20 probe subscribers), p50 / p99 ms:');
    out.push('');
    out.push('| subscribers | Fiberchat | plain socket.io | raw ws |');
    out.push('|---|---|---|---|');
    for (const [size, by] of Object.entries(fan)) {
      out.push(`| ${fmt(Number(size))} | ${[by.fiberchat, by.socketio, by.ws].map((x) => `${ms(lat(x, 'p50'))} / ${ms(lat(x, 'p99'))}`).join(' | ')} |`);
    }
    out.push('');
  }

  const latency = r.latency as Record<string, ByTarget> | undefined;
  if (latency) {
    const lr = r.latencyRate as { msgsPerSec: number; socketioSaturation: number; subscribers: number };
    out.push(`### Latency at a fixed rate: ${fmt(lr.msgsPerSec)} messages/s (half of plain socket.io's saturation, ${fmt(lr.socketioSaturation)}/s), ${fmt(lr.subscribers)} subscribers`);
    out.push('');
    out.push('Every client of the run (4 publishers, all subscribers) on the transport named; send→receive p50 / p99 in ms over every delivery. The Ajax row polls `GET …/messages?after=N` every 1 s (the browser client\'s active interval), so its latency is mostly that interval. The peers speak no REST; the raw ws peer speaks no long-polling.');
    out.push('');
    out.push('| transport | Fiberchat | plain socket.io | raw ws | p99 ÷ socket.io | p99 ÷ raw ws | target | delivered/s F | generator CPU F · S · W | server CPU F · S · W |');
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    const wsP99 = lat(latency.websocket?.fiberchat, 'p99');
    const AJAX_INTERVAL_MS = 1000;
    const target = (tr: string, f: Fig | undefined): string => {
      if (tr === 'websocket') {
        const sp = lat(latency.websocket?.socketio, 'p99');
        return `p99 ≤ socket.io's: ${verdict(lat(f, 'p99') <= sp, `${ms(lat(f, 'p99') - sp)} ms over`)}`;
      }
      if (tr === 'polling') {
        const x = lat(f, 'p99') / wsP99;
        return `p99 ≤ 3× WebSocket's: ${verdict(x <= 3, `${fmt(x, 1)}×`)}`;
      }
      const bound = AJAX_INTERVAL_MS / 2 + 10;
      return `p50 ≤ ${fmt(bound)} ms: ${verdict(lat(f, 'p50') <= bound, `${ms(lat(f, 'p50') - bound)} ms over`)}`;
    };
    for (const [tr, by] of Object.entries(latency)) {
      const cells = [by.fiberchat, by.socketio, by.ws].map((x) => (x ? `${ms(lat(x, 'p50'))} / ${ms(lat(x, 'p99'))}` : 'n/a'));
      out.push(
        `| ${tr} | ${cells.join(' | ')} | ${ratio(lat(by.fiberchat, 'p99'), lat(by.socketio, 'p99'))} | ${ratio(lat(by.fiberchat, 'p99'), lat(by.ws, 'p99'))} | ${target(tr, by.fiberchat)} | ${k(num(by.fiberchat?.deliveriesPerSec))} | ${[by.fiberchat, by.socketio, by.ws].map((x) => (x ? gen(x) : 'n/a')).join(' · ')} | ${[by.fiberchat, by.socketio, by.ws].map((x) => (x ? pct(num(x.serverCpu)) : 'n/a')).join(' · ')} |`,
      );
    }
    const sio = latency.polling?.socketio;
    const sioWs = lat(latency.websocket?.socketio, 'p99');
    if (sio && Number.isFinite(sioWs)) {
      out.push('');
      out.push(`For scale: plain socket.io's own long-polling p99 is ${fmt(lat(sio, 'p99') / sioWs, 1)}× its WebSocket p99 in this run.`);
    }
    out.push('');
  }

  const idle = r.idle as Record<string, ByTarget> | undefined;
  if (idle) {
    out.push('### Idle connections: joined, silent; memory per connection after a forced GC');
    out.push('');
    out.push('(RSS and heap with the connections) − (before them), ÷ connections; rooms of 100.');
    out.push('');
    out.push('| transport | connections | Fiberchat RSS / heap KB | plain socket.io | raw ws | RSS ÷ socket.io | RSS ÷ raw ws | target ≤ 12 KB RSS (WebSocket) |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const [tr, by] of Object.entries(idle)) {
      const rss = (x: Fig | undefined) => num(x?.rssPerConnKB);
      const cell = (x: Fig | undefined) => (x ? `${fmt(rss(x), 1)} / ${fmt(num(x.heapPerConnKB), 1)}` : 'n/a');
      const f = rss(by.fiberchat);
      out.push(
        `| ${tr} | ${fmt(num(by.fiberchat?.connections))} | ${cell(by.fiberchat)} | ${cell(by.socketio)} | ${cell(by.ws)} | ${ratio(f, rss(by.socketio))} | ${ratio(f, rss(by.ws))} | ${tr === 'websocket' ? verdict(f <= 12, `${fmt(f - 12, 1)} KB over (${fmt((f / 12 - 1) * 100)} %)`) : '—'} |`,
      );
    }
    out.push('');
  }

  const cap = r.capacity as ByTarget | undefined;
  if (cap) {
    const req = num(cap.fiberchat?.requested);
    out.push(`### Capacity: ${fmt(req)} WebSocket connections in rooms of 100, 1 % of them chatting (1 message/s each)`);
    out.push('');
    out.push('| target | held at end | connect rate /s | send→receive p50 / p99 ms | p99 ÷ socket.io | server RSS MB | generator CPU (connect) | target: ≥ 19,000 held, p99 < 50 ms |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const [name, x] of Object.entries(cap)) {
      if (!x) continue;
      const held = num(x.heldAtEnd);
      const p99 = lat(x, 'p99');
      out.push(
        `| ${label(name)} | ${fmt(held)} / ${fmt(num(x.requested))}${x.firstError ? ` (${String(x.firstError)})` : ''} | ${fmt(num(x.connectsPerSec))} | ${ms(lat(x, 'p50'))} / ${ms(p99)} | ${ratio(p99, lat(cap.socketio, 'p99'))} | ${fmt(num(x.rssMB))} | ${pct(num(x.connectGeneratorCpu))} | ${verdict(held >= 19_000 && p99 < 50, held < 19_000 ? `${fmt(held)} held` : `p99 ${ms(p99)} ms`)} |`,
      );
    }
    out.push('');
  }

  const join = r.join as Fig | undefined;
  if (join) {
    const p99 = lat(join, 'p99');
    out.push(`### Join in a room with ${fmt(num(join.stored))} stored messages (Fiberchat only: the peers keep no history)`);
    out.push('');
    out.push(
      `${fmt(num(join.joins))} fresh connections join one after another (join + latest 50 in the ack${join.pageOf50 ? ', every page had 50' : ', **some pages were short**'}): p50 **${ms(lat(join, 'p50'))} ms**, p99 **${ms(p99)} ms** (target p99 ≤ 5 ms: ${verdict(p99 <= 5, `by ${ms(p99 - 5)} ms`)}); max ${ms(num((join.latencyMs as Record<string, number>).max))} ms. The room was filled at ${fmt(num(join.fillPerSec))} messages/s. Generator CPU ${gen(join)}.`,
    );
    out.push('');
  }

  const jit = r.jitter as Fig | undefined;
  if (jit) {
    const p99 = num((jit.catchUpMs as Record<string, number>).p99);
    out.push('### Jitter: every subscriber\'s TCP connection killed every ~15 s, 2 s offline, publishers steady (Fiberchat only)');
    out.push('');
    out.push(
      `${fmt(num(jit.subscribers))} subscribers, ${fmt(num(jit.kills))} kills, ${fmt(num(jit.acked))} messages acked. Delivered exactly once: **${fmt(num(jit.deliveredOnce))} / ${fmt(num(jit.expectedDeliveries))}** (${fmt(num(jit.deliveredRatio) * 100, 2)} %), ${fmt(num(jit.subscribersMissing))} subscribers missing anything, ${fmt(num(jit.duplicatesBeforeDedupe))} duplicates before de-duplication by seq, ${fmt(num(jit.outOfOrder))} out of order. Catch-up (reconnect, re-join with \`since\`, ack carrying what was missed) p50 ${ms(num((jit.catchUpMs as Record<string, number>).p50))} ms, p99 **${ms(p99)} ms** (target < 500 ms: ${verdict(p99 < 500 && num(jit.deliveredRatio) === 1, 'see above')}). The peers have no resume, so they are not run here: what is sent while a client is offline is lost to it.`,
    );
    out.push('');
  }

  const abl = r.ablation as Record<string, Fig> | undefined;
  if (abl?.default) {
    const d = abl.default;
    out.push(`### Optimisations measured in this run: Fiberchat with one turned off (fan-out, ${fmt(num(d.subscribers))} subscribers, interleaved windows)`);
    out.push('');
    out.push('| variant | deliveries/s | default ÷ variant | frames/s | send→receive p50 / p99 ms | ELD p99 ms | server CPU | generator CPU |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const [name, f] of Object.entries(abl)) {
      out.push(
        `| ${name === 'default' ? '**default** (as shipped)' : `${name}: ${f.what as string}`} | ${k(num(f.deliveriesPerSec))} | ${name === 'default' ? '—' : ratio(num(d.deliveriesPerSec), num(f.deliveriesPerSec))} | ${k(num(f.framesPerSec))} | ${ms(lat(f, 'p50'))} / ${ms(lat(f, 'p99'))} | ${eld(num(f.eldP99Ms))} | ${pct(num(f.serverCpu))} | ${gen(f)} |`,
      );
    }
    out.push('');
  }

  const fiber = r.fiber as Fig | undefined;
  if (fiber) {
    const o = fiber.ours as Record<string, unknown>;
    const e = fiber.effection as Record<string, unknown>;
    const rr = fiber.ratio as Record<string, number>;
    const oc = o.cancel as Record<string, number>;
    const ec = e.cancel as Record<string, number>;
    out.push(`### Fiber module vs effection ${fiber.effectionVersion as string} (operations/s, median of ${(fiber.sizes as Record<string, number>).repeats} runs)`);
    out.push('');
    out.push('| case | server/fiber | effection | ratio |');
    out.push('|---|---|---|---|');
    out.push(`| Mailbox take/offer ping-pong (round trips) | ${k(num(o.pingPongPerSec))} | ${k(num(e.pingPongPerSec))} | ${fmt(rr.pingPong as number, 2)}× |`);
    out.push(`| spawn + join (children) | ${k(num(o.spawnJoinPerSec))} | ${k(num(e.spawnJoinPerSec))} | ${fmt(rr.spawnJoin as number, 2)}× |`);
    out.push(`| cancel cascade, build + cancel of 1,101 tasks (tasks) | ${k(num(oc.total))} | ${k(num(ec.total))} | ${fmt(rr.cancelTotal as number, 2)}× |`);
    out.push(`| cancel cascade, the cancel alone (tasks) | ${k(num(oc.cancelOnly))} | ${k(num(ec.cancelOnly))} | ${fmt(rr.cancelOnly as number, 2)}× |`);
    out.push('');
  }
  return out;
}

function label(name: string): string {
  return name === 'fiberchat' ? 'Fiberchat' : name === 'socketio' ? 'plain socket.io' : name === 'ws' ? 'raw ws' : name;
}

// ---------------------------------------------------------------------------
// Chart
// ---------------------------------------------------------------------------

const COLORS: Record<string, string> = { fiberchat: '#2563eb', socketio: '#f59e0b', ws: '#6b7280' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

interface Group {
  label: string;
  bars: Array<{ series: string; value: number; note?: string }>;
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
  const gw = (right - left) / groups.length;
  groups.forEach((g, gi) => {
    const bw = Math.min(28, (gw - 16) / Math.max(1, g.bars.length));
    const gx = left + gi * gw + (gw - bw * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const bx = gx + bi * bw;
      if (!Number.isFinite(b.value)) {
        parts.push(`<text x="${bx + bw / 2}" y="${bottom - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
        return;
      }
      const by = yOf(b.value);
      parts.push(`<rect x="${bx + 1}" y="${by}" width="${bw - 2}" height="${bottom - by}" fill="${COLORS[b.series] ?? '#999'}"><title>${esc(`${label(b.series)}: ${short(b.value)} ${unit}`)}</title></rect>`);
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

export function renderChart(r: R): string {
  const W = 1200;
  const H = 380;
  const pw = W / 3;
  const names = ['fiberchat', 'socketio', 'ws'] as const;
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
    .map((n, i) => `<rect x="${20 + i * 160}" y="${H - 18}" width="12" height="12" fill="${COLORS[n]}"/><text x="${36 + i * 160}" y="${H - 8}" font-size="12">${esc(label(n))}</text>`)
    .join('\n');
  const note = `<text x="${W - 10}" y="${H - 8}" text-anchor="end" font-size="10" fill="#555">${esc(`${r.date as string}, ${(r.machine as R).nproc as number} cores, Node ${(r.machine as R).node as string}; † generator ≥ 90 % of its core`)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    panel(0, 0, pw, H - 30, 'Fan-out: deliveries per second', 'higher is better', fanGroups),
    panel(pw, 0, pw, H - 30, 'Latency at half socket.io saturation', 'ms, send→receive, lower is better', latGroups),
    panel(2 * pw, 0, pw, H - 30, 'Idle: RSS per connection', 'KB, lower is better', idleGroups, { value: 12, label: 'target 12 KB (WebSocket)' }),
    legend,
    note,
    '</svg>',
    '',
  ].join('\n');
}
