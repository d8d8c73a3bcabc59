import { connectionStatus, openChat, sendMessage, storedMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

const forced = [
  { param: 'polling', label: 'Connected · Long-polling' },
  { param: 'ajax', label: 'Connected · Ajax polling' },
] as const;

for (const { param, label } of forced) {
  test(`?transport=${param} chats over ${label.split(' · ')[1]}`, async ({ page, browser, server }) => {
    const room = `via-${param}`;
    await openChat(page, `${param}-user`, `/r/${room}?transport=${param}`);
    await expect(connectionStatus(page)).toHaveText(label);

    const other = await browser.newContext({ baseURL: server.url });
    try {
      const peer = await other.newPage();
      await openChat(peer, 'ws-user', `/r/${room}`);
      await sendMessage(page, `sent over ${param}`);
      await expect(storedMessage(peer, `sent over ${param}`)).toBeVisible();
      await sendMessage(peer, `reply to ${param}`);
      await expect(storedMessage(page, `reply to ${param}`)).toBeVisible();
    } finally {
      await other.close();
    }
  });
}

test('a WebSocket that never answers falls back to long-polling', async ({ page }) => {
  // Like a proxy that accepts the upgrade and then forwards nothing.
  await page.routeWebSocket(/\/socket\.io\//, () => {});
  await openChat(page, 'nina', '/r/fallback');
  await expect(connectionStatus(page)).toHaveText('Connected · Long-polling');
  await sendMessage(page, 'through the fallback');
});
