/**
 * Search as a person uses it: the field in the header (Ctrl+K or /), results
 * grouped by room with the matched words marked, filters as chips, the
 * keyboard all the way to the message in its conversation, and results that
 * follow a delete while they are shown.
 */
import { composer, createSession, loggedMessages, messageLog, postMessage, sendMessage } from './support/chat.ts';
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

test('bob shares a host, alice finds it, opens it, and her results follow his edit; carol finds nothing of his private room', async ({ person }) => {
  const bob = await person('bob', '/r/design');
  // Bob's private room, with a message carol must never find.
  await bob.page.getByRole('textbox', { name: 'Title' }).fill('Launch');
  await bob.page.getByRole('button', { name: 'Create' }).click();
  await expect(bob.page.getByRole('heading', { level: 1 })).toHaveText('Private room Launch');
  await sendMessage(bob.page, 'deploy plan for the private launch');
  await bob.page.goto('/r/design');
  await sendMessage(bob.page, 'the deploy key is on ops.example.com');

  const alice = await person('alice', '/r/lobby');
  const field = alice.page.getByRole('searchbox', { name: 'Search messages' });
  const results = alice.page.getByRole('region', { name: 'Search results' });
  await field.click();
  await field.fill('ops.example.com');
  await expect(results.locator('.search-result')).toHaveCount(1);
  await expect(results.getByRole('region', { name: '#design' }).locator('mark')).toHaveText(['ops.example.com']);
  await field.press('ArrowDown');
  await alice.page.keyboard.press('Enter');
  await expect(alice.page).toHaveURL(/\/r\/design$/);
  const landed = messageLog(alice.page).locator('[data-seq="1"]');
  await expect(landed).toBeFocused();
  await expect(landed).toContainText('the deploy key is on ops.example.com');

  // Alice's results stay open while bob edits the message: they follow it.
  await field.click();
  await field.fill('deploy in:#design');
  await expect(results.locator('.search-result')).toHaveCount(1);
  await expect(results.locator('.search-result')).toContainText('ops.example.com');
  await composer(bob.page).press('ArrowUp');
  const editor = bob.page.getByRole('textbox', { name: 'Edit message' });
  await editor.fill('the deploy key moved to vault');
  await editor.press('Enter');
  await expect(results.locator('.search-result')).toContainText('the deploy key moved to vault');
  await expect(results.locator('.search-result')).not.toContainText('ops.example.com');

  // Carol, not in bob's private room, finds only the public message.
  const carol = await person('carol', '/r/lobby');
  const hers = carol.page.getByRole('searchbox', { name: 'Search messages' });
  await hers.click();
  await hers.fill('deploy');
  const found = carol.page.getByRole('region', { name: 'Search results' });
  await expect(found.getByRole('region', { name: '#design' })).toContainText('the deploy key moved to vault');
  await expect(found).not.toContainText('private launch');
  await expect(found.getByRole('region', { name: /Launch/ })).toHaveCount(0);
  // Bob, its owner, finds it.
  const his = bob.page.getByRole('searchbox', { name: 'Search messages' });
  await his.click();
  await his.fill('deploy');
  await expect(bob.page.getByRole('region', { name: 'Search results' })).toContainText('deploy plan for the private launch');
});

for (const transport of ['websocket', 'sse', 'ajax'] as const) {
  test(`a result far back opens in its context; scrolling down joins the live conversation with no gap or duplicate (${transport})`, async ({
    person,
    server,
  }) => {
    const room = `annals-${transport}-${test.info().repeatEachIndex}`;
    const bot = await createSession(server.url, 'historian');
    await post(server.url, bot.token, room, 'the zeppelin manifest is in the blue binder', `zeppelin-${room}`);
    for (let i = 2; i <= 700; i += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, k) => i + k).filter((n) => n <= 700).map((n) => post(server.url, bot.token, room, `entry ${n}`, `${room}-${String(n).padStart(4, '0')}`)));
    }
    const query = transport === 'websocket' ? '' : `?transport=${transport}`;
    const jo = await person('jo', `/r/${room}${query}`);
    const log = messageLog(jo.page);
    await expect(log.locator('[data-seq]').first()).toBeVisible();

    const field = jo.page.getByRole('searchbox', { name: 'Search messages' });
    await field.click();
    await field.fill(`zeppelin in:#${room}`);
    const results = jo.page.getByRole('region', { name: 'Search results' });
    await expect(results.locator('.search-result')).toHaveCount(1);
    await results.locator('.search-result').click();

    // The stretch around it, not the pages from the newest down: the message is there at once, highlighted.
    const found = log.locator('[data-seq="1"]');
    await expect(found).toBeVisible();
    await expect(found).toBeFocused();
    await expect(found).toContainText('the zeppelin manifest');
    await expect(log.locator('[data-seq="700"]')).toHaveCount(0);
    const jump = jo.page.getByRole('button', { name: 'Jump to present ↓' });
    await expect(jump).toBeVisible();

    // A message arriving meanwhile waits in the live tail; it is not put below the stretch.
    await post(server.url, bot.token, room, 'fresh news while reading old', `${room}-fresh`);
    await expect(log.getByText('fresh news while reading old')).toHaveCount(0);

    // Scrolling down loads newer pages until the stretch joins the live conversation.
    await expect
      .poll(
        async () => {
          await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
          return jump.count();
        },
        { timeout: 30_000, intervals: [150] },
      )
      .toBe(0);
    // Joined on: the rest is the live conversation, down to what arrived meanwhile.
    await expect
      .poll(
        async () => {
          await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
          return log.getByText('fresh news while reading old').count();
        },
        { timeout: 10_000, intervals: [150] },
      )
      .toBe(1);
    // Every message across the seam (the live tail started at 651) is there once, in order: read the rows
    // the virtual list renders while stepping up from the bottom.
    await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect(log.locator('[data-seq="701"]')).toBeVisible();
    const seen: number[] = [];
    for (let step = 0; step < 40 && !seen.includes(630); step++) {
      seen.push(...(await loggedMessages(jo.page)).map((m) => m.seq));
      await log.evaluate((el) => el.scrollBy({ top: -250 }));
      await jo.page.waitForTimeout(50);
    }
    const rows = [...new Set(seen)].sort((a, b) => a - b);
    expect(rows[0]).toBeLessThanOrEqual(630);
    expect(rows.at(-1)).toBe(701);
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, i) => (rows[0] ?? 0) + i));
    const texts = await loggedMessages(jo.page);
    expect(texts.filter((m) => m.text === 'fresh news while reading old').length).toBeLessThanOrEqual(1);

    // And back: opened afresh (only the newest page held), a result far back again, then
    // "Jump to present" goes straight to the newest.
    await jo.page.reload();
    await expect(log.getByText('fresh news while reading old')).toBeVisible();
    await field.fill(`zeppelin in:#${room}`);
    await results.locator('.search-result').click();
    await expect(found).toBeVisible();
    await jump.click();
    await expect(log.getByText('fresh news while reading old')).toBeVisible();
    await expect(jump).toHaveCount(0);
    await expect(found).toHaveCount(0);
  });
}

