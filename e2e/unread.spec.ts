/**
 * "Never miss what matters": the user's rooms with unread and mention
 * counts, kept across reloads and tabs; read positions; the tab title; the
 * "New" divider; @mention completion; notifications; the two scrolling
 * defects (coming back to a room that moved on, sending while scrolled up).
 *
 * `SCREENSHOTS=1` also saves the README's pictures to docs/img/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { composer, connectionStatus, createSession, messageLog, openChat, postMessage, seedMessages, sendMessage, storedMessage } from './support/chat.ts';
import { expect, repoRoot, test } from './support/server.ts';

const SHOTS = process.env.SCREENSHOTS === '1' ? join(repoRoot, 'docs', 'img') : null;

/** Resolves once the log's scroll position and height have held still for 10 animation frames. */
async function untilScrollSettles(log: Locator): Promise<void> {
  await log.evaluate(
    (el) =>
      new Promise<void>((resolve) => {
        let still = 0;
        let last = '';
        const tick = () => {
          const now = `${el.scrollTop}:${el.scrollHeight}`;
          still = now === last ? still + 1 : 0;
          last = now;
          if (still >= 10) resolve();
          else requestAnimationFrame(tick);
        };
        tick();
      }),
  );
}

/** A room's entry in the side panel's room list. */
function roomEntry(page: Page, label: string) {
  return page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: new RegExp(`^${label}(,|$)`) });
}

/** The accessible name of a room's entry without the trailing "N online". */
async function entryCounts(page: Page, label: string): Promise<string> {
  const name = (await roomEntry(page, label).getAttribute('aria-label')) ?? '';
  return name.replace(/, \d+ online$/, '');
}

/** The signed-in user's id, from the stored session. */
function userIdOf(page: Page): Promise<string> {
  return page.evaluate(() => (JSON.parse(localStorage.getItem('fiberchat.session.v1') ?? '{}') as { userId: string }).userId);
}

/** Sends as a bot would, mentioning `mentions`. */
async function postMention(baseUrl: string, token: string, room: string, text: string, clientId: string, mentions: string[]): Promise<void> {
  const res = await fetch(`${baseUrl}/api/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ text, clientId, mentions }),
  });
  expect(res.status).toBe(200);
}

for (const transport of ['websocket', 'long-polling', 'sse', 'ajax'] as const) {
  test(`unread counts and mentions survive a reload and clear in every tab once read (${transport})`, async ({ page, browser, server }) => {
    const q = `?transport=${transport}`;
    // Each transport's run has a #design of its own (the server is shared by the file's tests).
    const design = transport === 'websocket' ? 'design' : `design-${transport}`;
    // alice is in #design (she said hello there) and looks at #lobby.
    await openChat(page, 'alice', `/r/${design}${q}`);
    await sendMessage(page, `hello design ${transport}`);
    await roomEntry(page, '#lobby').click();
    await expect(page.getByRole('heading', { name: 'lobby' })).toBeVisible();
    const tab2 = await page.context().newPage();
    await tab2.goto(`/${q}`);
    await expect(connectionStatus(tab2)).toHaveText(/^Connected · /);

    // bob writes twice, then once to @alice, completing her name from the keyboard.
    const bobContext = await browser.newContext({ baseURL: server.url });
    try {
      const bob = await bobContext.newPage();
      await openChat(bob, 'bob', `/r/${design}${q}`);
      await sendMessage(bob, 'first from bob');
      await sendMessage(bob, 'second from bob');
      await composer(bob).pressSequentially('@al');
      const options = bob.getByRole('listbox', { name: 'People to mention' });
      await expect(options.getByRole('option', { name: 'alice' })).toHaveAttribute('aria-selected', 'true');
      await expect(composer(bob)).toHaveAttribute('aria-activedescendant', /mention-option-0/);
      await composer(bob).press('Enter');
      await expect(options).toBeHidden();
      await expect(composer(bob)).toHaveValue('@alice ');
      await composer(bob).pressSequentially('look at this');
      await composer(bob).press('Enter');
      await expect(storedMessage(bob, '@alice look at this')).toBeVisible();
    } finally {
      await bobContext.close();
    }

    // 3 unread, 1 mention, in the list and the title; a mention mark is visible.
    for (const p of [page, tab2]) await expect.poll(() => entryCounts(p, `#${design}`)).toBe(`#${design}, 3 unread, 1 mention`);
    await expect(roomEntry(page, `#${design}`).locator('.mention-mark')).toBeVisible();
    await expect(page).toHaveTitle('(3) #lobby · Fiberchat');
    if (SHOTS && transport === 'websocket') {
      mkdirSync(SHOTS, { recursive: true });
      const box = await page.locator('#side-panel').boundingBox();
      if (box) await page.screenshot({ path: join(SHOTS, 'room-list-counts.png'), clip: { ...box, height: Math.min(box.height, 320) } });
    }

    // A reload keeps the room and its counts: the server has them.
    await page.reload();
    await expect(connectionStatus(page)).toHaveText(/^Connected · /);
    await expect.poll(() => entryCounts(page, `#${design}`)).toBe(`#${design}, 3 unread, 1 mention`);
    await expect(page).toHaveTitle('(3) #lobby · Fiberchat');

    // Opening #design starts at the "New" divider, above bob's first message; the mention is marked.
    await roomEntry(page, `#${design}`).click();
    const divider = messageLog(page).getByRole('separator', { name: 'New messages' });
    await expect(divider).toBeVisible();
    const first = storedMessage(page, 'first from bob');
    await expect(first).toBeInViewport();
    expect(await divider.evaluate((d) => d.parentElement?.querySelector('[data-seq]')?.textContent ?? '')).toContain('first from bob');
    await expect(storedMessage(page, '@alice look at this')).toHaveAttribute('data-mention', 'true');
    await expect(storedMessage(page, 'second from bob')).not.toHaveAttribute('data-mention', 'true');
    if (SHOTS && transport === 'websocket') await page.locator('main').screenshot({ path: join(SHOTS, 'new-divider.png') });

    // Read here, read everywhere: both tabs clear the count, and the titles lose theirs.
    for (const p of [page, tab2]) await expect.poll(() => entryCounts(p, `#${design}`)).toBe(`#${design}`);
    await expect(page).toHaveTitle(`#${design} · Fiberchat`);
    await expect(tab2).toHaveTitle('#lobby · Fiberchat');
  });
}

