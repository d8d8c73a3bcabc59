import type { Page } from '@playwright/test';
import { composer, connectionStatus, openChat, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

/** The session this browser keeps, as stored. */
async function storedSession(page: Page): Promise<{ token: string; userId: string; name: string } | null> {
  return page.evaluate(() => {
    const raw = localStorage.getItem('fiberchat.session.v1');
    return raw === null ? null : (JSON.parse(raw) as { token: string; userId: string; name: string });
  });
}

test('a ?name= link opened while signed in asks first: "Stay" keeps the identity and its token, "Switch" changes it', async ({ page }) => {
  await openChat(page, 'alice', '/r/identity');
  const alice = await storedSession(page);
  expect(alice).toMatchObject({ name: 'alice' });

  // Someone sends alice a link that would sign her in as bob.
  await page.goto('/r/identity?name=bob');
  const dialog = page.getByRole('alertdialog', { name: 'Switch identity?' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("You're signed in as alice. Switch to bob?");
  // Keyboard first: focus starts on the choice that loses nothing.
  await expect(dialog.getByRole('button', { name: 'Stay as alice' })).toBeFocused();
  // alice stays connected behind the question, under her own session.
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  expect(await storedSession(page)).toEqual(alice);
  await expect(page).toHaveURL(/[?&]name=bob/);

  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(page).not.toHaveURL(/name=/);
  expect(await storedSession(page)).toEqual(alice);
  await expect(composer(page)).toBeFocused();
  await sendMessage(page, 'still alice');
  await expect(storedMessage(page, 'still alice')).toContainText('alice (you)');

  // Escape is "Stay" too.
  await page.goto('/r/identity?name=bob');
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(await storedSession(page)).toEqual(alice);

  // Only an explicit "Switch" replaces the identity.
  await page.goto('/r/identity?name=bob');
  await dialog.getByRole('button', { name: 'Switch to bob' }).click();
  await expect(dialog).toBeHidden();
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  await expect(page).not.toHaveURL(/name=/);
  const bob = await storedSession(page);
  expect(bob).toMatchObject({ name: 'bob' });
  expect(bob?.userId).not.toBe(alice?.userId);
  expect(bob?.token).not.toBe(alice?.token);
  await sendMessage(page, 'now bob');
  await expect(storedMessage(page, 'now bob')).toContainText('bob (you)');
  await expect(storedMessage(page, 'still alice')).not.toContainText('(you)');
});

test('a ?name= with the name already in use asks nothing', async ({ page }) => {
  await openChat(page, 'carol', '/r/identity-same');
  const carol = await storedSession(page);
  await page.goto('/r/identity-same?name=%20carol%20');
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  await expect(page).not.toHaveURL(/name=/);
  await expect(page.getByRole('alertdialog')).toHaveCount(0);
  expect(await storedSession(page)).toEqual(carol);
});
