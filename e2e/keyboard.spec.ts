import { composer, connectionStatus, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

test('a keyboard alone is enough: sign in, send, and reach the room switcher', async ({ page }) => {
  await page.goto('/');
  const nickname = page.getByRole('textbox', { name: 'Nickname' });
  // The first Tab stop (or autofocus) is the nickname field.
  if (!(await nickname.evaluate((el) => el === document.activeElement))) await page.keyboard.press('Tab');
  await expect(nickname).toBeFocused();
  await page.keyboard.type('keys');
  await page.keyboard.press('Enter');
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);

  // Focus lands in the composer, or is one Tab stop away at most.
  for (let i = 0; i < 20 && !(await composer(page).evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(composer(page)).toBeFocused();
  await page.keyboard.type('typed without a mouse');
  await page.keyboard.press('Enter');
  await expect(storedMessage(page, 'typed without a mouse')).toBeVisible();

  // Every control is reachable with Tab, and the focused one is visibly marked.
  const roomName = page.getByRole('textbox', { name: 'Room name' });
  for (let i = 0; i < 30 && !(await roomName.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(roomName).toBeFocused();
  const outline = await roomName.evaluate((el) => {
    const s = getComputedStyle(el);
    return `${s.outlineStyle} ${s.outlineWidth} ${s.boxShadow}`;
  });
  expect(outline).not.toBe('none 0px none');
  await page.keyboard.type('kbd-room');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/r\/kbd-room$/);
  await expect(page.getByRole('heading', { name: /kbd-room/ })).toBeVisible();
});
