import type { Locator } from '@playwright/test';
import { createSession, messageLog, openChat, postMessage, seedMessages, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

/** Resolves once the log's scroll position and height have held still for 10 animation frames. */
async function untilScrollSettles(log: Locator): Promise<void> {
  await log.evaluate(
    (el) =>
      new Promise<void>((resolve) => {
        let still = 0;
        let last = '';
        const tick = () => {
          const now = `${el.scrollTop}:${el.scrollHeight}`;
          still = now === last ? still + 1 : 0;
          last = now;
          if (still >= 10) resolve();
          else requestAnimationFrame(tick);
        };
        tick();
      }),
  );
}

test('a reload shows the history, each message once', async ({ page }) => {
  await openChat(page, 'erin', '/r/reload');
  for (const text of ['one', 'two', 'three']) await sendMessage(page, `reload ${text}`);

  await page.reload();
  for (const text of ['one', 'two', 'three']) await expect(storedMessage(page, `reload ${text}`)).toBeVisible();
  await expect(messageLog(page).locator('[data-seq]')).toHaveCount(3);
  // The session survived the reload: no nickname form.
  await expect(page.getByRole('textbox', { name: 'Nickname' })).toHaveCount(0);
});

test('scrolling up loads older messages back to the first', async ({ page, server }) => {
  const bot = await createSession(server.url, 'archivist');
  await seedMessages(server.url, bot.token, 'archive', 500);

  await openChat(page, 'frank', '/r/archive');
  const log = messageLog(page);
  await expect(log.locator('[data-seq="500"]')).toBeVisible();
  await expect(log.locator('[data-seq="1"]')).toHaveCount(0);

  // Scroll to the top until the first message has been paged in and is on screen.
  await expect
    .poll(
      async () => {
        await log.evaluate((el) => el.scrollTo({ top: 0 }));
        return log.locator('[data-seq="1"]').count();
      },
      { timeout: 20_000 },
    )
    .toBe(1);
  await expect(log.locator('[data-seq="1"]')).toBeVisible();
  await expect(log.locator('[data-seq="1"]')).toContainText('seed 1');
  await expect(log.getByText('This is the beginning of the conversation.')).toBeVisible();
});

test('a reader scrolled up is offered a jump to new messages instead of being moved', async ({ page, server }) => {
  const bot = await createSession(server.url, 'newsbot');
  await seedMessages(server.url, bot.token, 'busy', 80);
  await openChat(page, 'olga', '/r/busy');
  const log = messageLog(page);
  await expect(log.locator('[data-seq="80"]')).toBeInViewport();

  // Let the list finish placing itself at the bottom, as a person would before scrolling.
  await untilScrollSettles(log);
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(log.getByText('This is the beginning of the conversation.')).toBeAttached();
  await untilScrollSettles(log);
  await expect(log.locator('[data-seq="80"]')).not.toBeInViewport();
  await postMessage(server.url, bot.token, 'busy', 'breaking news', 'news-0000001');

  const jump = page.getByRole('button', { name: /new messages? ↓/ });
  await expect(jump).toBeVisible();
  await expect(storedMessage(page, 'breaking news')).not.toBeInViewport();
  await jump.click();
  await expect(storedMessage(page, 'breaking news')).toBeInViewport();
  await expect(jump).toBeHidden();
});