test('leaving a room removes it from the list, and Browse rooms finds it again', async ({ page }) => {
  await openChat(page, 'leaver', '/r/gardening');
  await sendMessage(page, 'tomatoes');
  await roomEntry(page, '#lobby').click();
  await expect(roomEntry(page, '#gardening')).toBeVisible();
  await page.getByRole('button', { name: 'Leave #gardening' }).click();
  await expect(roomEntry(page, '#gardening')).toHaveCount(0);
  await page.reload();
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  await expect(roomEntry(page, '#lobby')).toBeVisible();
  await expect(roomEntry(page, '#gardening')).toHaveCount(0);

  await page.getByRole('button', { name: 'Browse rooms' }).click();
  const dialog = page.getByRole('dialog', { name: 'Browse rooms' });
  await dialog.getByRole('searchbox', { name: 'Search rooms' }).fill('garden');
  const found = dialog.getByRole('button', { name: /gardening/ });
  await expect(found).toContainText(/online · active/);
  await found.click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(/\/r\/gardening/);
  await expect(storedMessage(page, 'tomatoes')).toBeVisible();
  // After switching rooms, focus is in the composer.
  await expect(composer(page)).toBeFocused();
});

for (const transport of ['websocket', 'ajax'] as const) {
  test(`coming back to a room that moved on opens at what is new, with a way down (${transport})`, async ({ page, server }) => {
    const room = `moved-${transport}`;
    const bot = await createSession(server.url, 'ticker');
    await seedMessages(server.url, bot.token, room, 30);
    await openChat(page, 'reader', `/r/${room}?transport=${transport}`);
    await expect(storedMessage(page, 'seed 30')).toBeInViewport();
    await roomEntry(page, '#lobby').click();
    await expect(page.getByRole('heading', { name: 'lobby' })).toBeVisible();
    for (let i = 1; i <= 40; i++) await postMessage(server.url, bot.token, room, `later ${String(i).padStart(2, '0')}`, `later-${room}-${i}`.padEnd(8, '0'));
    await expect.poll(() => entryCounts(page, `#${room}`)).toBe(`#${room}, 40 unread`);

    await roomEntry(page, `#${room}`).click();
    await expect(messageLog(page).getByRole('separator', { name: 'New messages' })).toBeInViewport();
    await expect(storedMessage(page, 'later 01')).toBeInViewport();
    await expect(storedMessage(page, 'later 40')).not.toBeInViewport();
    const jump = page.getByRole('button', { name: /^\d+ new messages? ↓$/ });
    await expect(jump).toBeVisible();
    await jump.click();
    await expect(storedMessage(page, 'later 40')).toBeInViewport();
    await expect(jump).toBeHidden();
    await expect.poll(() => entryCounts(page, `#${room}`)).toBe(`#${room}`);
  });
}

test('sending while scrolled up brings the own message into view, and no "new messages" button for it', async ({ page, server }) => {
  const bot = await createSession(server.url, 'filler');
  await seedMessages(server.url, bot.token, 'scrolled', 80);
  await openChat(page, 'writer', '/r/scrolled');
  const log = messageLog(page);
  await expect(storedMessage(page, 'seed 80')).toBeInViewport();
  // Let the list finish placing itself at the bottom, as a person would before scrolling.
  await untilScrollSettles(log);
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(log.getByText('This is the beginning of the conversation.')).toBeAttached();
  await untilScrollSettles(log);
  await expect(storedMessage(page, 'seed 80')).not.toBeInViewport();

  await composer(page).fill('my own words');
  await composer(page).press('Enter');
  await expect(storedMessage(page, 'my own words')).toBeInViewport();
  await expect(page.getByRole('button', { name: /new messages?/i })).toHaveCount(0);
});

