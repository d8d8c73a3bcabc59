/**
 * Search as a person uses it: the field in the header (Ctrl+K or /), results
 * grouped by room with the matched words marked, filters as chips, the
 * keyboard all the way to the message in its conversation, and results that
 * follow a delete while they are shown.
 */
import { composer, createSession, messageLog, postMessage } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';

async function post(url: string, token: string, room: string, text: string, clientId: string): Promise<void> {
  await postMessage(url, token, room, text, clientId.padEnd(8, '0'));
}

test('search finds a message far back, by keyboard, and opens it in its conversation', async ({ person, server }) => {
  const bot = await createSession(server.url, 'archivist');
  await post(server.url, bot.token, 'findings', 'the deploy key is on the wiki at api.example.com', 'deploy-key');
  for (let i = 1; i <= 120; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, k) => post(server.url, bot.token, 'findings', `routine note ${i + k}`, `note-${i + k}`)));
  }
  await post(server.url, bot.token, 'elsewhere', 'a key to something else entirely', 'other-key');
  const hana = await person('hana', '/r/lobby');

  await composer(hana.page).click();
  await hana.page.keyboard.press('Control+k');
  const field = hana.page.getByRole('searchbox', { name: 'Search messages' });
  await expect(field).toBeFocused();
  await field.fill('deploy key');
  const results = hana.page.getByRole('region', { name: 'Search results' });
  const group = results.getByRole('region', { name: '#findings' });
  await expect(group.locator('.search-result')).toHaveCount(1);
  await expect(group.locator('mark')).toHaveText(['deploy', 'key']);
  await expect(results.getByRole('region', { name: '#elsewhere' })).toHaveCount(0);

  // A word with punctuation inside is found whole, and by its pieces.
  await field.fill('example');
  await expect(group.locator('mark')).toHaveText(['example']);

  await field.press('ArrowDown');
  const first = group.locator('.search-result').first();
  await expect(first).toBeFocused();
  await hana.page.keyboard.press('Enter');
  await expect(hana.page).toHaveURL(/\/r\/findings$/);
  const original = messageLog(hana.page).locator('[data-seq="1"]');
  await expect(original).toBeVisible({ timeout: 20_000 });
  await expect(original).toBeFocused();
  await expect(original).toContainText('the deploy key is on the wiki');
});

test('filters show as chips; no results suggests dropping one; a deleted message leaves the results', async ({ person, server }) => {
  const bot = await createSession(server.url, 'keeper');
  await post(server.url, bot.token, 'notes', 'lunch is at noon today', 'lunch-1');
  await post(server.url, bot.token, 'notes', 'the noon meeting moved', 'meeting-1');
  const ivan = await person('ivan', '/r/notes');
  await expect(messageLog(ivan.page).locator('[data-seq="2"]')).toBeVisible();

  // "/" types a slash in the composer; anywhere else it goes to the search.
  await ivan.page.getByRole('heading', { level: 1 }).click();
  await ivan.page.keyboard.press('/');
  const field = ivan.page.getByRole('searchbox', { name: 'Search messages' });
  await expect(field).toBeFocused();
  await field.fill('noon in:#nowhere');
  const chips = ivan.page.getByRole('list', { name: 'Filters' });
  await expect(chips.getByRole('listitem')).toHaveText(['in: #nowhere×']);
  const results = ivan.page.getByRole('region', { name: 'Search results' });
  await expect(results.getByRole('status')).toHaveText('No messages match.');
  await results.getByRole('button', { name: 'in: #nowhere' }).click();
  await expect(field).toHaveValue('noon');
  await expect(results.locator('.search-result')).toHaveCount(2);

  // Deleted while shown: the result goes.
  const del = await fetch(`${server.url}/api/rooms/notes/deletes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bot.token}` },
    body: JSON.stringify({ target: 1, clientId: 'delete-lunch-1' }),
  });
  expect(del.status).toBe(200);
  await expect(results.locator('.search-result')).toHaveCount(1);
  await expect(results.locator('.search-result')).toContainText('the noon meeting moved');

  // Escape closes the results and leaves focus in the field.
  await field.press('Escape');
  await expect(results).toHaveCount(0);
  await expect(field).toBeFocused();
});
