/**
 * What a person does in the chat, as helpers over role and name locators,
 * plus REST helpers to prepare data the way a bot would.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import type { SessionOk } from '../../shared/protocol.ts';

export function messageLog(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' });
}

export function composer(page: Page): Locator {
  return page.getByRole('textbox', { name: 'Message' });
}

export function connectionStatus(page: Page): Locator {
  return page.getByRole('status');
}

/** A stored (acked) message in the log with this text. */
export function storedMessage(page: Page, text: string): Locator {
  return messageLog(page).locator('[data-seq]', { hasText: text });
}

/** Opens `path` signed in as `name` (through `?name=`) and waits until connected. */
export async function openChat(page: Page, name: string, path = '/'): Promise<void> {
  const sep = path.includes('?') ? '&' : '?';
  await page.goto(`${path}${sep}name=${encodeURIComponent(name)}`);
  await expect(connectionStatus(page)).toHaveText(/^Connected · /);
  await expect(composer(page)).toBeVisible();
}

/** Types and sends with Enter, then waits until the server acked it (it gets a seq). */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect(composer(page)).toHaveValue('');
  await expect(storedMessage(page, text)).toBeVisible();
}

export type ApiSession = SessionOk;

export async function createSession(baseUrl: string, name: string): Promise<ApiSession> {
  const res = await fetch(`${baseUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as ApiSession;
}

/** Posts one message through the REST endpoint as a bot would, waiting out rate limits. */
export async function postMessage(baseUrl: string, token: string, room: string, text: string, clientId: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${baseUrl}/api/rooms/${room}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text, clientId }),
    });
    if (res.status === 429) {
      const body = (await res.json()) as { error?: { retryAfterMs?: number } };
      await new Promise((r) => setTimeout(r, body.error?.retryAfterMs ?? 100));
      continue;
    }
    expect(res.status, `posting "${text}"`).toBe(200);
    return;
  }
}

/** Posts "seed 1" … "seed N" in order, so seq n carries "seed n" in a fresh room. */
export async function seedMessages(baseUrl: string, token: string, room: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await postMessage(baseUrl, token, room, `seed ${i}`, `seed-${room}-${i}`.padEnd(8, '0'));
}

/** Types and sends with Enter without waiting for the ack (as someone typing on). */
export async function typeMessage(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect(composer(page)).toHaveValue('');
}

/** The stored messages the log shows, top to bottom: seq and text. */
export async function loggedMessages(page: Page): Promise<Array<{ seq: number; text: string }>> {
  return messageLog(page)
    .locator('[data-seq]')
    .evaluateAll((rows) =>
      rows.map((row) => ({ seq: Number(row.getAttribute('data-seq')), text: row.querySelector('.msg-text')?.textContent ?? '' })),
    );
}