test('a mention while the tab is hidden raises one notification, only once turned on, and it opens the room', async ({ page, context, server }) => {
  await context.grantPermissions(['notifications']);
  // Headless Chromium shows no notifications and no tab is ever hidden: record them, and hide on demand.
  await context.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    const shown: Array<{ title: string; body: string; click: () => void }> = [];
    let asked = 0;
    w.__shown = shown;
    w.__asked = () => asked;
    class RecordingNotification {
      static permission: NotificationPermission = 'default';
      static requestPermission(): Promise<NotificationPermission> {
        asked++;
        RecordingNotification.permission = 'granted';
        return Promise.resolve('granted');
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options: { body?: string }) {
        shown.push({ title, body: options.body ?? '', click: () => this.onclick?.() });
      }
      close(): void {}
    }
    Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true });
    let hidden = false;
    Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible'), configurable: true });
    Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden, configurable: true });
    w.__setHidden = (h: boolean) => {
      hidden = h;
      document.dispatchEvent(new Event('visibilitychange'));
    };
  });
  await openChat(page, 'nora', '/r/alerts');
  await roomEntry(page, '#lobby').click();
  const shown = () => page.evaluate(() => (window as unknown as { __shown: Array<{ title: string; body: string }> }).__shown.map((n) => `${n.title}: ${n.body}`));
  // Nothing is asked on a first visit.
  expect(await page.evaluate(() => (window as unknown as { __asked: () => number }).__asked())).toBe(0);

  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'Settings' });
  await settings.getByRole('checkbox', { name: 'Desktop notifications' }).check();
  await expect(settings.getByRole('checkbox', { name: 'Desktop notifications' })).toBeChecked();
  expect(await page.evaluate(() => (window as unknown as { __asked: () => number }).__asked())).toBe(1);
  await expect(settings.getByRole('checkbox', { name: 'Play a sound' })).not.toBeChecked();
  await settings.getByRole('button', { name: 'Done' }).click();

  await page.evaluate(() => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(true));
  const bob = await createSession(server.url, 'bob');
  const nora = await userIdOf(page);
  await postMessage(server.url, bob.token, 'alerts', 'just chatting', 'alert-plain-1');
  await postMessage(server.url, bob.token, 'alerts', 'still chatting', 'alert-plain-2');
  await postMention(server.url, bob.token, 'alerts', '@nora your turn', 'alert-mention-1', [nora]);
  await expect.poll(() => entryCounts(page, '#alerts')).toBe('#alerts, 3 unread, 1 mention');
  await expect(page).toHaveTitle('(3) #lobby · Fiberchat');
  await expect.poll(shown).toEqual(['bob mentioned you in #alerts: @nora your turn']);

  // Clicking it opens the room.
  await page.evaluate(() => (window as unknown as { __shown: Array<{ click: () => void }> }).__shown[0]?.click());
  await expect(page).toHaveURL(/\/r\/alerts/);
  expect(await shown()).toHaveLength(1);
});

test('dark mode follows the system until chosen, and the choice is remembered', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openChat(page, 'owl');
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(await background()).toBe('rgb(18, 20, 26)');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('dialog', { name: 'Settings' }).getByRole('radio', { name: 'Light' }).check();
  expect(await background()).toBe('rgb(243, 244, 248)');
  await page.reload();
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  expect(await background()).toBe('rgb(243, 244, 248)');
});

test('emptying the composer ends "is typing…" at once; Escape closes the narrow-screen drawer', async ({ page, browser, server }) => {
  const bobContext = await browser.newContext({ baseURL: server.url });
  try {
    const bob = await bobContext.newPage();
    await openChat(page, 'tess', '/r/typing-stop');
    await openChat(bob, 'bob', '/r/typing-stop');
    await composer(bob).pressSequentially('never mind');
    await expect(page.getByText('bob is typing…')).toBeVisible();
    await composer(bob).fill('');
    // Well inside the signal's 6 s lifetime: the stop ended it.
    await expect(page.getByText('bob is typing…')).toHaveCount(0, { timeout: 3000 });
  } finally {
    await bobContext.close();
  }

  await page.setViewportSize({ width: 420, height: 800 });
  const toggle = page.getByRole('button', { name: 'Rooms & people' });
  await toggle.click();
  const drawer = page.getByRole('complementary', { name: 'Rooms and people' });
  await expect(drawer).toBeVisible();
  await composer(page).focus();
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();
  await expect(toggle).toBeFocused();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
});
