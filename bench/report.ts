/**
 * Turns a results file into the results section of BENCHMARKS.md (between
 * the `bench:results` markers; everything else in the file is prose kept as
 * written); the chart is bench/chart.ts. Every figure is also given as a
 * ratio to the peers, because absolute numbers on a shared 2-core machine
 * drift, and fan-out, latency and capacity figures as a ratio to the
 * batching ceiling.
 */
import { fmt, k, lat, ms, num, pct, ratio } from './lib/format.ts';
import { FANOUT_VS_CEILING, GOALS, IDLE_RSS_KB, stillMet, verdictOf, verdicts, type GoalId, type Verdict } from './lib/goals.ts';
import type { RunRecord } from './lib/history.ts';
import { CEILING, LABEL, TARGETS, type TargetName } from './lib/targets.ts';
import type { ByTarget } from './scenarios.ts';

type R = Record<string, unknown>;
type Fig = Record<string, unknown>;

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Event-loop delay is sampled every 10 ms (prom-client's and the peers' resolution); the histogram includes that interval. */
const ELD_RESOLUTION_MS = 10;
/** A generator at or above this share of its core may be what limits the figure. */
const GEN_BOUND = 0.9;
/** One letter per target in the combined columns, in TARGETS order. */
const LETTER: Record<TargetName, string> = { fiberchat: 'F', socketio: 'S', ws: 'W', wsbatch: 'B' };
const LETTERS = TARGETS.map((t) => LETTER[t]).join(' · ');

const eld = (v: number): string => (Number.isFinite(v) ? ms(Math.max(0, v - ELD_RESOLUTION_MS)) : '–');
const gen = (f: Fig | undefined): string => {
  const g = num(f?.generatorCpu);
  return Number.isFinite(g) ? `${pct(g)}${g >= GEN_BOUND ? ' †' : ''}` : '–';
};
/** One cell per target, joined: `98 % · 95 % · 96 % · 60 %`; `n/a` where a target did not run. */
const each = (by: ByTarget, cell: (f: Fig) => string): string => TARGETS.map((t) => (by[t] ? cell(by[t]) : 'n/a')).join(' · ');
const p50p99 = (f: Fig | undefined): string => (f ? `${ms(lat(f, 'p50'))} / ${ms(lat(f, 'p99'))}` : 'n/a');

/** How many of the latest full runs the results section sets side by side. */
export const RUNS_SHOWN = 4;

export function updateBenchmarksMd(md: string, r: R, svgPath: string, runs: readonly RunRecord[] = []): string {
  const section = [START, ...resultsSection(r, svgPath, runs.slice(-RUNS_SHOWN)), END].join('\n');
  const a = md.indexOf(START);
  const b = md.indexOf(END);
  if (a >= 0 && b > a) return md.slice(0, a) + section + md.slice(b + END.length);
  return `${md.trimEnd()}\n\n${section}\n`;
}

/**
 * The verdicts of the latest full runs side by side, and in how many of them
 * each target was met: tails on this machine move from run to run, and some
 * targets are judged over several runs.
 */
