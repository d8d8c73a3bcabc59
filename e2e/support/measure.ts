/**
 * Timing figures from the end-to-end runs: how long each fallback takes to
 * settle and how long a message takes from Enter in one browser to its row
 * in another. They are printed and collected for the run's summary (see
 * global-teardown.ts); no test asserts on them.
 *
 * A recorder injected before the app starts keeps, inside each page, the
 * status line's history (ms since navigation) and the wall-clock time each
 * message was sent (Enter) and first shown with a seq.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { repoRoot } from './server.ts';

export const MEASUREMENTS_FILE = join(repoRoot, 'test-results', 'measurements.jsonl');

export interface StatusEntry {
  /** ms since the page's navigation started. */
  t: number;
  text: string;
  title: string | null;
}

interface Recorded {
  status: StatusEntry[];
  seen: Record<string, number>;
  sent: Record<string, number>;
}

declare global {
  interface Window {
    __fcRecorder?: Recorded;
  }
}

/** Installs the recorder in every document `page` loads from now on. */
export async function installRecorder(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const rec: Recorded = { status: [], seen: {}, sent: {} };
    window.__fcRecorder = rec;
    const wall = () => performance.timeOrigin + performance.now();
    let last = '';
    const scan = () => {
      const status = document.querySelector('[role="status"]');
      if (status) {
        const entry = { t: performance.now(), text: status.textContent ?? '', title: status.getAttribute('title') };
        const key = `${entry.text}\n${entry.title ?? ''}`;
        if (key !== last) {
          last = key;
          rec.status.push(entry);
        }
      }
      for (const row of document.querySelectorAll('[role="log"] [data-seq]')) {
        const text = row.querySelector('.msg-text')?.textContent;
        if (text && !(text in rec.seen)) rec.seen[text] = wall();
      }
    };
    new MutationObserver(scan).observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['title', 'data-seq'],
    });
    document.addEventListener(
      'keydown',
      (e) => {
        if (e.key !== 'Enter' || e.shiftKey || !(e.target instanceof HTMLTextAreaElement)) return;
        const text = e.target.value.trim();
        if (text) rec.sent[text] = wall();
      },
      true,
    );
  });
}

async function recorded(page: Page): Promise<Recorded> {
  return page.evaluate(() => window.__fcRecorder ?? { status: [], seen: {}, sent: {} });
}

/** The status line's history in the current document. */
export async function statusTimeline(page: Page): Promise<StatusEntry[]> {
  return (await recorded(page)).status;
}

/** When the status line last changed its text: the moment it settled, in ms since navigation. */
export async function settledAt(page: Page): Promise<number> {
  const timeline = await statusTimeline(page);
  const final = timeline.at(-1)?.text;
  let t = timeline.at(-1)?.t ?? Number.NaN;
  for (let i = timeline.length - 1; i >= 0 && timeline[i]?.text === final; i--) t = timeline[i]?.t ?? t;
  return t;
}

/** Wall-clock times each message text was sent (Enter) in `page`. */
export async function sentTimes(page: Page): Promise<Record<string, number>> {
  return (await recorded(page)).sent;
}

/** Wall-clock times each message text first showed with a seq in `page`. */
export async function seenTimes(page: Page): Promise<Record<string, number>> {
  return (await recorded(page)).seen;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Prints a figure, attaches it to the test's report, and keeps it for the run's summary table. */
export function report(testInfo: TestInfo, metric: string, ms: number, detail = ''): void {
  const line = { metric, ms: Math.round(ms), detail, test: testInfo.title };
  console.log(`[measure] ${metric}: ${line.ms} ms${detail ? ` (${detail})` : ''}`);
  testInfo.annotations.push({ type: 'measurement', description: `${metric}: ${line.ms} ms${detail ? ` (${detail})` : ''}` });
  appendFileSync(MEASUREMENTS_FILE, `${JSON.stringify(line)}\n`);
}
