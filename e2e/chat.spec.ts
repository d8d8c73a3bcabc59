import { composer, connectionStatus, messageLog, openChat, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

test('two people chat both ways and each sees the other', async ({ page, browser, server }) => {
  const bobContext = await browser.newContext({ baseURL: server.url });
  try {
    const bob = await bobContext.newPage();
    await openChat(page, 'alice');
    await openChat(bob, 'bob');

    await sendMessage(page, 'hi bob, alice here');
    await expect(storedMessage(bob, 'hi bob, alice here')).toBeVisible();
    await expect(storedMessage(bob, 'hi bob, alice here')).toContainText('alice');

    await sendMessage(bob, 'hello alice!');
    await expect(storedMessage(page, 'hello alice!')).toBeVisible();
    await expect(storedMessage(page, 'hello alice!')).toContainText('bob');

    // Each message shows once on both sides: the local echo and the broadcast copy merge.
    for (const p of [page, bob]) {
      await expect(messageLog(p).locator('[data-seq]')).toHaveCount(2);
      await expect(messageLog(p).locator('[data-client-id]:not([data-seq])')).toHaveCount(0);
    }
    // Both are in the room's member list.
    await expect(page.getByText('2 online', { exact: true })).toBeVisible();
  } finally {
    await bobContext.close();
  }
});

test('the status line names the live transport', async ({ page }) => {
  await openChat(page, 'carol');
  await expect(connectionStatus(page)).toHaveText('Connected · WebSocket');
});

test('markup in a message is shown as text, never run', async ({ page }) => {
  await openChat(page, 'mallory', '/r/xss');
  const payload = '<img src=x onerror="window.__pwned = 1"> <b>bold?</b>';
  await sendMessage(page, payload);
  const row = storedMessage(page, '<img src=x');
  await expect(row).toContainText(payload);
  await expect(messageLog(page).locator('img, b')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
});

test('Shift+Enter keeps a newline inside one message', async ({ page }) => {
  await openChat(page, 'dave', '/r/lines');
  await composer(page).fill('first line');
  await composer(page).press('Shift+Enter');
  await composer(page).pressSequentially('second line');
  await expect(composer(page)).toHaveValue('first line\nsecond line');
  await composer(page).press('Enter');
  const row = storedMessage(page, 'first line');
  await expect(row).toBeVisible();
  expect(await row.locator('.msg-text').innerText()).toBe('first line\nsecond line');
});

test('a refused session token sends the user back to the nickname form', async ({ page }) => {
  await page.addInitScript(() => {
    const forged = { token: 'forged', name: 'eve', userId: 'u-eve', expiresAt: Date.now() + 3_600_000 };
    localStorage.setItem('fiberchat.session.v1', JSON.stringify(forged));
  });
  await page.goto('/');
  await expect(page.getByRole('textbox', { name: 'Nickname' })).toHaveValue('eve');
  // Said above the ways in, whichever the user takes next.
  await expect(page.getByRole('status').filter({ hasText: 'session has expired' })).toBeVisible();
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
});

test('"Change name" starts a new session under another name', async ({ page }) => {
  await openChat(page, 'olivia', '/r/names');
  await sendMessage(page, 'as olivia');
  await page.getByRole('button', { name: 'Change name' }).click();
  await page.getByRole('textbox', { name: 'Nickname' }).fill('liv');
  await page.getByRole('textbox', { name: 'Nickname' }).press('Enter');
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  await sendMessage(page, 'as liv');
  await expect(storedMessage(page, 'as liv')).toContainText('liv (you)');
  // The earlier message is by another identity now: shown, but not as ours.
  await expect(storedMessage(page, 'as olivia')).not.toContainText('(you)');
});
