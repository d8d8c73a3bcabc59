/**
 * Links and formatting as a reader meets them: URLs become links that open
 * in a new tab with no handle on the chat; the Markdown subset renders; and
 * nothing hostile (in texts, names, titles, link targets, Markdown) runs,
 * with the page's Content-Security-Policy and Trusted Types violation-free.
 */
import type { Page } from '@playwright/test';
import { messageLog, openChat, sendMessage } from './support/chat.ts';
import { expect, test } from './support/fixtures.ts';
import { sendRaw } from './support/messages.ts';

/** Traps for anything a payload could run: `window.__xss`, alert and friends, dialogs, CSP and Trusted Types reports. */
async function armTraps(page: Page): Promise<() => Promise<string[]>> {
  const caught: string[] = [];
  page.on('dialog', (d) => {
    caught.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Trusted Type|Refused to/i.test(msg.text())) caught.push(`console: ${msg.text()}`);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __xss?: string; __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    for (const name of ['alert', 'confirm', 'prompt'] as const) {
      window[name] = ((...args: unknown[]) => {
        w.__xss = `${name}(${args.join(',')})`;
      }) as never;
    }
  });
  return async () => {
    const inPage = await page.evaluate(() => {
      const w = window as unknown as { __xss?: string; __violations: string[] };
      return [...(w.__xss === undefined ? [] : [`__xss: ${w.__xss}`]), ...w.__violations];
    });
    return [...caught, ...inPage];
  };
}

const PAYLOADS = [
  '[click me](javascript:alert(1))',
  '[click me too](JAVASCRIPT:window.__xss=1)',
  '[data link](data:text/html,<script>alert(1)</script>)',
  '<img src=x onerror=alert(1)>',
  '<script>window.__xss=1</script>',
  '`<script>alert(1)</script>`',
  '```\n<img src=x onerror=alert(1)>\n```',
  '<a href="javascript:alert(1)">raw anchor</a>',
  '<javascript:alert(1)>',
  '<https://example.com/"onmouseover="alert(1)>',
  'https://example.com/"><img src=x onerror=alert(1)>',
  '[x](https://example.com" onclick="alert(1))',
  '![img](https://example.com/x.png" onerror="alert(1))',
  '**<svg onload=alert(1)>**',
  '> <iframe src="javascript:alert(1)">',
];

test('links open in a new tab with no opener and no referrer; the Markdown subset renders', async ({ person, server }) => {
  const ann = await person('ann', '/r/format');
  const ben = await person('ben', '/r/format');
  await sendRaw(ann.page, `see ${server.url}/healthz and **bold** *it* ~~gone~~ \`code\``);
  await sendRaw(ann.page, '```\nconst a = 1;\n```');
  await sendRaw(ann.page, '> quoted\n\n- one\n- two\n\n1. first\n2. second');
  await sendRaw(ann.page, '# not a heading\n[docs](https://example.com/docs) <mailto:ann@example.com>');

  const log = messageLog(ben.page);
  const link = log.getByRole('link', { name: `${server.url}/healthz` });
  await expect(link).toHaveAttribute('href', `${server.url}/healthz`);
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(log.locator('strong')).toHaveText('bold');
  await expect(log.locator('em')).toHaveText('it');
  await expect(log.locator('del')).toHaveText('gone');
  await expect(log.locator('p > code')).toHaveText('code');
  await expect(log.locator('pre > code')).toHaveText('const a = 1;');
  expect(await log.locator('pre').evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/i);
  await expect(log.locator('blockquote')).toHaveText('quoted');
  await expect(log.locator('ul > li')).toHaveText(['one', 'two']);
  await expect(log.locator('ol > li')).toHaveText(['first', 'second']);
  await expect(log.getByText('# not a heading')).toBeVisible();
  await expect(log.locator('h1, h2, h3, h4, h5, h6')).toHaveCount(0);
  await expect(log.getByRole('link', { name: 'docs' })).toHaveAttribute('href', 'https://example.com/docs');
  await expect(log.getByRole('link', { name: 'mailto:ann@example.com' })).toHaveAttribute('href', 'mailto:ann@example.com');

  // Clicked, the link opens a new tab that cannot reach back into the chat and was not told where it came from.
  const [tab] = await Promise.all([ben.context.waitForEvent('page'), link.click()]);
  await tab.waitForLoadState();
  expect(await tab.evaluate(() => [window.opener === null, document.referrer])).toEqual([true, '']);
  await tab.close();
});

test('hostile texts, names, titles and link targets execute nothing and break no policy', async ({ browser, server }) => {
  const contexts = [await browser.newContext({ baseURL: server.url }), await browser.newContext({ baseURL: server.url })];
  try {
    const [attacker, reader] = await Promise.all(contexts.map((c) => c.newPage()));
    if (!attacker || !reader) throw new Error('no page');
    const checks = [await armTraps(attacker), await armTraps(reader)];
    await openChat(attacker, '<img src=x onerror=alert(1)>', '/r/xss');
    await openChat(reader, 'reader', '/r/xss');
    for (const text of PAYLOADS) await sendRaw(attacker, text);
    await sendMessage(attacker, 'payloads sent');
    await expect(messageLog(reader).locator('[data-seq]')).toHaveCount(PAYLOADS.length + 1);

    // The author's name is text; no payload became an element that runs or loads anything, or a link anywhere unsafe.
    await expect(messageLog(reader).getByText('<img src=x onerror=alert(1)>').first()).toBeVisible();
    const log = messageLog(reader);
    await expect(log.locator('img, script, iframe, svg, object, embed')).toHaveCount(0);
    const hrefs = await log.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    for (const href of hrefs) expect(href).toMatch(/^(https?:\/\/|mailto:)/);
    const handlers = await log.locator('*').evaluateAll((els) => els.flatMap((el) => [...el.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')));
    expect(handlers).toEqual([]);
    // Clicking what looks like a link runs nothing.
    for (const name of ['click me', 'click me too', 'data link', 'raw anchor']) {
      const el = log.getByText(name).first();
      if (await el.count()) await el.click();
    }

    // A private room's title and a search are text too.
    await attacker.getByRole('textbox', { name: 'Title' }).fill('<svg onload=alert(1)>');
    await attacker.getByRole('button', { name: 'Create' }).click();
    await expect(attacker.getByRole('heading', { level: 1 })).toHaveText('Private room <svg onload=alert(1)>');
    await expect(attacker.getByRole('region', { name: 'Members' })).toContainText('<img src=x onerror=alert(1)>');

    for (const check of checks) expect(await check()).toEqual([]);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});
