import { connectionStatus, loggedMessages, openChat, sendMessage, typeMessage } from './support/chat.ts';
import { expect, test, type Person } from './support/fixtures.ts';
import { installRecorder, median, report, seenTimes, sentTimes, settledAt } from './support/measure.ts';

const FORCED = [
  { name: 'wes', param: 'websocket', label: 'WebSocket' },
  { name: 'polly', param: 'polling', label: 'Long-polling' },
  { name: 'stella', param: 'sse', label: 'Server-Sent Events' },
  { name: 'ajay', param: 'ajax', label: 'Ajax polling' },
] as const;

test('four people on the four forced transports see the same messages in the same order', async ({ person }, testInfo) => {
  // Four browsers and 28 messages, each calm one awaited in all four: past the default budget on a loaded machine.
  test.slow();
  const room = 'four-ways';
  const people: Person[] = [];
  for (const f of FORCED) people.push(await person(f.name, `/r/${room}?transport=${f.param}`));
  for (const [i, f] of FORCED.entries()) await expect(connectionStatus(people[i]!.page)).toHaveText(`Connected · ${f.label}`);

  // Everyone types at once, four times over.
  const ROUNDS = 4;
  for (let r = 1; r <= ROUNDS; r++) await Promise.all(people.map((p) => typeMessage(p.page, `${p.name} burst ${r}`)));
  // Then one at a time, each waiting until all four have it: these give clean latency figures.
  const CALM = 3;
  for (let r = 1; r <= CALM; r++) {
    for (const p of people) {
      const text = `${p.name} calm ${r}`;
      await typeMessage(p.page, text);
      for (const q of people) await expect(q.page.locator('[data-seq]', { hasText: text })).toBeVisible();
    }
  }

  const total = (ROUNDS + CALM) * people.length;
  for (const p of people) await expect.poll(async () => (await loggedMessages(p.page)).length).toBe(total);
  const views = await Promise.all(people.map((p) => loggedMessages(p.page)));
  const first = views[0]!;
  expect(first.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  for (const v of views) expect(v).toEqual(first);
  for (const p of people) {
    const own = first.filter((m) => m.text.startsWith(`${p.name} `)).map((m) => m.text);
    expect(own).toEqual([
      ...Array.from({ length: ROUNDS }, (_, i) => `${p.name} burst ${i + 1}`),
      ...Array.from({ length: CALM }, (_, i) => `${p.name} calm ${i + 1}`),
    ]);
  }

  // Send-to-receive latency per pair of transports, over the calm messages.
  const sent = await Promise.all(people.map((p) => sentTimes(p.page)));
  const seen = await Promise.all(people.map((p) => seenTimes(p.page)));
  for (const [i, from] of FORCED.entries()) {
    for (const [j, to] of FORCED.entries()) {
      const samples = Object.entries(sent[i]!)
        .filter(([text]) => text.includes(' calm '))
        .map(([text, t]) => (seen[j]![text] ?? Number.NaN) - t)
        .filter(Number.isFinite);
      const metric = i === j ? `latency ${from.label}: own message acked and shown` : `latency ${from.label} → ${to.label}`;
      report(testInfo, metric, median(samples), `median of ${samples.length}, one at a time`);
    }
  }
});

test('a WebSocket that never answers falls back to long-polling', async ({ page }, testInfo) => {
  // Like a proxy that accepts the upgrade and then forwards nothing.
  await page.routeWebSocket(/\/socket\.io\//, () => {});
  await installRecorder(page);
  await openChat(page, 'nina', '/r/fallback');
  await expect(connectionStatus(page)).toHaveText('Connected · Long-polling');
  await expect(connectionStatus(page)).toHaveAttribute('title', /WebSocket did not connect in time/);
  report(testInfo, 'fallback settle: WebSocket hangs → Long-polling', await settledAt(page), 'status names it');
  await sendMessage(page, 'through the fallback');
});
