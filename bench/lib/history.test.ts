import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acrossRuns } from '../report.ts';
import { appendRun, readRuns, recordOf, type RunRecord } from './history.ts';

const run = (at: string, verdicts: RunRecord['verdicts']): RunRecord => ({ at, commit: 'abc1234', durationSec: 600, calibrationMs: 3.6, verdicts });

describe('run history', () => {
  it('appends one line per run and reads them back in order, skipping a torn line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-history-')), 'runs.jsonl');
    const results = {
      durationSec: 590,
      machine: { calibrationMs: 3.7 },
      verdicts: [{ goal: 'join-p99', scope: '', value: 7.1, shown: '7.10 ms', met: false, text: 'missed: by 2.10 ms' }],
    };
    appendRun(recordOf(results, 'abc1234', new Date('2026-11-28T10:15:31Z')), file);
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"at":"2026-11-28T10:2`, { flag: 'w' });
    appendRun(recordOf(results, 'def5678+changes', new Date('2026-11-28T10:45:00Z')), file);
    const runs = readRuns(file);
    expect(runs.map((r) => [r.at, r.commit])).toEqual([
      ['2026-11-28T10:15Z', 'abc1234'],
      ['2026-11-28T10:45Z', 'def5678+changes'],
    ]);
    expect(runs[0]?.verdicts).toEqual([{ goal: 'join-p99', scope: '', shown: '7.10 ms', met: false }]);
    expect(readRuns(join(tmpdir(), 'no-such-history.jsonl'))).toEqual([]);
  });

  it('sets the runs side by side and counts in how many each target was met', () => {
    const ws = (shown: string, met: boolean) => ({ goal: 'websocket-p99-vs-socketio' as const, scope: '', shown, met });
    const fan = (scope: string, shown: string, met: boolean) => ({ goal: 'fanout-vs-ceiling' as const, scope, shown, met });
    const lines = acrossRuns([
      run('2026-11-28T08:00Z', [ws('0.31×', true), fan('500 subscribers', '1.16×', true)]),
      run('2026-11-28T10:15Z', [ws('0.90×', true)]),
      run('2026-11-28T10:25Z', [ws('1.21×', false), fan('500 subscribers', '1.17×', true)]),
    ]);
    const row = (what: string) => lines.find((l) => l.startsWith(`| ${what}`));
    expect(row('WebSocket p99')).toMatch(/\| 0\.31× ✓ \| 0\.90× ✓ \| 1\.21× ✗ \| 2 of 3 \|$/);
    expect(row('fan-out deliveries/s ≥ 0.9×')).toMatch(/\| 500 subscribers \| 1\.16× ✓ \| – \| 1\.17× ✓ \| 2 of 2 \|$/);
    expect(acrossRuns([run('2026-11-28T08:00Z', [ws('0.31×', true)])])).toEqual([]);
  });

  it('judges recorded verdicts again against a bound raised since', () => {
    const idle = (shown: string, met: boolean) => ({ goal: 'idle-rss' as const, scope: '', shown, met });
    const fan = (shown: string) => ({ goal: 'fanout-vs-ceiling' as const, scope: '500 subscribers', shown, met: true });
    const lines = acrossRuns([run('2026-11-28T08:00Z', [idle('8.6 KB', true), fan('0.85×')]), run('2026-12-07T08:00Z', [idle('7.9 KB', true), fan('0.93×')])]);
    const row = (what: string) => lines.find((l) => l.startsWith(`| ${what}`));
    expect(row('idle WebSocket RSS ≤ 8 KB')).toMatch(/\| 8\.6 KB ✗ \| 7\.9 KB ✓ \| 1 of 2 \|$/);
    expect(row('fan-out deliveries/s ≥ 0.9×')).toMatch(/\| 0\.85× ✗ \| 0\.93× ✓ \| 1 of 2 \|$/);
  });
});
