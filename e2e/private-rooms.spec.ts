/**
 * Rooms you can close: a direct message between two people that a third,
 * signed in, cannot reach or learn of by any path; a private room its owner
 * opens to people by name or by link, and closes again.
 */
import type { Page } from '@playwright/test';
import { io } from 'socket.io-client';
import { connectionStatus, messageLog, sendMessage } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';
import { chooseAction, messageRow } from './support/messages.ts';

async function tokenOf(page: Page): Promise<{ token: string; userId: string }> {
  return JSON.parse((await page.evaluate(() => localStorage.getItem('fiberchat.session.v1'))) ?? '{}') as { token: string; userId: string };
}

function roomOf(page: Page): string {
  return decodeURIComponent(new URL(page.url()).pathname.replace(/^\/r\//, ''));
}

test('a direct message: alice and bob talk; carol, signed in, gets not_found on every path and learns nothing', async ({ person, server }) => {
  const alice = await person('alice', '/r/meet');
  const bob = await person('bob', '/r/meet');
  const carol = await person('carol', '/r/meet');

  // carol listens to everything the server tells her, from before the direct message exists.
  const { token: carolToken } = await tokenOf(carol.page);
  const heard: Array<{ event: string; payload: unknown }> = [];
  const spy = io(server.url, { path: '/socket.io', transports: ['websocket'], auth: { token: carolToken }, forceNew: true, reconnection: false });
  spy.onAny((event: string, payload: unknown) => heard.push({ event, payload }));
  await new Promise<void>((resolve, reject) => {
    spy.once('connect', () => resolve());
    spy.once('connect_error', reject);
  });
  try {
    await spy.emitWithAck('join', { room: 'meet' });

    // "Message" next to bob in the member list opens the direct message, titled with his name.
    await alice.page.getByRole('button', { name: 'Message bob' }).click();
    await expect(alice.page.getByRole('heading', { level: 1 })).toHaveText('Direct message with bob');
    const dm = roomOf(alice.page);
    expect(dm).toMatch(/^dm-/);
    await sendMessage(alice.page, 'just us two');
    // bob opens it from his side (his room list would show it; its address is the same for both).
    await bob.page.goto(`/r/${dm}`);
    await expect(bob.page.getByRole('heading', { level: 1 })).toHaveText('Direct message with alice');
    await expect(messageRow(bob.page, 'just us two')).toBeVisible();
    await sendMessage(bob.page, 'secret reply');
    await expect(messageRow(alice.page, 'secret reply')).toBeVisible();
    await alice.page.getByRole('textbox', { name: 'Message' }).pressSequentially('typing…');

    // Every path carol can take answers exactly as for a room that does not exist.
    const ack = async (event: string, payload: unknown) => {
      const res = (await spy.emitWithAck(event, payload)) as { ok: boolean; error?: { code: string } };
      return res.ok ? 'ok' : res.error?.code;
    };
    const socketPaths = {
      join: await ack('join', { room: dm }),
      resume: await ack('join', { room: dm, since: 0, epoch: 'x' }),
      history: await ack('history', { room: dm, before: 100 }),
      send: await ack('send', { room: dm, text: 'let me in', clientId: 'carol-try-1' }),
      typing: await ack('typing', { room: dm }),
      react: await ack('react', { room: dm, target: 1, emoji: '👀', on: true, clientId: 'carol-try-2' }),
      edit: await ack('edit', { room: dm, target: 1, text: 'mine now', clientId: 'carol-try-3' }),
      delete: await ack('delete', { room: dm, target: 1, clientId: 'carol-try-4' }),
      members: await ack('members', { room: dm }),
      read: await ack('read', { room: dm, seq: 1 }),
      inviteLink: await ack('inviteLink', { room: dm }),
      guessed: await ack('join', { room: `dm-${'0'.repeat(24)}` }),
    };
    expect(socketPaths).toEqual(Object.fromEntries(Object.keys(socketPaths).map((k) => [k, 'not_found'])));

    const auth = { authorization: `Bearer ${carolToken}`, 'content-type': 'application/json' };
    const rest = {
      read: (await fetch(`${server.url}/api/rooms/${dm}/messages?after=0`, { headers: auth })).status,
      page: (await fetch(`${server.url}/api/rooms/${dm}/messages`, { headers: auth })).status,
      post: (await fetch(`${server.url}/api/rooms/${dm}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text: 'x', clientId: 'carol-rest-1' }) })).status,
      members: (await fetch(`${server.url}/api/rooms/${dm}/members`, { headers: auth })).status,
    };
    expect(rest).toEqual({ read: 404, page: 404, post: 404, members: 404 });
    const directory = (await (await fetch(`${server.url}/api/rooms`, { headers: auth })).json()) as { rooms: Array<{ room: string }> };
    expect(directory.rooms.map((r) => r.room)).not.toContain(dm);
    const mine = (await (await fetch(`${server.url}/api/rooms/mine`, { headers: auth })).json()) as { rooms: Array<{ room: string }> };
    expect(mine.rooms.map((r) => r.room)).not.toContain(dm);

    // carol guesses the address in the browser: nothing of the conversation shows.
    await carol.page.goto(`/r/${dm}`);
    await expect(connectionStatus(carol.page)).toHaveText(/^Connected · /);
    await expect(carol.page.getByRole('alert')).toHaveText("This room is private or doesn't exist.");
    await expect(carol.page.getByRole('heading', { level: 1 })).toHaveText('Direct message');
    const carolSees = await carol.page.locator('body').innerText();
    for (const secret of ['just us two', 'secret reply', 'alice', 'bob']) expect(carolSees).not.toContain(secret);

    // Nothing carol's connection heard mentions the room or its words.
    const said = JSON.stringify(heard);
    expect(said).not.toContain(dm);
    expect(said).not.toContain('just us two');
    expect(said).not.toContain('secret reply');
  } finally {
    spy.disconnect();
  }
});

test('a private room: its owner invites by name and by link, revokes the link, deletes any message and removes members', async ({ person }) => {
  // Four browsers and some twenty steps, each bounded by the expect timeout: on a
  // loaded two-core machine the whole takes 40 to 70 s, past the 60 s default bound.
  test.setTimeout(120_000);
  const olive = await person('olive', '/r/hall');
  const bert = await person('bert', '/r/hall');
  const cleo = await person('cleo', '/r/hall?transport=ajax');
  const dora = await person('dora', '/r/hall');

  await olive.page.getByRole('textbox', { name: 'Title' }).fill('Launch plans');
  await olive.page.getByRole('button', { name: 'Create' }).click();
  await expect(olive.page.getByRole('heading', { level: 1 })).toHaveText('Private room Launch plans');
  await expect(olive.page).toHaveTitle('Launch plans · Fiberchat');
  const room = roomOf(olive.page);
  expect(room).toMatch(/^p-[0-9a-f]{16}$/);
  const members = olive.page.getByRole('region', { name: 'Members' });
  await expect(members.locator('.member')).toHaveText([/olive.*you.*owner/]);

  // Invite bert by name.
  await olive.page.getByRole('textbox', { name: 'Invite people' }).fill('be');
  await olive.page.getByRole('button', { name: 'Search' }).click();
  await olive.page.getByRole('button', { name: 'Invite bert' }).click();
  await expect(members.locator('.member')).toHaveText([/olive/, /bert/]);
  await bert.page.goto(`/r/${room}`);
  await expect(bert.page.getByRole('heading', { level: 1 })).toHaveText('Private room Launch plans');

  // Invite cleo by link; she opens it and lands in the room.
  await olive.page.getByRole('button', { name: 'Copy invite link' }).click();
  const link = await olive.page.getByRole('textbox', { name: 'Invite link 1' }).inputValue();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]+$/);
  await cleo.page.goto(`${new URL(link).pathname}?transport=ajax`);
  await expect(cleo.page.getByRole('heading', { level: 1 })).toHaveText('Private room Launch plans');
  expect(roomOf(cleo.page)).toBe(room);

  // Revoked, the link opens nothing.
  await olive.page.getByRole('button', { name: 'Revoke invite link 1' }).click();
  await expect(olive.page.getByRole('textbox', { name: 'Invite link 1' })).toHaveCount(0);
  await dora.page.goto(new URL(link).pathname);
  await expect(dora.page.getByRole('alert')).toContainText('not valid');

  // The owner may delete anyone's message here.
  await sendMessage(bert.page, 'bert was here');
  await expect(messageRow(olive.page, 'bert was here')).toBeVisible();
  await chooseAction(messageRow(olive.page, 'bert was here'), 'Delete');
  await olive.page.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(messageLog(bert.page).locator('[data-seq="1"]')).toContainText('removed by a moderator');

  // Removed, bert (WebSocket) and cleo (Ajax polling) are told, and leave the room.
  await members.getByRole('button', { name: 'Remove bert' }).click();
  await members.getByRole('button', { name: 'Remove cleo' }).click();
  await expect(members.locator('.member')).toHaveText([/olive/]);
  for (const p of [bert.page, cleo.page]) {
    await expect(p.getByRole('alert')).toContainText('You were removed from Launch plans.');
    await expect(p.getByRole('heading', { level: 1 })).toHaveText('#lobby');
  }
  await sendMessage(olive.page, 'after they left');
  // A message of their own in the lobby makes a round trip after olive's was committed: anything
  // the private room still sent them would have arrived before its answer.
  await sendMessage(bert.page, 'bert back in the lobby');
  await sendMessage(cleo.page, 'cleo back in the lobby');
  for (const p of [bert.page, cleo.page]) await expect(p.locator('body')).not.toContainText('after they left');
});
