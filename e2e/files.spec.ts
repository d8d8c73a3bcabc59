/**
 * Files as people share them: an image pasted into the composer shows as a
 * thumbnail for the others, opens in a viewer and downloads as the same
 * bytes; a phone photo loses its GPS position; HTML and SVG only ever
 * download; and a private room's files stay private, by URL too.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import sharp from 'sharp';
import { composer, createSession, messageLog } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Pastes `bytes` as a file into the composer, as Ctrl+V of a copied screenshot does. */
async function pasteFile(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  await composer(page).evaluate(
    (box, { b64, name, type }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    },
    { b64: bytes.toString('base64'), name, type },
  );
}

async function tokenOf(page: Page): Promise<string> {
  return page.evaluate(() => (JSON.parse(localStorage.getItem('fiberchat.session.v1') ?? '{}') as { token: string }).token);
}

for (const transport of ['websocket', 'ajax'] as const) {
  test(`a pasted image shows inline for the others, opens in a viewer and downloads as sent; a photo loses its GPS; HTML and SVG only download (${transport})`, async ({
    person,
  }) => {
    const room = `shots-${transport}-${test.info().repeatEachIndex}`;
    const query = transport === 'websocket' ? '' : '?transport=ajax';
    const alice = await person('alice', `/r/${room}${query}`);
    const bob = await person('bob', `/r/${room}${query}`);

    const screenshot = await sharp({ create: { width: 800, height: 500, channels: 3, background: { r: 30, g: 120, b: 200 } } }).png().toBuffer();
    await pasteFile(alice.page, screenshot, 'image.png', 'image/png');
    const pending = alice.page.getByRole('list', { name: 'Files to send' });
    await expect(pending.getByText('ready')).toBeVisible();
    await composer(alice.page).fill('the new dashboard');
    await composer(alice.page).press('Enter');
    const sentAt = Date.now();
    await expect(composer(alice.page)).toHaveValue('');
    await expect(pending).toHaveCount(0);

    // Bob: the thumbnail, laid out at its size before it loads. How long after the send it showed is recorded; on a
    // live connection it is well under a second on an idle machine, and the bound here leaves room for a shared CI
    // machine (Ajax polling adds up to its poll interval).
    const row = messageLog(bob.page).locator('.msg', { hasText: 'the new dashboard' });
    const thumb = row.getByRole('button', { name: 'Open image image.png' });
    await expect(thumb.locator('img')).toBeVisible();
    await expect.poll(() => thumb.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const shownMs = Date.now() - sentAt;
    test.info().annotations.push({ type: 'thumbnail shown after (ms)', description: String(shownMs) });
    if (transport === 'websocket') expect(shownMs).toBeLessThan(3000);
    expect(await thumb.evaluate((b) => [b.getBoundingClientRect().width, b.getBoundingClientRect().height].map(Math.round))).toEqual([320, 200]);

    // The viewer: opens on a click, closes with Escape; the original downloads with the same bytes.
    await thumb.click();
    const viewer = bob.page.getByRole('dialog', { name: /Image 1 of 1: image\.png/ });
    await expect(viewer.locator('img')).toBeVisible();
    const [download] = await Promise.all([bob.page.waitForEvent('download'), viewer.getByRole('button', { name: 'Download original' }).click()]);
    expect(download.suggestedFilename()).toBe('image.png');
    expect(sha(await readFile(await download.path()))).toBe(sha(screenshot));
    await bob.page.keyboard.press('Escape');
    await expect(viewer).toHaveCount(0);

    // A phone photo through the paperclip: what others get has no EXIF (no GPS position).
    const photo = await sharp({ create: { width: 400, height: 300, channels: 3, background: 'orange' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'PhoneCo' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 3/1' } })
      .toBuffer();
    const markup = [
      { name: 'invite.html', mimeType: 'text/html', buffer: Buffer.from('<!doctype html><script>document.title = "ran"</script>') },
      { name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>document.title = "ran"</script></svg>') },
    ];
    await alice.page.locator('.composer input[type=file]').setInputFiles([{ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: photo }, ...markup]);
    await expect(pending.getByText('ready')).toHaveCount(3);
    await composer(alice.page).press('Enter');

    const second = messageLog(bob.page).locator('.msg', { has: bob.page.getByRole('button', { name: 'Open image holiday.jpg' }) });
    await second.getByRole('button', { name: 'Open image holiday.jpg' }).click();
    const photoViewer = bob.page.getByRole('dialog', { name: /holiday\.jpg/ });
    // The arrow keys step through the room's images.
    await bob.page.keyboard.press('ArrowLeft');
    await expect(bob.page.getByRole('dialog', { name: /Image 1 of 2: image\.png/ })).toBeVisible();
    await bob.page.keyboard.press('ArrowRight');
    await expect(photoViewer).toBeVisible();
    const [photoDownload] = await Promise.all([bob.page.waitForEvent('download'), photoViewer.getByRole('button', { name: 'Download original' }).click()]);
    const served = await readFile(await photoDownload.path());
    const meta = await sharp(served).metadata();
    expect(meta.exif).toBeUndefined();
    expect(served.includes(Buffer.from('PhoneCo'))).toBe(false);
    await bob.page.keyboard.press('Escape');

    // HTML and SVG: a name and a size that download; nothing renders, nothing opens.
    for (const f of markup) {
      const chip = second.getByRole('button', { name: new RegExp(`^Download ${f.name.replace('.', '\\.')}`) });
      const [saved] = await Promise.all([bob.page.waitForEvent('download'), chip.click()]);
      expect(saved.suggestedFilename()).toBe(f.name);
      expect((await readFile(await saved.path())).equals(f.buffer)).toBe(true);
    }
    expect(bob.context.pages()).toHaveLength(1);
    expect(await bob.page.title()).not.toBe('ran');
    // Fetched as a browser would navigate to it: an attachment, sandboxed.
    const token = await tokenOf(bob.page);
    const html = await bob.page.evaluate(
      async ({ token }) => {
        const res = await fetch(`/api/rooms/${location.pathname.split('/').pop()}/history?before=1000`, { headers: { authorization: `Bearer ${token}` } });
        const page = (await res.json()) as { messages: Array<{ attachments?: Array<{ name: string; url: string }> }> };
        const file = page.messages.flatMap((m) => m.attachments ?? []).find((a) => a.name === 'invite.html');
        const got = await fetch(file?.url ?? '', { headers: { authorization: `Bearer ${token}` } });
        return { type: got.headers.get('content-type'), disposition: got.headers.get('content-disposition'), csp: got.headers.get('content-security-policy') };
      },
      { token },
    );
    expect(html).toEqual({ type: 'application/octet-stream', disposition: expect.stringMatching(/^attachment;/), csp: "sandbox; default-src 'none'" });
  });
}

test("a private room's file is 404 to a stranger by its URL, and to a member once removed", async ({ person, server }) => {
  const bob = await createSession(server.url, 'bob');
  const api = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` }, body: JSON.stringify(body) });
  const created = (await (await api('/api/private-rooms', { title: 'Vault' })).json()) as { room: string };
  const alice = await person('alice', '/r/lobby');
  const carol = await person('carol', '/r/lobby');
  const aliceId = await alice.page.evaluate(() => (JSON.parse(localStorage.getItem('fiberchat.session.v1') ?? '{}') as { userId: string }).userId);
  expect((await api(`/api/rooms/${created.room}/members`, { userId: aliceId })).status).toBe(200);

  const form = new FormData();
  form.append('file', new Blob([Buffer.from('%PDF-1.4\n% the plan\n')]), 'plan.pdf');
  const up = await fetch(`${server.url}/api/rooms/${created.room}/files`, { method: 'POST', headers: { authorization: `Bearer ${bob.token}` }, body: form });
  expect(up.status).toBe(201);
  const { file } = (await up.json()) as { file: { id: string; url: string } };
  expect((await api(`/api/rooms/${created.room}/messages`, { text: 'the plan', clientId: 'plan-00001', attachments: [file.id] })).status).toBe(200);

  const statusFor = async (page: Page) =>
    page.evaluate(
      async ({ url, token }) => (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status,
      { url: file.url, token: await tokenOf(page) },
    );
  // Alice sees it in the room, and can read it.
  await alice.page.goto(`/r/${created.room}`);
  await expect(messageLog(alice.page).getByRole('button', { name: /^Download plan\.pdf/ })).toBeVisible();
  expect(await statusFor(alice.page)).toBe(200);
  // Carol has the URL but not the room.
  expect(await statusFor(carol.page)).toBe(404);
  // Removed, alice has neither.
  expect((await api(`/api/rooms/${created.room}/members/remove`, { userId: aliceId })).status).toBe(200);
  expect(await statusFor(alice.page)).toBe(404);
});

test('a message waiting for its files when the page closes is not lost in silence: the browser asks first, and the text comes back with the files named', async ({ person }) => {
  const room = `unsent-${test.info().repeatEachIndex}`;
  const alice = await person('alice', `/r/${room}`);
  // The upload never finishes: its request is held.
  await alice.page.route('**/api/rooms/*/files', () => {});
  await alice.page.locator('.composer input[type=file]').setInputFiles([{ name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%quarterly\n') }]);
  await composer(alice.page).fill('the quarterly report');
  await composer(alice.page).press('Enter');
  await expect(alice.page.getByRole('button', { name: 'Uploading…' })).toBeVisible();

  const dialogs: string[] = [];
  alice.page.on('dialog', (d) => {
    dialogs.push(d.type());
    void d.accept();
  });
  await alice.page.reload();
  expect(dialogs).toEqual(['beforeunload']);
  await expect(alice.page.getByRole('alert').filter({ hasText: 'Not sent' })).toHaveText(
    'Not sent: the page closed while report.pdf was uploading. Your text is back; attach the file again to send.',
  );
  await expect(composer(alice.page)).toHaveValue('the quarterly report');
  await expect(messageLog(alice.page).locator('.msg', { hasText: 'the quarterly report' })).toHaveCount(0);
  // Read once: the next visit is a clean composer.
  await alice.page.reload();
  await expect(alice.page.getByRole('alert').filter({ hasText: 'Not sent' })).toHaveCount(0);
});

