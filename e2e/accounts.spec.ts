/**
 * A name that is yours on every device: an account made on the welcome
 * screen, signed in to on a second browser (same rooms, private ones and
 * direct messages, read positions shared) and on a third with a passkey (a
 * CDP virtual authenticator), sessions ended from Settings; a guest who
 * keeps everything by claiming the name; a guest who cannot take it.
 *
 * Passkeys need a host name (WebAuthn refuses IP addresses), so these
 * browsers open the server as http://localhost.
 */
import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import { composer, connectionStatus, postMessage, sendMessage, storedMessage } from './support/chat.ts';
import { TALL, expect, test } from './support/fixtures.ts';

const PASSWORD = 'a long walk in the park';

interface Stored {
  token: string;
  userId: string;
  sessionId?: string;
  registered?: boolean;
}
const stored = async (page: Page) => JSON.parse((await page.evaluate(() => localStorage.getItem('fiberchat.session.v1'))) ?? '{}') as Stored;

function roomEntry(page: Page, label: string) {
  return page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: new RegExp(`^${label}(,|$)`) });
}
/** A room entry's accessible name without the trailing "N online". */
async function entryCounts(page: Page, label: string): Promise<string> {
  return ((await roomEntry(page, label).getAttribute('aria-label')) ?? '').replace(/, \d+ online$/, '');
}

async function welcome(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('tablist', { name: 'How to join' })).toBeVisible();
  return page;
}

async function passwordForm(page: Page, tab: 'Sign in' | 'Create account', name: string, password: string): Promise<void> {
  await page.getByRole('tab', { name: tab }).click();
  const form = page.getByRole('form', { name: tab === 'Sign in' ? 'Sign in' : 'Create an account' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: tab, exact: true }).click();
}

async function connected(page: Page): Promise<void> {
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  await expect(composer(page)).toBeVisible();
}

/** A platform authenticator with user verification, as a phone or laptop has, that answers without a prompt. */
async function virtualAuthenticator(context: BrowserContext, page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, id: authenticatorId };
}