export function acrossRuns(runs: readonly RunRecord[]): string[] {
  if (runs.length < 2) return [];
  const rows = new Map<string, { goal: GoalId; scope: string; cells: Array<RunRecord['verdicts'][number] | undefined> }>();
  runs.forEach((run, i) => {
    for (const v of run.verdicts) {
      const key = `${v.goal}\u0000${v.scope}`;
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { goal: v.goal, scope: v.scope, cells: Array.from({ length: runs.length }, () => undefined) }));
      row.cells[i] = v;
    }
  });
  const out: string[] = [];
  out.push(`### Targets across the last ${runs.length} full runs`);
  out.push('');
  out.push(
    `Each column is one \`npm run bench\` (every full run appends its verdicts to [\`bench/results/runs.jsonl\`](bench/results/runs.jsonl)), headed by when it ended, the commit it measured (\`+changes\`: with uncommitted changes to the code) and the calibration loop's time (larger: a slower machine at the time). ✓ met, ✗ missed, each against today's bound (a run recorded under a lower bound is judged again).`,
  );
  out.push('');
  out.push(`| target | where | ${runs.map((r) => `${r.at.replace('T', ' ').replace('Z', '')} · \`${r.commit}\` · ${fmt(num(r.calibrationMs), 1)} ms`).join(' | ')} | met in |`);
  out.push(`|---|---|${runs.map(() => '---|').join('')}---|`);
  for (const row of rows.values()) {
    const ran = row.cells.filter((c) => c !== undefined);
    const met = ran.filter((c) => stillMet(c)).length;
    out.push(`| ${GOALS[row.goal] ?? row.goal} | ${row.scope || '—'} | ${row.cells.map((c) => (c ? `${c.shown} ${stillMet(c) ? '✓' : '✗'}` : '–')).join(' | ')} | ${met} of ${ran.length} |`);
  }
  out.push('');
  return out;
}

function resultsSection(r: R, svgPath: string, runs: readonly RunRecord[]): string[] {
  const m = r.machine as Record<string, unknown>;
  const vs = (r.verdicts as Verdict[] | undefined) ?? verdicts(r);
  /** A ratio followed by its verdict, when the goal has one for this scope. */
  const judged = (shown: string, goal: GoalId, scope = ''): string => {
    const v = verdictOf(vs, goal, scope);
    return v ? `${shown} ${v.text}` : shown;
  };
  const out: string[] = [];
  out.push(`## Results: ${r.date as string} (${r.mode as string} run, ${fmt(num(r.durationSec) / 60, 1)} min)`);
  out.push('');
  out.push(
    `Machine: ${m.nproc as number} cores (${m.cpuModel as string}), ${m.memoryGiB as number} GiB, ${m.kernel as string}, Node ${m.node as string}, open-file limit ${m.openFileLimit as number}; ${m.taskset as string}${typeof m.calibrationMs === 'number' ? `; calibration loop ${fmt(m.calibrationMs, 1)} ms (the same JavaScript on every run: a larger figure means a slower machine at the time)` : ''}. Command: \`${r.command as string}\`${typeof r.commit === 'string' ? ` on commit \`${r.commit}\`` : ''}. Raw figures: [\`bench/results/${r.date as string}.json\`](bench/results/${r.date as string}.json).`,
  );
  out.push('');
  out.push(
    `*Generator CPU* is the load generator's share of its own core during the window; † marks ≥ 90 %, where the generator may be what limits the figure (then the server's true figure is higher). *Background* is CPU used on the machine by anything but the server and the generator. *ELD* is the server's event-loop delay p99 beyond the 10 ms sampling interval. Combined columns list the targets in the order ${TARGETS.map((t) => `${LETTER[t]} = ${LABEL[t]}`).join(', ')}; *${LABEL[CEILING]}* is the batching ceiling.`,
  );
  out.push('');
  out.push(`![Fiberchat, plain socket.io, raw ws and the batching ceiling: fan-out, latency, memory per connection, Fiberchat ÷ the ceiling](${svgPath})`);
  out.push('');

  if (vs.length > 0) {
    out.push('### Targets');
    out.push('');
    out.push('Verdicts only: a run fails on a lost, refused, duplicated, reordered or unpersisted message, never on these.');
    out.push('');
    out.push('| target | where | figure | verdict |');
    out.push('|---|---|---|---|');
    for (const v of vs) out.push(`| ${GOALS[v.goal]} | ${v.scope || '—'} | ${v.shown} | ${v.text} |`);
    out.push('');
  }
  out.push(...acrossRuns(runs));

  const fan = r.fanout as Record<string, ByTarget> | undefined;
  if (fan) {
    out.push('### Fan-out: one room, 4 publishers × 8 sends in flight, 100-byte text');
    out.push('');
    out.push(
      `Deliveries per second (one per message per subscriber), median of the interleaved windows. *Messages per frame* is deliveries ÷ frames: the size of a broadcast batch. *Persisted* is what Fiberchat committed to SQLite over the whole run against the sends it acked.`,
    );
    out.push('');
    out.push(
      `| subscribers | Fiberchat | plain socket.io | raw ws | ${LABEL[CEILING]} | ÷ socket.io (target ≥ 1.5×) | ÷ raw ws (target ≥ 1.0×) | ÷ ceiling (target ≥ ${FANOUT_VS_CEILING}×, all persisted) | persisted / acked F | messages per frame F · B | frames/s ${LETTERS} | server CPU ${LETTERS} | generator CPU ${LETTERS} | ELD p99 ms ${LETTERS} | background |`,
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [size, by] of Object.entries(fan)) {
      const scope = `${fmt(Number(size))} subscribers`;
      const d = (x: Fig | undefined) => num(x?.deliveriesPerSec);
      const f = by.fiberchat;
      const perFrame = (x: Fig | undefined) => fmt(d(x) / num(x?.framesPerSec), 1);
      out.push(
        `| ${fmt(Number(size))} | ${TARGETS.map((t) => k(d(by[t]))).join(' | ')} | ${judged(ratio(d(f), d(by.socketio)), 'fanout-vs-socketio', scope)} | ${judged(ratio(d(f), d(by.ws)), 'fanout-vs-ws', scope)} | ${judged(ratio(d(f), d(by[CEILING])), 'fanout-vs-ceiling', scope)} | ${fmt(num(f?.persisted))} / ${fmt(num(f?.acked))} | ${perFrame(f)} · ${perFrame(by[CEILING])} | ${each(by, (x) => k(num(x.framesPerSec)))} | ${each(by, (x) => pct(num(x.serverCpu)))} | ${each(by, gen)} | ${each(by, (x) => eld(num(x.eldP99Ms)))} | ${pct(Math.max(...TARGETS.map((t) => num(by[t]?.backgroundCpu)).filter(Number.isFinite)))} |`,
      );
    }
    out.push('');
    out.push('Send→receive latency at saturation (20 probe subscribers), p50 / p99 ms:');
    out.push('');
    out.push(`| subscribers | Fiberchat | plain socket.io | raw ws | ${LABEL[CEILING]} | p99 ÷ ceiling (Fiberchat: target ≤ 1.2×) ${TARGETS.filter((t) => t !== CEILING).map((t) => LETTER[t]).join(' · ')} |`);
    out.push('|---|---|---|---|---|---|');
    for (const [size, by] of Object.entries(fan)) {
      const c = lat(by[CEILING], 'p99');
      const others = TARGETS.filter((t) => t !== CEILING).map((t) => ratio(lat(by[t], 'p99'), c));
      const v = verdictOf(vs, 'fanout-p99-vs-ceiling', `${fmt(Number(size))} subscribers`);
      out.push(`| ${fmt(Number(size))} | ${TARGETS.map((t) => p50p99(by[t])).join(' | ')} | ${others.join(' · ')}${v ? ` (${v.text})` : ''} |`);
    }
    out.push('');
  }

  const latency = r.latency as Record<string, ByTarget> | undefined;
  if (latency) {
    const lr = r.latencyRate as { msgsPerSec: number; socketioSaturation: number; subscribers: number };
    out.push(`### Latency at a fixed rate: ${fmt(lr.msgsPerSec)} messages/s (half of plain socket.io's saturation, ${fmt(lr.socketioSaturation)}/s), ${fmt(lr.subscribers)} subscribers`);
    out.push('');
    out.push(
      'Every client of the run (4 publishers, all subscribers) on the transport named; send→receive p50 / p99 in ms over every delivery. The Ajax row polls `GET …/messages?after=N` every 1 s (the browser client\'s active interval), so its latency is mostly that interval. The peers speak no REST; the raw ws peers speak no long-polling, so the ratios to them are for WebSocket only.',
    );
    out.push('');
    out.push(`| transport | Fiberchat | plain socket.io | raw ws | ${LABEL[CEILING]} | p99 ÷ socket.io | p99 ÷ raw ws | p99 ÷ ceiling | target | delivered/s F | generator CPU ${LETTERS} | server CPU ${LETTERS} |`);
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    const goalOf: Record<string, { goal: GoalId; what: string }> = {
      websocket: { goal: 'websocket-p99-vs-socketio', what: "p99 ≤ socket.io's" },
      polling: { goal: 'polling-p99-vs-websocket', what: "p99 ≤ 3× WebSocket's" },
      ajax: { goal: 'ajax-p50', what: 'p50 ≤ 510 ms' },
    };
    for (const [tr, by] of Object.entries(latency)) {
      const f = by.fiberchat;
      const g = goalOf[tr];
      const v = g ? verdictOf(vs, g.goal) : undefined;
      out.push(
        `| ${tr} | ${TARGETS.map((t) => p50p99(by[t])).join(' | ')} | ${ratio(lat(f, 'p99'), lat(by.socketio, 'p99'))} | ${ratio(lat(f, 'p99'), lat(by.ws, 'p99'))} | ${ratio(lat(f, 'p99'), lat(by[CEILING], 'p99'))} | ${g && v ? `${g.what}: ${v.text}` : '—'} | ${k(num(f?.deliveriesPerSec))} | ${each(by, gen)} | ${each(by, (x) => pct(num(x.serverCpu)))} |`,
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
    out.push(`| transport | connections | Fiberchat RSS / heap KB | plain socket.io | raw ws | ${LABEL[CEILING]} | RSS ÷ socket.io | RSS ÷ raw ws | target ≤ ${IDLE_RSS_KB} KB RSS (WebSocket) |`);
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const [tr, by] of Object.entries(idle)) {
      const rss = (x: Fig | undefined) => num(x?.rssPerConnKB);
      const cell = (x: Fig | undefined) => (x ? `${fmt(rss(x), 1)} / ${fmt(num(x.heapPerConnKB), 1)}` : 'n/a');
      const f = rss(by.fiberchat);
      const v = tr === 'websocket' ? verdictOf(vs, 'idle-rss') : undefined;
      out.push(`| ${tr} | ${fmt(num(by.fiberchat?.connections))} | ${TARGETS.map((t) => cell(by[t])).join(' | ')} | ${ratio(f, rss(by.socketio))} | ${ratio(f, rss(by.ws))} | ${v?.text ?? '—'} |`);
    }
    out.push('');
  }

  const sse = r.sse as { fanout?: Record<string, Fig>; idle?: Record<string, Fig> } | undefined;
  if (sse?.fanout || sse?.idle) {
    out.push('### Server-Sent Events beside WebSocket (Fiberchat: two servers up at once, windows interleaved)');
    out.push('');
    const w = sse.fanout?.websocket;
    const e = sse.fanout?.sse;
    if (w && e) {
      const d = (x: Fig | undefined) => num(x?.deliveriesPerSec);
      out.push(`| subscribers on | subscribers | deliveries/s | ÷ WebSocket | send→receive p50 / p99 ms | p99 ÷ WebSocket | persisted / acked | server CPU | generator CPU |`);
      out.push('|---|---|---|---|---|---|---|---|---|');
      for (const [label, x] of [['WebSocket', w], ['SSE', e]] as const) {
        out.push(
          `| ${label} | ${fmt(num(x.subscribers))} | ${k(d(x))} | ${ratio(d(x), d(w))} | ${p50p99(x)} | ${ratio(lat(x, 'p99'), lat(w, 'p99'))} | ${fmt(num(x.persisted))} / ${fmt(num(x.acked))} | ${pct(num(x.serverCpu))} | ${gen(x)} |`,
        );
      }
      out.push('');
    }
    const iw = sse.idle?.websocket;
    const ie = sse.idle?.sse;
    if (iw && ie) {
      const rss = (x: Fig) => num(x.rssPerConnKB);
      out.push(
        `Idle, joined, silent (rooms of 100, after a forced GC): ${fmt(num(ie.connections))} streams hold **${fmt(rss(ie), 1)} KB** RSS (heap ${fmt(num(ie.heapPerConnKB), 1)} KB) each, ${ratio(rss(ie), rss(iw))} an idle WebSocket on the same server (${fmt(rss(iw), 1)} KB RSS, heap ${fmt(num(iw.heapPerConnKB), 1)} KB).`,
      );
      out.push('');
    }
  }

  const cap = r.capacity as ByTarget | undefined;
  if (cap) {
    const req = num(cap.fiberchat?.requested);
    out.push(`### Capacity: ${fmt(req)} WebSocket connections in rooms of 100, 1 % of them chatting (1 message/s each)`);
    out.push('');
    out.push(`| target | held at end | connect rate /s | send→receive p50 / p99 ms | p99 ÷ socket.io (Fiberchat: target ≤ 1.0×) | p99 ÷ ceiling | server RSS MB | generator CPU (connect) | target: ≥ 19,000 held, p99 < 50 ms |`);
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const name of TARGETS) {
      const x = cap[name];
      if (!x) continue;
      const p99 = lat(x, 'p99');
      const vsSio = ratio(p99, lat(cap.socketio, 'p99'));
      out.push(
        `| ${LABEL[name]} | ${fmt(num(x.heldAtEnd))} / ${fmt(num(x.requested))}${x.firstError ? ` (${String(x.firstError)})` : ''} | ${fmt(num(x.connectsPerSec))} | ${p50p99(x)} | ${name === 'fiberchat' ? judged(vsSio, 'capacity-p99-vs-socketio') : vsSio} | ${ratio(p99, lat(cap[CEILING], 'p99'))} | ${fmt(num(x.rssMB))} | ${pct(num(x.connectGeneratorCpu))} | ${verdictOf(vs, 'capacity', LABEL[name])?.text ?? '—'} |`,
      );
    }
    out.push('');
    const f = cap.fiberchat;
    if (f && Number.isFinite(num(f.storeCommitsPerSec))) {
      out.push(`Fiberchat's store: ${fmt(num(f.storeCommitsPerSec), 1)} SQLite transactions/s in the window, ${fmt(num(f.roomsPerStoreCommit), 1)} rooms per transaction (group commit; \`STORE_GROUP_COMMIT=off\`: one per room turn).`);
      out.push('');
    }
  }

  const join = r.join as Fig | undefined;
  if (join) {
    const p99 = lat(join, 'p99');
    out.push(`### Join in a room with ${fmt(num(join.stored))} stored messages (Fiberchat only: the peers keep no history)`);
    out.push('');
    out.push(
      `${fmt(num(join.joins))} fresh connections join one after another (join + latest 50 in the ack${join.pageOf50 ? ', every page had 50' : ', **some pages were short**'}): p50 **${ms(lat(join, 'p50'))} ms**, p99 **${ms(p99)} ms** (target p99 ≤ 5 ms: ${verdictOf(vs, 'join-p99')?.text ?? '—'}); max ${ms(num((join.latencyMs as Record<string, number>).max))} ms. The room was filled at ${fmt(num(join.fillPerSec))} messages/s. Generator CPU ${gen(join)}.`,
    );
    out.push('');
  }

  const jit = r.jitter as Fig | undefined;
  if (jit) {
    const p99 = num((jit.catchUpMs as Record<string, number>).p99);
    out.push('### Jitter: every subscriber\'s TCP connection killed every ~15 s, 2 s offline, publishers steady (Fiberchat only)');
    out.push('');
    out.push(
      `${fmt(num(jit.subscribers))} subscribers, ${fmt(num(jit.kills))} kills, ${fmt(num(jit.acked))} messages acked. Delivered exactly once: **${fmt(num(jit.deliveredOnce))} / ${fmt(num(jit.expectedDeliveries))}** (${fmt(num(jit.deliveredRatio) * 100, 2)} %), ${fmt(num(jit.subscribersMissing))} subscribers missing anything, ${fmt(num(jit.duplicatesBeforeDedupe))} duplicates before de-duplication by seq, ${fmt(num(jit.outOfOrder))} out of order. Catch-up (reconnect, re-join with \`since\`, ack carrying what was missed) p50 ${ms(num((jit.catchUpMs as Record<string, number>).p50))} ms, p99 **${ms(p99)} ms** (target < 500 ms: ${verdictOf(vs, 'jitter-catch-up')?.text ?? '—'}). The peers have no resume, so they are not run here: what is sent while a client is offline is lost to it.`,
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

  const cl = r.cluster as Fig | undefined;
  if (cl) {
    const same = cl.sameNode as Fig;
    const cross = cl.crossNode as Fig;
    const st = cl.store as Record<string, Fig>;
    out.push(`### Scaling out: two nodes on PostgreSQL and Redis (Fiberchat only)`);
    out.push('');
    out.push(
      `Four publishers on node A at ${fmt(num(cl.rate))} messages/s; ${fmt(num(cl.subscribers))} WebSocket subscribers on node A (same node) or on node B (the message crosses by a hint through Redis); median of ${fmt(num(cl.rounds))} alternated run(s) each. Then one node on PostgreSQL (no Redis) against the same node on SQLite, fan-out with interleaved windows. How throughput grows with nodes, and where it stops, is in *Scaling out* above.`,
    );
    out.push('');
    out.push('| | send→receive p50 / p99 ms | ÷ same node (p50 · p99) | delivered/s | sends failed |');
    out.push('|---|---|---|---|---|');
    out.push(`| same node | ${ms(lat(same, 'p50'))} / ${ms(lat(same, 'p99'))} | — | ${k(num(same.deliveriesPerSec))} | ${fmt(num(same.failed))} |`);
    out.push(
      `| cross-node | ${ms(lat(cross, 'p50'))} / ${ms(lat(cross, 'p99'))} | ${ratio(lat(cross, 'p50'), lat(same, 'p50'))} · ${ratio(lat(cross, 'p99'), lat(same, 'p99'))} | ${k(num(cross.deliveriesPerSec))} | ${fmt(num(cross.failed))} |`,
    );
    out.push('');
    out.push('| one node on | deliveries/s | ÷ SQLite | send→receive p50 / p99 ms | p99 ÷ SQLite | persisted / acked | server CPU | ELD p99 ms |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const [name, f] of Object.entries(st)) {
      const base = st.sqlite;
      out.push(
        `| ${name === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${k(num(f.deliveriesPerSec))} | ${name === 'sqlite' ? '—' : ratio(num(f.deliveriesPerSec), num(base?.deliveriesPerSec))} | ${ms(lat(f, 'p50'))} / ${ms(lat(f, 'p99'))} | ${name === 'sqlite' ? '—' : ratio(lat(f, 'p99'), lat(base, 'p99'))} | ${fmt(num(f.persisted))} / ${fmt(num(f.acked))} | ${pct(num(f.serverCpu))} | ${eld(num(f.eldP99Ms))} |`,
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
