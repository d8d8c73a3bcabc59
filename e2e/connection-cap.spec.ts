import { io, type Socket } from 'socket.io-client';
import { SETTINGS } from '../server/config.ts';
import { composer, connectionStatus, openChat, sendMessage } from './support/chat.ts';
import { expect, test } from './support/server.ts';

/** The cap on one identity's open connections the test server runs with (its default). */
const MAX_CONNECTIONS_PER_IDENTITY = SETTINGS.maxConnectionsPerIdentity.default;

/**
 * The server refuses a handshake past its per-address or per-identity
 * connection cap with socket.io's CONNECT_ERROR `too_many_connections`. Here
 * the first WebSocket is answered that way in front of the real server (an
 * engine.io open, then the refusal), and every later one is passed through.
 */
test('a connection refused by the cap waits long, stays on WebSocket, says why, then connects', async ({ page }) => {
  const opened: number[] = [];
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    opened.push(Date.now());
    if (opened.length > 1) {
      ws.connectToServer();
      return;
    }
    // engine.io OPEN ("0" + handshake), as the server would send it.
    ws.send(`0${JSON.stringify({ sid: 'capped', upgrades: [], pingInterval: 10_000, pingTimeout: 10_000, maxPayload: 1_000_000 })}`);
    ws.onMessage((message) => {
      // socket.io CONNECT ("40" + auth) is answered with CONNECT_ERROR ("44").
      if (typeof message === 'string' && message.startsWith('40')) ws.send('44{"message":"too_many_connections"}');
    });
  });
  const fallbacks: string[] = [];
  page.on('request', (req) => {
    if (/transport=polling|\/api\/rooms\//.test(req.url())) fallbacks.push(req.url());
  });

  await page.goto('/r/capped?name=cleo');
  await expect(connectionStatus(page)).toHaveText('Too many connections from this address or account; retrying…');
  // Typing still works while waiting; the message goes once connected.
  await composer(page).fill('queued behind the cap');
  await composer(page).press('Enter');

  await expect(connectionStatus(page)).toHaveText('Connected · WebSocket', { timeout: 20_000 });
  expect(opened).toHaveLength(2);
  const [first, second] = opened as [number, number];
  // The refusal's pause (10 s by default) was kept, less a little for the clock's resolution.
  expect(second - first).toBeGreaterThanOrEqual(9_500);
  // Nothing tried to get around the refusal on long-polling or Ajax.
  expect(fallbacks).toEqual([]);
  await expect(page.locator('[data-seq]', { hasText: 'queued behind the cap' })).toBeVisible();
  await sendMessage(page, 'and more after it');
});

test('against the real server: a tab past the per-identity cap waits and says why, and gets in once a connection closes', async ({ page, context, server }) => {
  await openChat(page, 'dana', '/r/cap-real');
  const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('fiberchat.session.v1') ?? '{}') as { token: string }).token);
  // The identity's other connections (other tabs, other devices) fill the cap with this page's own.
  const others: Socket[] = [];
  try {
    for (let i = 1; i < MAX_CONNECTIONS_PER_IDENTITY; i++) {
      const s = io(server.url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
      others.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
    }
    const tab = await context.newPage();
    await tab.goto('/r/cap-real');
    await expect(connectionStatus(tab)).toHaveText('Too many connections from this address or account; retrying…');
    // The first tab is not disturbed.
    await sendMessage(page, 'the first tab still chats');

    others.pop()?.disconnect();
    await expect(connectionStatus(tab)).toHaveText(/^Connected · /, { timeout: 20_000 });
    await expect(tab.locator('[data-seq]', { hasText: 'the first tab still chats' })).toBeVisible();
  } finally {
    for (const s of others) s.disconnect();
  }
});
