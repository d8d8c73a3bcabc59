/**
 * What a person does to messages besides sending them (edit, delete, react,
 * reply), through the message's actions menu as a keyboard or mouse user
 * would, and REST helpers for the protocol 2.0 commands.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { composer, messageLog, storedMessage } from './chat.ts';

/** The stored message whose text is exactly `text` (a Markdown-free message). */
export function messageRow(page: Page, text: string): Locator {
  return storedMessage(page, text).filter({ has: page.locator('.msg-text', { hasText: new RegExp(`^${escape(text)}$`) }) });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens a message's actions menu and picks one item. */
export async function chooseAction(row: Locator, action: 'Reply' | 'React' | 'Edit' | 'Delete'): Promise<void> {
  await row.hover();
  await row.getByRole('button', { name: /^Actions for the message from / }).click();
  await row.getByRole('menuitem', { name: action }).click();
}

/** The row of the stored message with exactly `text`, by its seq, so it stays found while its text changes. */
export async function rowBySeq(page: Page, text: string): Promise<Locator> {
  const seq = await messageRow(page, text).getAttribute('data-seq');
  return messageLog(page).locator(`[data-seq="${seq}"]`);
}

/** Edits a message through its menu: the editor replaces the text, Enter saves. */
export async function editMessage(page: Page, text: string, next: string): Promise<void> {
  const row = await rowBySeq(page, text);
  await chooseAction(row, 'Edit');
  const editor = row.getByRole('textbox', { name: 'Edit message' });
  await editor.fill(next);
  await editor.press('Enter');
  await expect(row).toContainText(next);
  await expect(row.locator('.msg-edited')).toHaveText('edited');
}

/** Deletes a message through its menu, confirming in the dialog. */
export async function deleteMessage(page: Page, text: string): Promise<void> {
  const row = await rowBySeq(page, text);
  await chooseAction(row, 'Delete');
  await page.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(row).toContainText('message deleted');
}

/** Adds a reaction from the picker. */
export async function reactTo(page: Page, text: string, emoji: string): Promise<void> {
  const row = await rowBySeq(page, text);
  await chooseAction(row, 'React');
  await row.getByRole('button', { name: `React with ${emoji}` }).click();
  await expect(row.getByRole('button', { name: new RegExp(`^${emoji} \\d+: .*you reacted$`) })).toBeVisible();
}

/** The resume point the open room's copy has reached (every entry up to it seen). */
export async function resumePoint(page: Page): Promise<number> {
  return Number(await page.locator('main[data-last-seq]').getAttribute('data-last-seq'));
}

/** Every entry of a room's log, read over REST from the start (as a bot would). */
export async function readLog(baseUrl: string, token: string, room: string): Promise<Array<{ seq: number; kind?: string; text: string }>> {
  const out: Array<{ seq: number; kind?: string; text: string }> = [];
  for (;;) {
    const after = out.at(-1)?.seq ?? 0;
    const res = await fetch(`${baseUrl}/api/rooms/${room}/messages?after=${after}&limit=200`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { lastSeq: number; messages: Array<{ seq: number; kind?: string; text: string }> };
    out.push(...page.messages);
    if (page.messages.length === 0 || (out.at(-1)?.seq ?? 0) >= page.lastSeq) return out;
  }
}

/** Types into the composer and sends, as `sendMessage` does, for texts whose row shows rendered Markdown. */
export async function sendRaw(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect(composer(page)).toHaveValue('');
}
