import { connectionStatus, loggedMessages, messageLog, sendMessage, typeMessage } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';

test('someone who goes offline, types three messages and comes back delivers each exactly once, in order, to everyone', async ({
  person,
}) => {
  const room = '/r/offline';
  const olga = await person('olga', room);
  const ben = await person('ben', `${room}?transport=polling`);
  const ada = await person('ada', `${room}?transport=ajax`);
  await sendMessage(olga.page, 'before going offline');

  await olga.context.setOffline(true);
  await expect(connectionStatus(olga.page)).toHaveText('Offline');
  for (const n of [1, 2, 3]) await typeMessage(olga.page, `offline ${n}`);
  // Shown at once, as sending, in the order typed.
  const pending = messageLog(olga.page).locator('[data-client-id]:not([data-seq])');
  await expect(pending).toHaveText([/offline 1/, /offline 2/, /offline 3/]);
  await expect(pending.getByLabel('Sending')).toHaveCount(3);
  // Meanwhile the others keep chatting.
  await sendMessage(ben.page, 'ben while olga is away');

  await olga.context.setOffline(false);
  await expect(connectionStatus(olga.page)).toHaveText(/^Connected · /);
  const expected = ['before going offline', 'ben while olga is away', 'offline 1', 'offline 2', 'offline 3'];
  for (const p of [olga, ben, ada]) {
    await expect.poll(async () => (await loggedMessages(p.page)).map((m) => m.text)).toEqual(expected);
  }
  const views = await Promise.all([olga, ben, ada].map((p) => loggedMessages(p.page)));
  for (const v of views) expect(v).toEqual(views[0]);
  expect(views[0]?.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  await expect(pending).toHaveCount(0);

  // Nothing is sent again by a reload.
  await olga.page.reload();
  await expect(connectionStatus(olga.page)).toHaveText(/^Connected · /);
  await expect.poll(async () => (await loggedMessages(olga.page)).map((m) => m.text)).toEqual(expected);
  await expect(pending).toHaveCount(0);
});
