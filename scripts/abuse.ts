/**
 * `npm run abuse` — the threat model's attacks against the real server, each
 * on a fresh server with default settings, with a calm victim measured
 * throughout. Prints one table: the server's memory growth, the victim's
 * send→ack latency and losses, the refusals counted, and what the attacker
 * got.
 *
 *   npm run abuse                      quick: every attack scaled to a few seconds
 *   npm run abuse -- --full            the threat table's sizes (about 3 minutes)
 *   npm run abuse -- --only=a,c        some attacks (a b c d e f g h)
 *   npm run abuse -- --server-dir=DIR  the server of another checkout (with its own node_modules), e.g. before a change
 *   npm run abuse -- --json=FILE       also write the reports as JSON
 *
 * Loopback only (127.0.0.2 … 127.0.0.250 play the clients), bounded in time
 * and count; every process it starts is stopped when it ends.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ATTACKS, type Size } from '../server/test/abuse/attacks.ts';
import { runAttack, startTarget, type AttackReport } from '../server/test/abuse/runner.ts';

const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const size: Size = args.includes('--full') ? 'full' : 'quick';
const only = option('only')?.split(',');
const serverDir = option('server-dir');
const jsonFile = option('json');
const unknown = args.filter((a) => !['--full'].includes(a) && !/^--(only|server-dir|json)=/.test(a));
if (unknown.length > 0) {
  console.error(`abuse: unknown option ${unknown.join(' ')} (see scripts/abuse.ts)`);
  process.exit(2);
}

// Stops everything on Ctrl-C too: `exit` handlers kill the servers, and victims follow their parent.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
// The whole run is bounded, whatever happens.
setTimeout(() => {
  console.error('abuse: the run took too long; stopping');
  process.exit(1);
}, (size === 'full' ? 15 : 6) * 60_000).unref();

const mb = (bytes: number) => (Number.isFinite(bytes) ? `${Math.round(bytes / 2 ** 20)} MiB` : '?');
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : '?');

/** What each attack is held to in the threat table (a: memory and latency targets). */
function verdict(r: AttackReport): string {
  const faults: string[] = [];
  if (r.serverExit !== undefined) faults.push(`server exited (${r.serverExit})`);
  if (r.stopped) faults.push(r.stopped);
  if (r.error) faults.push(`attack failed: ${r.error}`);
  if (r.victim.lost === null) faults.push(`acked messages not checked (${r.victim.lostCheck})`);
  else if (r.victim.lost > 0) faults.push(`${r.victim.lost} acked lost`);
  if (r.id === 'a' && r.rss.growth >= 300 * 2 ** 20) faults.push('RSS growth ≥ 300 MB');
  if (r.victim.latency.p99 >= 250) faults.push('victim p99 ≥ 250 ms');
  return faults.length === 0 ? 'holds' : faults.join('; ');
}

function table(reports: AttackReport[]): string {
  const rows = reports.map((r) => {
    const v = r.victim;
    const errors = Object.entries(v.errors).map(([k, n]) => `${n} ${k}`).join(', ') || '0';
    const refused = Object.entries(r.refusals).map(([k, n]) => `${k} ${n}`).join(', ') || '–';
    const figures = Object.entries(r.figures).map(([k, x]) => `${k}: ${x}`).join('; ');
    return `| ${r.id}. ${r.title} | ${mb(r.rss.base)} → ${mb(r.rss.peak)} (+${mb(r.rss.growth)}) | ${ms(v.latency.p50)} / ${ms(v.latency.p99)} / ${ms(v.latency.max)} | ${Math.round(r.cpu * 100)}% / ${ms(r.loopP99Ms)} / ${ms(r.loopMaxMs)} | ${ms(v.ownStallMs)} | ${v.acked} acked, ${v.lost ?? '?'} lost, errors ${errors} | ${refused} | ${figures} | ${r.load} | ${verdict(r)} |`;
  });
  return [
    '| attack | server RSS (growth) | victim send→ack ms p50 / p99 / max | server CPU / loop p99 (median window) / max ms | victim own loop max ms | victim sends | refusals counted | attacker | load | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const chosen = ATTACKS.filter((a) => !only || only.includes(a.id));
const reports: AttackReport[] = [];
const t0 = performance.now();
console.log(`abuse: ${size} run of ${chosen.map((a) => a.id).join(', ')} against ${serverDir ? resolve(serverDir) : 'this checkout'}`);
for (const attack of chosen) {
  const target = await startTarget({ serverDir });
  try {
    console.log(`[${Math.round((performance.now() - t0) / 1000)} s] ${attack.id}. ${attack.title}`);
    reports.push(await runAttack(attack, target, size));
  } finally {
    await target.stop();
  }
}
console.log(`\n${table(reports)}\n`);
console.log(`abuse: ${Math.round((performance.now() - t0) / 1000)} s`);
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ size, serverDir: serverDir ?? null, reports }, null, 2)}\n`);
process.exit(0);
