import type { Page } from '@playwright/test';
import { connectionStatus, loggedMessages, openChat, sendMessage, storedMessage, typeMessage } from './support/chat.ts';
import { TALL, expect, test } from './support/fixtures.ts';
import { installRecorder, report, settledAt, statusTimeline } from './support/measure.ts';
import { OPEN_POLICY } from './support/proxy.ts';

/** Time (ms since navigation) the status line first carried an explanation: the fallback was verified. */
async function explainedAt(page: Page): Promise<number> {
  return (await statusTimeline(page)).find((e) => e.title)?.t ?? Number.NaN;
}

/** Status texts in order, without repeats. */
async function statusTexts(page: Page): Promise<string[]> {
  return (await statusTimeline(page)).map((e) => e.text).filter((t, i, all) => t !== all[i - 1]);
}

/** A fallback takes a few seconds by design (deadlines and an idle check); give it room. */
const SETTLE = { timeout: 30_000 };

/**
 * On a settled fallback: `page` and `other` (on WebSocket) chat both ways;
 * then a reload starts straight on the same transport, remembered for the
 * browser session, and still receives. Returns when the reloaded page has
 * settled.
 */
async function chatsThenRemembers(page: Page, other: Page, label: string): Promise<void> {
  await sendMessage(page, `hello over ${label}`);
  await expect(storedMessage(other, `hello over ${label}`)).toBeVisible();
  await sendMessage(other, 'hello back over websocket');
  await expect(storedMessage(page, 'hello back over websocket')).toBeVisible();

  await page.reload();
  await expect(connectionStatus(page)).toHaveText(`Connected · ${label}`);
  await expect(connectionStatus(page)).toHaveAttribute('title', /Remembered for this browser session\./);
  expect(await statusTexts(page)).toEqual(['Connecting…', `Connected · ${label}`]);
  await expect(storedMessage(page, 'hello back over websocket')).toBeVisible();
  await sendMessage(other, 'after the reload');
  await expect(storedMessage(page, 'after the reload')).toBeVisible();
}

test('behind a proxy that refuses WebSocket upgrades, the client settles on long-polling by itself', async ({ page, startProxy }, testInfo) => {
  const p = await startProxy({ websocket: 'refuse' });
  await installRecorder(page);
  await openChat(page, 'lena', `${p.url}/r/fallback-lp`);
  await expect(connectionStatus(page)).toHaveText('Connected · Long-polling');
  await expect(connectionStatus(page)).toHaveAttribute('title', 'Using Long-polling: WebSocket could not connect. Faster transports are retried in the background.');
  await page.getByText('Why?').click();
  await expect(page.getByText('Using Long-polling: WebSocket could not connect.')).toBeVisible();
  report(testInfo, 'fallback settle: WebSocket refused → Long-polling', await settledAt(page), 'status names it');
  report(testInfo, 'fallback verified: WebSocket refused → Long-polling', await explainedAt(page), 'after the idle check');
  await sendMessage(page, 'through a proxy without WebSocket');
  expect(p.stats.upgradesRefused).toBeGreaterThan(0);
});

test('behind a proxy that refuses WebSocket and cuts long polls, the client settles on Server-Sent Events, chats, and remembers it for the session', async ({
  page,
  startProxy,
  person,
}, testInfo) => {
  const p = await startProxy({ websocket: 'refuse', slowResponses: 'cut', slowAfterMs: 1000 });
  await installRecorder(page);
  await openChat(page, 'sid', `${p.url}/r/fallback-sse`);
  await expect(connectionStatus(page)).toHaveText('Connected · Server-Sent Events', SETTLE);
  await expect(connectionStatus(page)).toHaveAttribute(
    'title',
    /^Using Server-Sent Events: WebSocket could not connect; Long-polling was cut off right after connecting\./,
  );
  report(testInfo, 'fallback settle: WebSocket refused, long polls cut → Server-Sent Events', await settledAt(page), 'status names it');
  expect(await statusTexts(page)).toEqual(['Connecting…', 'Connected · Long-polling', 'Connecting…', 'Connected · Server-Sent Events']);
  expect(p.stats.responsesCut).toBeGreaterThan(0);

  const dora = await person('dora', '/r/fallback-sse');
  await chatsThenRemembers(page, dora.page, 'Server-Sent Events');
});

