/**
 * The operations page as an operator meets it, in Chromium under the
 * server's Content-Security-Policy and Trusted Types: a server with
 * OPS_TOKEN, browsers on each transport (one of them falls back behind a
 * proxy that refuses WebSockets), Node clients beside them and one hammering
 * history. The page shows them by transport, the refusals move, every plot
 * draws, and the tables say what /metrics says. Without the token the page
 * and its data answer 401; on a server without OPS_TOKEN, 404.
 *
 * `OPS_SCREENSHOTS=1 npx playwright test e2e/ops.spec.ts` also writes the
 * screenshots in docs/ops/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { io, type Socket } from 'socket.io-client';
import { startRedis } from '../scripts/services/index.ts';
import { startServer as startInProcess } from '../server/test/harness.ts';
import { spawnServer, type ServerProcess } from '../server/test/server-process.ts';
import { createSession, openChat } from './support/chat.ts';
import { TestProxy } from './support/proxy.ts';
import { expect, repoRoot, test } from './support/server.ts';

const TOKEN = 'e2e-operator-token-0123456789';
const ROOM = 'lobby';

let ops: ServerProcess;
let dataDir: string;

test.beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fiberchat-e2e-ops-'));
  ops = await spawnServer({
    env: { DATA_DIR: dataDir, OPS_TOKEN: TOKEN, NODE_ID: 'node-1', SESSION_RATE_PER_MIN: '10000', SESSION_BURST: '1000' },
  });
});

test.afterAll(async () => {
  ops?.child.kill('SIGTERM');
  await ops?.exited;
  await rm(dataDir, { recursive: true, force: true });
});

/** Every series of /metrics (fetched from loopback, which needs no token) by its name and labels. */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`${ops.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** A series' value, or the sum of every labelled series of a name given bare (`fiberchat_refusals_total`). */
function valueOf(metrics: Map<string, number>, series: string): number {
  if (series.includes('{')) return metrics.get(series) ?? 0;
  let sum = metrics.get(series) ?? 0;
  for (const [k, v] of metrics) if (k.startsWith(`${series}{`)) sum += v;
  return sum;
}

/** Records CSP and Trusted Types violations from before the page's first script. */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Trusted Type|Refused to/i.test(msg.text())) errors.push(msg.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as { __violations?: string[] }).__violations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
  });
  return async () => [...errors, ...(await page.evaluate(() => (window as { __violations?: string[] }).__violations ?? []))];
}

/**
 * Pixels of each plot's canvas drawn in its first line's colour (uPlot draws
 * axes and grid too, so "not blank" alone would not prove a line was drawn).
 */
async function linePixels(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const panel of document.querySelectorAll<HTMLElement>('[data-panel]')) {
      const canvas = panel.querySelector('canvas');
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx) continue;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      // The first total line's colour, #1f6feb, within anti-aliasing's reach.
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs((data[i] ?? 0) - 0x1f) < 24 && Math.abs((data[i + 1] ?? 0) - 0x6f) < 24 && Math.abs((data[i + 2] ?? 0) - 0xeb) < 24 && (data[i + 3] ?? 0) > 200) n++;
      }
      out[panel.dataset.panel ?? '?'] = n;
    }
    return out;
  });
}

/** A figure in the nodes table, as a number. */
async function cell(page: Page, metric: string): Promise<number> {
  const text = await page.locator(`[data-table="nodes"] [data-node="node-1"] [data-metric='${metric}']`).textContent();
  return Number(text);
}

async function signIn(page: Page): Promise<void> {
  const res = await page.goto(`${ops.url}/ops`);
  expect(res?.status()).toBe(401);
  await page.getByLabel('Operator token').fill(TOKEN);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('heading', { name: 'Nodes' })).toBeVisible();
}

test('the page shows clients by transport, refusals moving, drawn plots, and the numbers /metrics serves', async ({ browser }, testInfo) => {
  test.setTimeout(process.env.OPS_SCREENSHOTS === '1' ? 240_000 : 120_000);
  const contexts: BrowserContext[] = [];
  const sockets: Socket[] = [];
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const proxy = await TestProxy.start(ops.port, { websocket: 'refuse' });
  try {
    // Browsers: one forced onto each transport, and one on automatic behind a proxy that refuses WebSockets.
    const open = async (name: string, origin: string, query: string) => {
      const context = await browser.newContext({ baseURL: origin });
      contexts.push(context);
      const page = await context.newPage();
      await openChat(page, name, `/?${query}`);
      return page;
    };
    await open('web-ws', ops.url, 'transport=websocket');
    await open('web-lp', ops.url, 'transport=long-polling');
    await open('web-ajax', ops.url, 'transport=ajax');
    await open('web-sse', ops.url, 'transport=sse');
    const fellBack = await open('web-auto', proxy.url, '');
    await expect(fellBack.getByRole('status')).toHaveText('Connected · Long-polling', { timeout: 20_000 });

    // Node clients beside them: two on each socket transport, two Ajax pollers.
    const connectAs = async (name: string, transport: 'websocket' | 'polling') => {
      const s = await createSession(ops.url, name);
      const socket = io(ops.url, { auth: { token: s.token }, transports: [transport], reconnection: false, forceNew: true });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      await socket.emitWithAck('join', { room: ROOM });
      return socket;
    };
    const talker = await connectAs('talker', 'websocket');
    const hammer = await connectAs('hammer', 'websocket');
    await connectAs('lp-bot-1', 'polling');
    await connectAs('lp-bot-2', 'polling');
    for (const name of ['ajax-bot-1', 'ajax-bot-2']) {
      const s = await createSession(ops.url, name);
      const poll = () => fetch(`${ops.url}/api/rooms/${ROOM}/messages`, { headers: { authorization: `Bearer ${s.token}` } }).then((r) => r.arrayBuffer(), () => undefined);
      await poll();
      timers.push(setInterval(() => void poll(), 1000));
    }
    // A steady trickle of messages (twice a second) until the end: every browser and bot receives each.
    let sent = 0;
    const send = () =>
      talker.emitWithAck('send', { room: ROOM, text: `load ${sent}`, clientId: `ops-e2e-${sent}` }).then((a: { ok: boolean }) => {
        if (a.ok) sent++;
      });
    await send();
    timers.push(setInterval(() => void send(), 500));

    const hammerHistory = async (n: number) => {
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const res = (await hammer.emitWithAck('history', { room: ROOM, before: 100 })) as { ok: boolean };
        if (!res.ok) refused++;
      }
      return refused;
    };
    expect(await hammerHistory(40)).toBeGreaterThan(0);

    // The operator: the token form first (401), then the page.
    const opsContext = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    contexts.push(opsContext);
    const page = await opsContext.newPage();
    const violations = await watchViolations(page);
    await signIn(page);

    // Clients by transport: 3 WebSocket (a browser, two bots), 4 long-polling (a forced browser, the one that fell back, two bots), 3 Ajax, 1 stream.
    await expect.poll(() => cell(page, 'fiberchat_connections{transport="websocket"}'), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => cell(page, 'fiberchat_connections{transport="long-polling"}')).toBe(4);
    await expect.poll(() => cell(page, 'fiberchat_connections{transport="ajax"}')).toBe(3);
    await expect.poll(() => cell(page, 'fiberchat_connections{transport="sse"}')).toBe(1);

    // The refusals move: the table follows a second burst of history requests.
    const readRefusals = `fiberchat_refusals_total{reason="rate_read"}`;
    const refusalCell = page.locator(`[data-table="refusals"] [data-metric='${readRefusals}']`);
    const before = valueOf(await scrape(), readRefusals);
    expect(before).toBeGreaterThan(0);
    await expect.poll(async () => Number(await refusalCell.textContent())).toBe(before);
    const more = await hammerHistory(40);
    expect(more).toBeGreaterThan(0);
    await expect.poll(async () => Number(await refusalCell.textContent())).toBe(before + more);
    await expect(page.locator('[data-table="addresses"] tbody tr').first()).toContainText('127.0.0.1');
    await expect(page.locator('[data-table="identities"] tbody tr').first()).toContainText('hammer');
    await expect(page.locator('[data-table="rooms"] tbody tr').first()).toContainText('#lobby');

    // The browser that fell back told the server, and the page plots it.
    // Where it landed first depends on the machine's load (a long poll that misses its idle check falls one rung further, then moves up).
    await expect(page.locator('[data-panel="transports"] .u-legend')).toContainText(/fallback to (Long-polling|Server-Sent Events)/, { timeout: 10_000 });
    expect(valueOf(await scrape(), 'fiberchat_transport_reports_total')).toBeGreaterThanOrEqual(1);

    // Every plot drew its line.
    await expect
      .poll(async () => Object.entries(await linePixels(page)).filter(([, n]) => n > 0).map(([id]) => id).sort(), { timeout: 10_000 })
      .toEqual(['connections', 'latency', 'loop', 'memory', 'refusals', 'rooms', 'stored', 'throughput', 'transports', 'uploads']);

    // The picture in docs/ops/ is taken under load, after a minute of it.
    const docs = process.env.OPS_SCREENSHOTS === '1';
    if (docs) await page.waitForTimeout(60_000);
    await page.screenshot({ path: docs ? join(repoRoot, 'docs/ops/ops-page.png') : testInfo.outputPath('ops-page.png'), fullPage: true });

    // Quiet now: every figure of the nodes table is what /metrics says.
    for (const t of timers.splice(0)) clearInterval(t);
    await new Promise((r) => setTimeout(r, 500));
    const metricsShown = await page.locator('[data-table="nodes"] [data-node="node-1"] [data-metric]').evaluateAll((els) => els.map((e) => e.getAttribute('data-metric') ?? ''));
    expect(metricsShown).toContain('fiberchat_messages_total');
    await expect
      .poll(async () => {
        const metrics = await scrape();
        const mismatched: string[] = [];
        for (const m of metricsShown) if ((await cell(page, m)) !== valueOf(metrics, m)) mismatched.push(m);
        return mismatched;
      }, { timeout: 10_000 })
      .toEqual([]);
    expect(await cell(page, 'fiberchat_messages_total')).toBe(sent);
    expect(await violations()).toEqual([]);
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.disconnect();
    await Promise.all(contexts.map((c) => c.close()));
    await proxy.close();
  }
});

test('without the token the page and its data answer 401; with a wrong one the form says so', async ({ browser }, testInfo) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const violations = await watchViolations(page);
    const res = await page.goto(`${ops.url}/ops`);
    expect(res?.status()).toBe(401);
    for (const path of ['/api/ops/snapshot', '/api/ops/stream']) expect((await context.request.get(`${ops.url}${path}`)).status(), path).toBe(401);
    expect((await context.request.get(`${ops.url}/ops.html`)).status()).toBe(404);
    await page.getByLabel('Operator token').fill('not-the-operator-token');
    await page.getByRole('button', { name: 'Open' }).click();
    await expect(page.getByRole('alert')).toHaveText('That is not the operator token.');
    expect(await violations()).toEqual([]);
    const shot = process.env.OPS_SCREENSHOTS === '1' ? join(repoRoot, 'docs/ops/ops-sign-in.png') : testInfo.outputPath('ops-sign-in.png');
    await page.screenshot({ path: shot });
  } finally {
    await context.close();
  }
});

test("the moderation panel lists every room's open reports and the audit log, filtered by action", async ({ browser }) => {
  const room = 'ops-civil';
  const owner = await createSession(ops.url, 'olga');
  const carol = await createSession(ops.url, 'carol');
  const dana = await createSession(ops.url, 'dana');
  const call = async (who: { token: string }, path: string, body: unknown) => {
    const res = await fetch(`${ops.url}/api/rooms/${room}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${who.token}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { seq?: number };
    expect(res.status, path).toBe(200);
    return json;
  };
  // Without ADMINS, a public room's first poster owns it.
  await call(owner, 'messages', { text: 'first: this room is mine', clientId: `ops-mod-${Date.now()}-1` });
  const spam = await call(carol, 'messages', { text: 'spam spam spam', clientId: `ops-mod-${Date.now()}-2` });
  await call(dana, 'reports', { target: spam.seq, reason: 'other', text: 'selling things' });
  await call(owner, 'moderation', { action: 'mute', userId: carol.userId, seconds: 3600, reason: 'selling in the lobby' });
  await call(owner, 'moderation', { action: 'lock' });

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page);
    const reports = page.locator('[data-table="reports"]');
    await expect(reports.locator('tr', { hasText: `#${room}` })).toContainText('other: selling things');
    await expect(reports.locator('tr', { hasText: `#${room}` })).toContainText('dana');
    const audit = page.locator('[data-table="audit"]');
    await expect(audit.locator('tr[data-action="mute"]', { hasText: `#${room}` })).toContainText('carol');
    await expect(audit.locator('tr[data-action="mute"]', { hasText: `#${room}` })).toContainText('selling in the lobby');
    await expect(audit.locator('tr[data-action="lock"]', { hasText: `#${room}` })).toBeVisible();
    await page.getByLabel('Action').selectOption('lock');
    await expect(audit.locator('tr[data-action="mute"]')).toHaveCount(0);
    await expect(audit.locator('tr[data-action="lock"]', { hasText: `#${room}` })).toBeVisible();
  } finally {
    await context.close();
  }
});

