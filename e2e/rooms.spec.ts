import { messageLog, openChat, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

test('a room under /r/<room> is separate from the lobby', async ({ page, browser, server }) => {
  const other = await browser.newContext({ baseURL: server.url });
  try {
    const lobby = await other.newPage();
    await openChat(page, 'gina', '/r/design');
    await openChat(lobby, 'hank');
    await expect(page.getByRole('heading', { name: 'design' })).toBeVisible();
    await expect(lobby.getByRole('heading', { name: 'lobby' })).toBeVisible();

    await sendMessage(lobby, 'lobby chatter');
    await sendMessage(page, 'design talk');
    // By the time each side sees its own newer message, a leak would have arrived too.
    await expect(messageLog(page).locator('[data-seq]')).toHaveCount(1);
    await expect(messageLog(lobby).locator('[data-seq]')).toHaveCount(1);
    await expect(storedMessage(page, 'lobby chatter')).toHaveCount(0);
    await expect(storedMessage(lobby, 'design talk')).toHaveCount(0);

    // Going to the lobby shows the lobby's history, not the design room's.
    await page.goto('/');
    await expect(storedMessage(page, 'lobby chatter')).toBeVisible();
    await expect(storedMessage(page, 'design talk')).toHaveCount(0);
  } finally {
    await other.close();
  }
});

test('the room list navigates between rooms without a reload', async ({ page }) => {
  await openChat(page, 'iris', '/r/first');
  await sendMessage(page, 'in first');
  await page.getByRole('textbox', { name: 'Room name' }).fill('second');
  await page.getByRole('button', { name: 'Go' }).click();
  await expect(page).toHaveURL(/\/r\/second$/);
  await expect(page.getByRole('heading', { name: 'second' })).toBeVisible();
  await expect(messageLog(page)).toContainText('No messages yet');
  await page.getByRole('link', { name: 'first' }).click();
  await expect(storedMessage(page, 'in first')).toBeVisible();
});

test('an invalid room address explains itself', async ({ page }) => {
  await openChat(page, 'jack');
  await page.goto('/r/Not%20A%20Room!');
  await expect(page.getByRole('heading', { name: 'No such room' })).toBeVisible();
});

for (const transport of ['websocket', 'long-polling', 'sse', 'ajax'] as const) {
  test(`the room list says how many are in the open room (the rooms command, over ${transport})`, async ({ page, browser, server }) => {
    const other = await browser.newContext({ baseURL: server.url });
    try {
      const room = `counted-${transport}`;
      await openChat(await other.newPage(), 'kate', `/r/${room}?transport=${transport}`);
      await openChat(page, 'liam', `/r/${room}?transport=${transport}`);
      await expect(page.getByRole('link', { name: room })).toContainText('2 online');
    } finally {
      await other.close();
    }
  });
}
