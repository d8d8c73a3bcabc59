import type { Page } from '@playwright/test';
import { connectionStatus, loggedMessages, messageLog, typeMessage } from './support/chat.ts';
import { expect, test, type Person } from './support/fixtures.ts';
import { report, statusTimeline } from './support/measure.ts';

const FORCED = [
  { name: 'kate', param: 'websocket', label: 'WebSocket' },
  { name: 'liam', param: 'polling', label: 'Long-polling' },
  { name: 'nico', param: 'sse', label: 'Server-Sent Events' },
  { name: 'mona', param: 'ajax', label: 'Ajax polling' },
] as const;

const PER_PHASE = 3;

/** Everyone types PER_PHASE messages at once, tagged with the phase; returns the texts in typed order. */
async function burst(people: readonly Person[], phase: string): Promise<string[]> {
  const typed: string[][] = await Promise.all(
    people.map(async (p) => {
      const texts: string[] = [];
      for (let i = 1; i <= PER_PHASE; i++) {
        const text = `${p.name} ${phase} ${i}`;
        texts.push(text);
        await typeMessage(p.page, text);
      }
      return texts;
    }),
  );
  return typed.flat();
}

/** When (ms since navigation) the status line last turned "Connected", looking back from the end. */
async function lastConnectedAt(page: Page): Promise<number> {
  const timeline = await statusTimeline(page);
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i];
    if (e?.text.startsWith('Connected') && !timeline[i - 1]?.text.startsWith('Connected')) return e.t;
  }
  return Number.NaN;
}

test('SIGKILL and a restart while people on all four transports keep typing: everyone ends with the same complete sequence, each message once', async ({
  server,
  person,
}, testInfo) => {
  // Four browsers, a kill and a restart: about 30 s alone, past 60 s beside another worker on a loaded machine.
  test.slow();
  const people: Person[] = [];
  for (const f of FORCED) people.push(await person(f.name, `/r/crash?transport=${f.param}`));
  for (const [i, f] of FORCED.entries()) await expect(connectionStatus(people[i]!.page)).toHaveText(`Connected · ${f.label}`);

  const typed: string[] = [];
  // Killed mid-burst: some messages are acked, some in flight, some not sent yet.
  const first = burst(people, 'before');
  await expect(messageLog(people[0]!.page).locator('[data-seq]').first()).toBeVisible();
  await server.kill();
  typed.push(...(await first));
  // Typed while the server is dead.
  typed.push(...(await burst(people, 'during')));
  await server.start();
  const restartedAt = await Promise.all(people.map((p) => p.page.evaluate(() => performance.now())));
  // Typed while everyone reconnects.
  typed.push(...(await burst(people, 'after')));

  const total = typed.length;
  for (const p of people) {
    await expect.poll(async () => (await loggedMessages(p.page)).length, { timeout: 30_000 }).toBe(total);
  }
  const views = await Promise.all(people.map((p) => loggedMessages(p.page)));
  const first0 = views[0]!;
  for (const v of views) expect(v).toEqual(first0);
  expect(first0.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect([...first0.map((m) => m.text)].sort()).toEqual([...typed].sort());
  // Each person's messages kept the order they were typed in.
  for (const p of people) {
    const own = first0.filter((m) => m.text.startsWith(`${p.name} `)).map((m) => m.text);
    expect(own).toEqual(typed.filter((t) => t.startsWith(`${p.name} `)));
  }
  for (const p of people) {
    await expect(messageLog(p.page).locator('[data-client-id]:not([data-seq])')).toHaveCount(0);
    await expect(p.page.getByLabel('Failed to send')).toHaveCount(0);
  }
  for (const [i, f] of FORCED.entries()) {
    const back = (await lastConnectedAt(people[i]!.page)) - restartedAt[i]!;
    report(testInfo, `reconnect after SIGKILL + restart: ${f.label}`, Math.max(0, back), 'from the server answering again');
  }
});
