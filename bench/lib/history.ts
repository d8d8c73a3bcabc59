/**
 * Every full run's verdicts, one JSON line per run in
 * bench/results/runs.jsonl: a results file holds one run (a later run of the
 * same day replaces it), and some targets are judged over several runs
 * ("in at least 3 of 4 full runs"), on a machine whose tails move from run to
 * run. The results section shows the latest runs side by side.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { Verdict } from './goals.ts';

export const HISTORY_FILE = 'bench/results/runs.jsonl';

export interface RunRecord {
  /** When the run ended (ISO 8601, UTC). */
  at: string;
  /** The commit measured, `+changes` when the server, shared or bench code differed from it. */
  commit: string;
  durationSec: number;
  calibrationMs: number | undefined;
  verdicts: Array<Pick<Verdict, 'goal' | 'scope' | 'shown' | 'met'>>;
}

/** The commit of the code being measured, as `git` sees it (`unknown` outside a checkout). */
export function measuredCommit(): string {
  const git = (...a: string[]) => spawnSync('git', a, { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown';
  const changed = git('status', '--porcelain', '--', 'server', 'shared', 'bench', 'package-lock.json').stdout.trim() !== '';
  return `${head.stdout.trim()}${changed ? '+changes' : ''}`;
}

export function recordOf(results: Record<string, unknown>, commit: string, at = new Date()): RunRecord {
  const machine = results.machine as { calibrationMs?: number } | undefined;
  return {
    at: at.toISOString().slice(0, 16) + 'Z',
    commit,
    durationSec: Number(results.durationSec),
    calibrationMs: machine?.calibrationMs,
    verdicts: ((results.verdicts as Verdict[] | undefined) ?? []).map(({ goal, scope, shown, met }) => ({ goal, scope, shown, met })),
  };
}

export function appendRun(record: RunRecord, file = HISTORY_FILE): void {
  // After a torn last line (a run killed while writing), start a new one rather than join it.
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const torn = before !== '' && !before.endsWith('\n');
  appendFileSync(file, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
}

/** The recorded runs, oldest first; a line that does not parse is skipped. */
export function readRuns(file = HISTORY_FILE): RunRecord[] {
  if (!existsSync(file)) return [];
  const out: RunRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RunRecord;
      if (Array.isArray(r.verdicts)) out.push(r);
    } catch {
      // a torn line (a run killed while writing): not a run
    }
  }
  return out;
}
