import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layout } from '../../client/src/ops/ops-model.ts';
import { buildPanels } from '../../client/src/ops/panels.ts';
import { repoRoot } from '../test/server-process.ts';
import { startServer, type TestServer } from '../test/harness.ts';

/**
 * What operators load into Prometheus and Grafana (docs/ops/) holds up: the
 * alerting rules pass promtool's check and their unit tests, every metric
 * the rules and the dashboard name is one the server serves, and the
 * dashboard has every panel of the /ops page. promtool comes with Debian's
 * `prometheus` package (scripts/ensure-test-deps.sh installs it).
 */
const docs = join(repoRoot, 'docs', 'ops');
const alerts = readFileSync(join(docs, 'alerts.yml'), 'utf8');
const dashboardText = readFileSync(join(docs, 'grafana-dashboard.json'), 'utf8');

function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: docs, encoding: 'utf8', timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error("promtool is missing: install Debian's prometheus package (bash scripts/ensure-test-deps.sh)", { cause: err });
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/** Names of Fiberchat's and Node's series mentioned in a text (metric names only; label names are lowercase words too, but never start so). */
function metricNames(text: string): string[] {
  return [...new Set(text.match(/\b(?:fiberchat|nodejs|process)_[a-z0-9_]+\b/g) ?? [])].sort();
}

let server: TestServer;
let served: Set<string>;

beforeAll(async () => {
  server = await startServer({ env: { OPS_TOKEN: 'ops-docs-token-0123456789' } });
  const text = await (await fetch(`${server.url}/metrics`)).text();
  served = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    served.add(name);
    // Histograms and summaries are served as these series.
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) served.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) served.add(name + suffix);
  }
});
afterAll(async () => {
  await server?.close();
});

describe('docs/ops', () => {
  it('alerts.yml passes promtool check rules', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toContain('SUCCESS');
  });

  it("alerts.yml's rules pass their unit tests (promtool test rules)", () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });

  it('the rules and the dashboard name only metrics the server serves, with their units in the name', () => {
    const named = metricNames(`${alerts}\n${dashboardText}`);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !served.has(n))).toEqual([]);
    // Our own: counters end in _total, durations in _seconds, sizes in _bytes.
    expect(served.has('fiberchat_send_ack_seconds_bucket')).toBe(true);
    for (const n of served) if (n.startsWith('fiberchat_') && /latency|duration|delay/.test(n)) expect(n).toMatch(/_seconds(_bucket|_sum|_count)?$/);
  });

  it('the dashboard has every panel of the /ops page, each with a query', () => {
    const dashboard = JSON.parse(dashboardText) as { panels: Array<{ title: string; targets?: Array<{ expr?: string }> }> };
    const titles = dashboard.panels.map((p) => p.title);
    const page = buildPanels(layout([], 'node', Date.now())).map((p) => p.title);
    expect(page.filter((t) => !titles.includes(t))).toEqual([]);
    for (const p of dashboard.panels) expect(p.targets?.every((t) => (t.expr ?? '').length > 0), p.title).toBe(true);
  });
});
