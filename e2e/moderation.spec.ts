/**
 * Moderation as people see it: a moderator removes a spam message and mutes
 * its author; everyone sees the tombstone and the line saying what was done,
 * and the muted person's next message is refused with when the mute ends.
 * The moderator acts through the REST routes (as a bot or the moderator's
 * own client would); the room is public, so without ADMINS its first poster
 * owns it.
 */
import { composer, connectionStatus, messageLog, sendMessage } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';
import type { Page } from '@playwright/test';

const TRANSPORTS = [
  { param: 'websocket', label: 'WebSocket' },
  { param: 'ajax', label: 'Ajax polling' },
] as const;

async function tokenOf(page: Page): Promise<string> {
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem('fiberchat.session.v1'))) ?? '{}') as { token: string; userId: string };
  return session.token;
}

async function moderate(url: string, token: string, room: string, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${url}/api/rooms/${room}/moderation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

for (const t of TRANSPORTS) {
  test(`on ${t.label}: a moderator removes spam and mutes its author; the muted send is refused with when it ends`, async ({ person, server }) => {
    const room = `civil-${t.param}`;
    const alice = await person('alice', `/r/${room}?transport=${t.param}`);
    const carol = await person('carol', `/r/${room}?transport=${t.param}`);
    for (const p of [alice, carol]) await expect(connectionStatus(p.page)).toHaveText(`Connected · ${t.label}`);
    await sendMessage(alice.page, 'welcome, everyone');
    await sendMessage(carol.page, 'BUY CHEAP STUFF');
    const spam = messageLog(alice.page).locator('[data-seq]', { hasText: 'BUY CHEAP STUFF' });
    await expect(spam).toBeVisible();
    const seq = Number(await spam.getAttribute('data-seq'));
    const carolId = JSON.parse((await carol.page.evaluate(() => localStorage.getItem('fiberchat.session.v1'))) ?? '{}') as { userId: string };

    const token = await tokenOf(alice.page);
    expect(await moderate(server.url, token, room, { action: 'delete', target: seq, reason: 'spam' })).toBe(200);
    expect(await moderate(server.url, token, room, { action: 'mute', userId: carolId.userId, seconds: 600 })).toBe(200);

    for (const p of [alice, carol]) {
      const log = messageLog(p.page);
      await expect(log.locator(`[data-seq="${seq}"]`)).toContainText('removed by a moderator');
      await expect(log.locator(`[data-seq="${seq}"]`)).not.toContainText('BUY CHEAP STUFF');
      await expect(log.getByRole('note').filter({ hasText: 'alice muted carol for 10 minutes' })).toBeVisible();
    }

    // carol's next message is refused, saying until when (in her clock), and kept for her to retry later.
    await composer(carol.page).fill('am I still here?');
    await composer(carol.page).press('Enter');
    const refused = messageLog(carol.page).locator('.msg', { hasText: 'am I still here?' });
    await expect(refused).toContainText(/Not sent: You are muted in this room until \d\d:\d\d/);
    await expect(refused.getByRole('button', { name: 'Retry' })).toBeVisible();
    await expect(messageLog(alice.page).locator('.msg', { hasText: 'am I still here?' })).toHaveCount(0);
  });
}
