/**
 * The security headers as a browser meets them: present, enforced against a
 * page on another origin that frames the app, and not in the app's way on
 * any of the three transports (no Content-Security-Policy or Trusted Types
 * violation while a person connects and sends).
 */
import { createServer, type Server } from 'node:http';
import type { Page } from '@playwright/test';
import { connectionStatus, openChat, sendMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

const EXPECTED_HEADERS = {
  'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** Records every CSP / Trusted Types violation the page reports, from before the app's first script runs. */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Trusted Type|Refused to/i.test(msg.text())) consoleErrors.push(msg.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as { __violations?: string[] }).__violations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`),
    );
  });
  return async () => [...consoleErrors, ...(await page.evaluate(() => (window as { __violations?: string[] }).__violations ?? []))];
}

/** A page on another origin (its own port) that frames `target`. */
async function startFramer(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>framer</title><iframe id="victim" src="${target}" width="800" height="600"></iframe>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('the app, the API and errors carry the security headers', async ({ page, request }) => {
  const html = await page.goto('/?name=hedy');
  expect(html?.headers()).toMatchObject(EXPECTED_HEADERS);
  const api = await request.post('/api/session', { data: { name: 'hedy' } });
  expect(api.status()).toBe(200);
  expect(api.headers()).toMatchObject(EXPECTED_HEADERS);
  const missing = await request.get('/api/nothing-here');
  expect(missing.status()).toBe(404);
  expect(missing.headers()).toMatchObject(EXPECTED_HEADERS);
  const script = await request.get(new URL(await page.locator('script[type=module]').getAttribute('src') ?? '', html?.url()).href);
  expect(script.status()).toBe(200);
  expect(script.headers()).toMatchObject(EXPECTED_HEADERS);
});

test('a page on another origin cannot frame the app', async ({ page, server }) => {
  const framer = await startFramer(`${server.url}/?name=framed`);
  try {
    const refusals: string[] = [];
    page.on('console', (msg) => refusals.push(msg.text()));
    await page.goto(framer.url);
    const frame = page.frameLocator('#victim');
    // The browser refuses the framed document: no app inside, Chromium's error page instead.
    await expect.poll(() => refusals.some((t) => /frame-ancestors|X-Frame-Options/i.test(t))).toBe(true);
    await expect(frame.locator('#root')).toHaveCount(0);
    const child = page.frames().find((f) => f !== page.mainFrame());
    expect(child?.url()).not.toContain(server.url);
  } finally {
    await framer.close();
  }
});

test('the same framing page does show the app once the headers are stripped (the check above can fail)', async ({ page, server }) => {
  const framer = await startFramer(`${server.url}/?name=framed`);
  try {
    await page.route(`${server.url}/**`, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['content-security-policy'];
      delete headers['x-frame-options'];
      await route.fulfill({ response, headers });
    });
    await page.goto(framer.url);
    await expect(page.frameLocator('#victim').locator('#root')).toHaveCount(1);
  } finally {
    await framer.close();
  }
});

for (const [param, label] of [
  ['websocket', 'WebSocket'],
  ['polling', 'Long-polling'],
  ['ajax', 'Ajax polling'],
] as const) {
  test(`the app works under the policy on ${label}, with no violation reported`, async ({ page }) => {
    const violations = await watchViolations(page);
    await openChat(page, `csp-${param}`, `/r/csp-${param}?transport=${param}`);
    await expect(connectionStatus(page)).toHaveText(`Connected · ${label}`);
    await sendMessage(page, `under the policy on ${label}`);
    // Reload: the outbox and session come back from storage under the same policy.
    await page.reload();
    await expect(connectionStatus(page)).toHaveText(`Connected · ${label}`);
    expect(await violations()).toEqual([]);
  });
}

test('a violation would be seen (the check above can fail)', async ({ page }) => {
  const violations = await watchViolations(page);
  await openChat(page, 'csp-control', '/r/csp-control');
  await page.evaluate(() => {
    const s = document.createElement('script');
    try {
      // A string into a script sink: refused by Trusted Types and by script-src.
      s.text = 'window.__ran = 1';
      document.body.append(s);
    } catch {
      // Trusted Types throws; the violation is reported all the same.
    }
  });
  await expect.poll(async () => (await violations()).length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as { __ran?: number }).__ran)).toBeUndefined();
});
