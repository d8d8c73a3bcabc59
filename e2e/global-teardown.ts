import { existsSync, readFileSync } from 'node:fs';
import { MEASUREMENTS_FILE } from './support/measure.ts';

/** Prints the timing figures the run collected (fallback settle times, send-to-receive latencies) as one table. */
export default function globalTeardown(): void {
  if (!existsSync(MEASUREMENTS_FILE)) return;
  const rows = readFileSync(MEASUREMENTS_FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { metric: string; ms: number; detail: string });
  if (rows.length === 0) return;
  rows.sort((a, b) => a.metric.localeCompare(b.metric));
  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log('\nmeasurements (this run; figures, not thresholds):');
  for (const r of rows) console.log(`  ${r.metric.padEnd(width)}  ${String(r.ms).padStart(6)} ms  ${r.detail}`);
}