async function openSettings(page: Page) {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('one account on three devices: the same rooms and read positions, a passkey, sessions ended from Settings', async ({ browser, server, person }) => {
  // Four browsers and three sign-ins: a bound for a stuck test, twice the usual one.
  test.setTimeout(120_000);
  const origin = `http://localhost:${server.port}`;
  const newContext = () => browser.newContext({ baseURL: origin, viewport: TALL });
  const contexts: BrowserContext[] = [];
  try {
    // Device 1: alice makes her account on the welcome screen.
    const one = await newContext();
    contexts.push(one);
    const a1 = await welcome(one);
    await passwordForm(a1, 'Create account', 'alice', PASSWORD);
    await connected(a1);
    const alice = await stored(a1);
    expect(alice.registered).toBe(true);
    await a1.goto('/r/meet');
    await connected(a1);

    // A private room of hers (made as a bot would) and a direct message with bob, a guest.
    const made = await fetch(`${server.url}/api/private-rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ title: 'Plans' }),
    });
    expect(made.status).toBe(200);
    const plans = ((await made.json()) as { room: string }).room;
    await postMessage(server.url, alice.token, plans, 'plans for saturday', 'plans-0001');
    const bob = await person('bob', '/r/meet');
    // bob is a member of Plans too, and reads it.
    const added = await fetch(`${server.url}/api/rooms/${plans}/members`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ userId: (await stored(bob.page)).userId }),
    });
    expect(added.status).toBe(200);
    await a1.getByRole('button', { name: 'Message bob' }).click();
    await expect(a1.getByRole('heading', { level: 1 })).toHaveText('Direct message with bob');
    const dm = new URL(a1.url()).pathname.replace(/^\/r\//, '');
    await sendMessage(a1, 'just us two');
    await a1.goto('/r/meet');
    await connected(a1);

    // Device 2: signing in shows the same person with the same rooms.
    const two = await newContext();
    contexts.push(two);
    const a2 = await welcome(two);
    await passwordForm(a2, 'Sign in', 'Alice', 'not the password');
    await expect(a2.getByRole('alert')).toHaveText('Wrong name or password.');
    await passwordForm(a2, 'Sign in', 'Alice', PASSWORD);
    await connected(a2);
    expect((await stored(a2)).userId).toBe(alice.userId);
    // Both read up to their last message on device 1: nothing is unread here.
    await expect.poll(() => entryCounts(a2, 'Plans')).toBe('Plans');
    await expect.poll(() => entryCounts(a2, 'bob')).toBe('bob');
    await roomEntry(a2, 'Plans').click();
    await expect(storedMessage(a2, 'plans for saturday')).toBeVisible();

    // bob writes; both of alice's devices count it; reading on one clears the other.
    await bob.page.goto(`/r/${dm}`);
    await connected(bob.page);
    await sendMessage(bob.page, 'are you there?');
    for (const p of [a1, a2]) await expect.poll(() => entryCounts(p, 'bob')).toBe('bob, 1 unread');
    await roomEntry(a1, 'bob').click();
    await expect(storedMessage(a1, 'are you there?')).toBeVisible();
    await expect.poll(() => entryCounts(a2, 'bob')).toBe('bob');

    // A passkey from Settings on device 1; device 3 holds a copy of it (as a synced passkey would be) and signs in with it.
    const auth1 = await virtualAuthenticator(one, a1);
    let settings = await openSettings(a1);
    await settings.getByRole('button', { name: 'Add a passkey' }).click();
    await expect(settings.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem')).toHaveCount(1);
    const { credentials } = await auth1.cdp.send('WebAuthn.getCredentials', { authenticatorId: auth1.id });
    expect(credentials).toHaveLength(1);
    const three = await newContext();
    contexts.push(three);
    const a3 = await welcome(three);
    const auth3 = await virtualAuthenticator(three, a3);
    await auth3.cdp.send('WebAuthn.addCredential', { authenticatorId: auth3.id, credential: credentials[0] as NonNullable<(typeof credentials)[0]> });
    await a3.getByRole('tab', { name: 'Sign in' }).click();
    await a3.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await connected(a3);
    expect((await stored(a3)).userId).toBe(alice.userId);

    // Settings lists the three sessions; ending device 2's signs it out at once, with the reason.
    await settings.getByRole('button', { name: 'Done' }).click();
    settings = await openSettings(a1);
    const list = settings.getByRole('list', { name: 'Sessions' });
    await expect(list.getByRole('listitem')).toHaveCount(3);
    await expect(list.getByRole('listitem').filter({ hasText: 'This device' })).toHaveCount(1);
    const { sessionId: second = '', token: secondToken } = await stored(a2);
    await list.locator(`[data-session="${second}"]`).getByRole('button', { name: /^Sign out/ }).click();
    await expect(a2.getByRole('status').filter({ hasText: 'this session was ended from another device' })).toBeVisible();
    await expect(a2.getByRole('tablist', { name: 'How to join' })).toBeVisible();
    await expect(list.getByRole('listitem')).toHaveCount(2);
    // The ended token is refused from then on.
    const old = await fetch(`${server.url}/api/account`, { headers: { authorization: `Bearer ${secondToken}` } });
    expect(old.status).toBe(401);

    await settings.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expect(list.getByRole('listitem')).toHaveCount(1);
    await expect(a3.getByRole('tablist', { name: 'How to join' })).toBeVisible();
    await expect(connectionStatus(a1)).toHaveText(/^Connected · /);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});

test('a guest keeps their name, rooms and private room by setting a password; nobody else can take the name', async ({ browser, server, person }) => {
  const carol = await person('carol', '/r/meet');
  const guest = await stored(carol.page);
  expect(guest.registered).toBeFalsy();
  const made = await fetch(`${server.url}/api/private-rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${guest.token}` },
    body: JSON.stringify({ title: 'Carol only' }),
  });
  expect(made.status).toBe(200);

  const settings = await openSettings(carol.page);
  const claim = settings.getByRole('form', { name: 'Keep your name' });
  await claim.getByLabel('New password').fill('password');
  await claim.getByRole('button', { name: 'Keep my name' }).click();
  await expect(claim.getByRole('alert')).toContainText('common');
  await claim.getByLabel('New password').fill(PASSWORD);
  await claim.getByRole('button', { name: 'Keep my name' }).click();
  await expect(settings.getByText('Signed in as')).toContainText('carol');
  await settings.getByRole('button', { name: 'Done' }).click();
  // Same person, same connection: the header offers to sign out now, not to change the name.
  expect(await stored(carol.page)).toMatchObject({ userId: guest.userId, registered: true });
  await expect(carol.page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(connectionStatus(carol.page)).toHaveText(/^Connected · /);

  const other = await browser.newContext({ baseURL: server.url, viewport: TALL });
  try {
    // A guest may not take the name, in any case or look-alike.
    const page = await welcome(other);
    await page.getByLabel('Nickname').fill('Carol');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect(page.getByRole('alert')).toHaveText('That name belongs to an account. Sign in, or pick another name.');
    // Signing in on this browser brings the private room along.
    await passwordForm(page, 'Sign in', 'carol', PASSWORD);
    await connected(page);
    expect((await stored(page)).userId).toBe(guest.userId);
    await expect(roomEntry(page, 'Carol only')).toBeVisible();
  } finally {
    await other.close();
  }
});