test('behind a proxy that also buffers response bodies, the stream never arrives and the client settles on Ajax polling, and remembers it', async ({
  page,
  startProxy,
  person,
}, testInfo) => {
  const p = await startProxy({ websocket: 'refuse', slowResponses: 'cut', slowAfterMs: 1000, bodies: 'buffer' });
  await installRecorder(page);
  await openChat(page, 'carl', `${p.url}/r/fallback-ajax`);
  await expect(connectionStatus(page)).toHaveText('Connected · Ajax polling', SETTLE);
  await expect(connectionStatus(page)).toHaveAttribute(
    'title',
    /^Using Ajax polling: WebSocket could not connect; Long-polling was cut off right after connecting; Server-Sent Events did not connect in time\./,
  );
  report(testInfo, 'fallback settle: WebSocket refused, long polls cut, bodies buffered → Ajax polling', await settledAt(page), 'status names it');
  expect(await statusTexts(page)).toEqual(['Connecting…', 'Connected · Long-polling', 'Connecting…', 'Connected · Ajax polling']);
  expect(p.stats.responsesCut).toBeGreaterThan(0);
  expect(p.stats.bodiesBuffered).toBeGreaterThan(0);

  const dora = await person('dora', '/r/fallback-ajax');
  await chatsThenRemembers(page, dora.page, 'Ajax polling');
  report(testInfo, 'fallback settle after reload (remembered): Ajax polling', await settledAt(page), 'status names it');
});

test('behind a proxy that swallows upgrades, holds long polls and buffers bodies, the client settles on Ajax polling', async ({ page, startProxy }, testInfo) => {
  const p = await startProxy({ websocket: 'hang', slowResponses: 'hold', slowAfterMs: 1000, bodies: 'buffer' });
  await installRecorder(page);
  await page.goto(`${p.url}/r/fallback-hold?name=hana`);
  await expect(connectionStatus(page)).toHaveText('Connected · Ajax polling', SETTLE);
  await expect(connectionStatus(page)).toHaveAttribute(
    'title',
    /^Using Ajax polling: WebSocket did not connect in time; Long-polling connected but stopped answering; Server-Sent Events did not connect in time\./,
  );
  report(testInfo, 'fallback settle: WebSocket hangs, long polls held, bodies buffered → Ajax polling', await settledAt(page), 'status names it');
  expect(p.stats.upgradesHung).toBeGreaterThan(0);
  expect(p.stats.responsesHeld).toBeGreaterThan(0);
  await sendMessage(page, 'held but not lost');
});

test('a client that fell to Ajax because WebSocket was blocked moves up when the block is lifted, without a gap or a duplicate', async ({
  page,
  startProxy,
  person,
}, testInfo) => {
  const p = await startProxy({ websocket: 'refuse', slowResponses: 'cut', slowAfterMs: 1000, bodies: 'buffer' });
  await page.setViewportSize(TALL);
  await installRecorder(page);
  await openChat(page, 'uma', `${p.url}/r/upgrade`);
  await expect(connectionStatus(page)).toHaveText('Connected · Ajax polling', SETTLE);
  const pete = await person('pete', '/r/upgrade');
  await sendMessage(pete.page, 'before the lift');
  await sendMessage(page, 'uma before the lift');

  p.set(OPEN_POLICY);
  const liftedAt = await page.evaluate(() => performance.now());
  await typeMessage(page, 'uma right after the lift');
  // Pete keeps talking across the switch; each message paced by Uma receiving it.
  let n = 0;
  while ((await connectionStatus(page).textContent()) !== 'Connected · WebSocket' && n < 40) {
    n++;
    await sendMessage(pete.page, `across the switch (${n})`);
    await expect(storedMessage(page, `across the switch (${n})`)).toBeVisible();
  }
  await expect(connectionStatus(page)).toHaveText('Connected · WebSocket');
  await expect(connectionStatus(page)).not.toHaveAttribute('title');
  report(testInfo, 'upgrade back: Ajax polling → WebSocket after the block is lifted', (await settledAt(page)) - liftedAt, `${n} messages crossed`);
  await sendMessage(pete.page, 'after the switch');
  await sendMessage(page, 'uma after the switch');

  const expected = await loggedMessages(pete.page);
  await expect.poll(() => loggedMessages(page)).toEqual(expected);
  expect(expected.map((m) => m.seq)).toEqual(Array.from({ length: expected.length }, (_, i) => i + 1));
  expect(new Set(expected.map((m) => m.text)).size).toBe(expected.length);
  expect(expected.map((m) => m.text)).toEqual(expect.arrayContaining(['uma right after the lift', 'after the switch']));
  expect(p.stats.upgradesPassed).toBeGreaterThan(0);
});
