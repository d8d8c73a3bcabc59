import type { Page } from '@playwright/test';
import { displayTag } from '../shared/protocol.ts';
import { composer, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';

async function userIdOf(page: Page): Promise<string> {
  const id = await page.evaluate(() => (JSON.parse(localStorage.getItem('fiberchat.session.v1') ?? '{}') as { userId?: string }).userId);
  if (!id) throw new Error('not signed in');
  return id;
}

test('two people of one name are told apart by a tag everywhere, and "(you)" follows the userId', async ({ person }) => {
  const first = await person('sam', '/r/twins');
  const second = await person('sam', '/r/twins');
  const firstId = await userIdOf(first.page);
  const secondId = await userIdOf(second.page);
  const firstTag = displayTag(firstId);
  const secondTag = displayTag(secondId);
  expect(firstTag).not.toBe(secondTag);

  await sendMessage(first.page, 'from the first sam');
  await sendMessage(second.page, 'from the second sam');
  // The first sam sees both messages tagged, and only the own one as "(you)".
  await expect(storedMessage(first.page, 'from the first sam').locator('.msg-author')).toHaveText(`sam ${firstTag} (you)`);
  await expect(storedMessage(first.page, 'from the second sam').locator('.msg-author')).toHaveText(`sam ${secondTag}`);
  await expect(storedMessage(second.page, 'from the first sam').locator('.msg-author')).toHaveText(`sam ${firstTag}`);
  await expect(storedMessage(second.page, 'from the second sam').locator('.msg-author')).toHaveText(`sam ${secondTag} (you)`);

  // So do the member list and the own name in the top bar.
  const member = (id: string) => first.page.locator(`.member[data-user-id="${id}"]`);
  await expect(member(firstId).locator('.name-tag')).toHaveText(firstTag);
  await expect(member(firstId)).toContainText(`sam ${firstTag} you`);
  await expect(member(secondId).locator('.name-tag')).toHaveText(secondTag);
  await expect(member(secondId)).not.toContainText('you');
  await expect(first.page.locator('.me')).toHaveText(`sam ${firstTag}`);

  // The typing indicator tags the typist too.
  await composer(second.page).pressSequentially('still typ');
  await expect(first.page.getByText(`sam ${secondTag} is typing…`)).toBeVisible();
});

test('a right-to-left name is isolated and message text takes its own direction', async ({ person }) => {
  const writer = await person('\u05e9\u05e8\u05d4', '/r/bidi'); // "Sarah" in Hebrew
  await sendMessage(writer.page, '\u05e9\u05dc\u05d5\u05dd 123');
  const row = storedMessage(writer.page, '\u05e9\u05dc\u05d5\u05dd');
  await expect(row.locator('.msg-author bdi')).toHaveText('\u05e9\u05e8\u05d4');
  await expect(row.locator('.msg-text')).toHaveAttribute('dir', 'auto');
  expect(await row.locator('.msg-text').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
});

test('a name or a message the shared rules refuse is explained before anything is sent', async ({ page }) => {
  const sessionRequests: string[] = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/api/session')) sessionRequests.push(req.method());
  });
  await page.goto('/');
  const nickname = page.getByRole('textbox', { name: 'Nickname' });
  await nickname.fill('al\u200bice');
  await nickname.press('Enter');
  await expect(page.getByRole('alert')).toHaveText("Names can't contain invisible characters");
  await expect(nickname).toHaveAttribute('aria-invalid', 'true');
  await expect(nickname).toBeFocused();
  await nickname.fill('   ');
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByRole('alert')).toHaveText('Enter a name');
  expect(sessionRequests).toEqual([]);

  // A link with a refused name, opened signed out, says why instead of asking the server.
  await page.goto('/?name=%E2%80%AEecila');
  await expect(page.getByRole('alert')).toHaveText("Names can't contain text-direction controls");
  expect(sessionRequests).toEqual([]);

  await nickname.fill('alice');
  await nickname.press('Enter');
  await expect(composer(page)).toBeVisible();
  await composer(page).fill('hello \u202egnihtemos');
  await composer(page).press('Enter');
  await expect(page.getByRole('alert')).toHaveText("Your message has text-direction controls that can't be sent");
});
