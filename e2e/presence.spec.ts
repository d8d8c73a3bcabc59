import { composer, openChat, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

test('members, "is typing…", and a departure after the grace period', async ({ page, browser, server }) => {
  const bobContext = await browser.newContext({ baseURL: server.url });
  const bob = await bobContext.newPage();
  try {
    await openChat(page, 'alice', '/r/presence');
    await openChat(bob, 'bob', '/r/presence');
    await expect(page.getByText('2 online', { exact: true })).toBeVisible();

    // Typing is shown to the others, not to the typist, and ends when the message is sent.
    await composer(bob).pressSequentially('hello th');
    await expect(page.getByText('bob is typing…')).toBeVisible();
    await expect(bob.getByText('bob is typing…')).toHaveCount(0);
    await composer(bob).pressSequentially('ere');
    await composer(bob).press('Enter');
    await expect(storedMessage(page, 'hello there')).toBeVisible();
    await expect(page.getByText('bob is typing…')).toHaveCount(0);

    // Typing stops the moment the typist's connection goes.
    await composer(bob).pressSequentially('one more');
    await expect(page.getByText('bob is typing…')).toBeVisible();
    await bobContext.close();
    await expect(page.getByText('bob is typing…')).toHaveCount(0);
    // Presence keeps bob through a short grace period (no flapping on reconnect), then drops him.
    await expect(page.getByText('1 online', { exact: true })).toBeVisible({ timeout: 15_000 });
    await sendMessage(page, 'still here');
  } finally {
    await bobContext.close();
  }
});

test('an Ajax-polling user is a member like any other and sees who is here', async ({ page, browser, server }) => {
  const patContext = await browser.newContext({ baseURL: server.url });
  try {
    await openChat(page, 'alice', '/r/mixed');
    const pat = await patContext.newPage();
    await openChat(pat, 'pat', '/r/mixed?transport=ajax');
    await expect(pat.getByRole('status')).toHaveText('Connected · Ajax polling');
    await expect(page.getByText('2 online', { exact: true })).toBeVisible();
    await expect(pat.getByText('2 online', { exact: true })).toBeVisible();
    await composer(page).pressSequentially('hi pat');
    await expect(pat.getByText('alice is typing…')).toBeVisible();
  } finally {
    await patContext.close();
  }
});
