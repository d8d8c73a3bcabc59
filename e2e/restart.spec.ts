import type { Page } from '@playwright/test';
import { composer, connectionStatus, messageLog, openChat, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

// These tests stop the file's server; they must not overlap.
test.describe.configure({ mode: 'serial' });

/** Records every text the status line shows, to prove the client went through a reconnect. */
async function recordStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.querySelector('[role="status"]');
    const seen: string[] = [];
    (window as { __statusLog?: string[] }).__statusLog = seen;
    if (!el) return;
    new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

const statusLog = (page: Page) => page.evaluate(() => (window as { __statusLog?: string[] }).__statusLog ?? []);

test('history survives a server restart and the client reconnects on its own', async ({ page, browser, server }) => {
  await openChat(page, 'kim', '/r/restart');
  await recordStatus(page);
  await sendMessage(page, 'before the restart');

  await server.restart();

  // The server said why it closed (`bye server_shutdown`), and the status line says so.
  await expect.poll(() => statusLog(page)).toContain('Reconnecting… (the server is restarting)');
  await expect(connectionStatus(page)).toHaveText('Connected · WebSocket');
  await sendMessage(page, 'after the restart');

  // A newcomer gets both from the restarted server's store.
  const other = await browser.newContext({ baseURL: server.url });
  try {
    const lee = await other.newPage();
    await openChat(lee, 'lee', '/r/restart');
    await expect(storedMessage(lee, 'before the restart')).toBeVisible();
    await expect(storedMessage(lee, 'after the restart')).toBeVisible();
    await expect(messageLog(lee).locator('[data-seq]')).toHaveCount(2);
  } finally {
    await other.close();
  }
});

test('a message typed while the server is down is delivered once it is back', async ({ page, server }) => {
  await openChat(page, 'max', '/r/outage');
  await sendMessage(page, 'acked before the crash');

  await server.kill();
  await expect(connectionStatus(page)).not.toHaveText(/^Connected/);
  await composer(page).fill('typed during the outage');
  await composer(page).press('Enter');
  const pending = messageLog(page).locator('[data-client-id]:not([data-seq])', { hasText: 'typed during the outage' });
  await expect(pending).toBeVisible();
  await expect(pending.getByLabel('Sending')).toBeVisible();

  await server.start();
  await expect(storedMessage(page, 'typed during the outage')).toBeVisible({ timeout: 20_000 });
  await expect(storedMessage(page, 'typed during the outage').getByLabel('Sent')).toBeVisible();

  await page.reload();
  await expect(storedMessage(page, 'acked before the crash')).toBeVisible();
  await expect(storedMessage(page, 'typed during the outage')).toHaveCount(1);
  await expect(messageLog(page).locator('[data-seq]')).toHaveCount(2);
});
