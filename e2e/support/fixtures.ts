/**
 * Test fixtures beyond the per-file server: hostile proxies in front of it,
 * and extra people, each in their own browser context (own storage, own
 * network), with the timing recorder installed. Everything a test starts
 * here is closed when the test ends, whatever its outcome.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { openChat } from './chat.ts';
import { installRecorder } from './measure.ts';
import { TestProxy, type ProxyPolicy } from './proxy.ts';
import { test as serverTest } from './server.ts';

/** A window tall enough for the whole conversation of a matrix test. */
export const TALL = { width: 1000, height: 2400 };

export interface Person {
  name: string;
  page: Page;
  context: BrowserContext;
}

export interface Fixtures {
  /** Starts a proxy in front of the file's server. */
  startProxy: (policy?: Partial<ProxyPolicy>) => Promise<TestProxy>;
  /** Opens the chat as `name` at `path` in a new browser context, on `origin` (default: the server). */
  person: (name: string, path: string, origin?: string) => Promise<Person>;
}

export const test = serverTest.extend<Fixtures>({
  startProxy: async ({ server }, use) => {
    const started: TestProxy[] = [];
    await use(async (policy) => {
      const p = await TestProxy.start(server.port, policy);
      started.push(p);
      return p;
    });
    await Promise.all(started.map((p) => p.close()));
  },
  person: async ({ browser, server }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (name, path, origin = server.url) => {
      // Tall, so the virtual message list renders every row these tests compare.
      const context = await browser.newContext({ baseURL: origin, viewport: TALL });
      contexts.push(context);
      const page = await context.newPage();
      await installRecorder(page);
      await openChat(page, name, path);
      return { name, page, context };
    });
    await Promise.all(contexts.map((c) => c.close()));
  },
});

export { expect } from '@playwright/test';