test('on a server without OPS_TOKEN the page and its data do not exist (404)', async ({ request, server }) => {
  for (const path of ['/ops', '/api/ops/snapshot', '/api/ops/stream', '/api/ops/moderation']) expect((await request.get(`${server.url}${path}`)).status(), path).toBe(404);
});

test("in a cluster, any node's page shows every node: a line each, and the totals", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  // Two nodes sharing a Redis, each keeping its messages in memory (the chat across nodes is the cluster suite's).
  // They share this one process, so each reports the same RSS: the memory plot counts it twice.
  const redis = await startRedis();
  const node = (id: string) =>
    startInProcess({
      env: { OPS_TOKEN: TOKEN, NODE_ID: id, REDIS_URL: redis.url, DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused', SESSION_SECRET: 'e2e-ops-cluster-secret-0123456789abcdef' },
    });
  const [a, b] = await Promise.all([node('node-a'), node('node-b')]);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    // A room per node (each node's store is its own here), with people and a trickle of messages in each.
    const onA: Awaited<ReturnType<typeof a.client>>[] = [];
    const onB: Awaited<ReturnType<typeof b.client>>[] = [];
    for (let i = 0; i < 2; i++) onA.push(await a.client(`a-ws-${i}`));
    for (let i = 0; i < 3; i++) onB.push(await b.client(`b-ws-${i}`));
    onB.push(await b.client('b-lp', { transports: ['polling'] }));
    for (const c of onA) await c.emitWithAck('join', { room: 'north' });
    for (const c of onB) await c.emitWithAck('join', { room: 'south' });
    let n = 0;
    const trickle = async () => {
      n++;
      await Promise.all([
        onA[0]?.emitWithAck('send', { room: 'north', text: `n${n}`, clientId: `north-${n}` }),
        onB[0]?.emitWithAck('send', { room: 'south', text: `s${n}`, clientId: `south-${n}` }),
      ]);
    };
    await trickle();
    timer = setInterval(() => void trickle(), 500);

    const page = await context.newPage();
    const res = await page.goto(`${a.url}/ops`);
    expect(res?.status()).toBe(401);
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();

    const row = (id: string, metric: string) => page.locator(`[data-table="nodes"] [data-node="${id}"] [data-metric='${metric}']`);
    await expect(row('node-a', 'fiberchat_connections{transport="websocket"}')).toHaveText('2');
    await expect(row('node-b', 'fiberchat_connections{transport="websocket"}')).toHaveText('3');
    await expect(row('node-b', 'fiberchat_connections{transport="long-polling"}')).toHaveText('1');
    await expect(page.getByRole('status')).toContainText('served by node-a · 2 nodes');
    // The totals add the nodes up; each node has its own line.
    const connections = page.locator('[data-panel="connections"]');
    await expect(connections.locator('[data-series="WebSocket"] strong')).toHaveText('5');
    await expect(connections.locator('[data-series="Long-polling"] strong')).toHaveText('1');
    await expect(connections.locator('.u-legend')).toContainText('node-a all');
    await expect(connections.locator('.u-legend')).toContainText('node-b all');
    const rooms = page.locator('[data-table="rooms"] tbody');
    await expect(rooms).toContainText('#north');
    await expect(rooms).toContainText('#south');

    const docs = process.env.OPS_SCREENSHOTS === '1';
    if (docs) await page.waitForTimeout(20_000);
    await page.screenshot({ path: docs ? join(repoRoot, 'docs/ops/ops-cluster.png') : testInfo.outputPath('ops-cluster.png'), fullPage: true });
  } finally {
    clearInterval(timer);
    await context.close();
    await Promise.all([a.close(), b.close()]);
    await redis.dispose();
  }
});
