import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in a real browser against a real server. Each test file
 * starts its own server on a free port with a fresh data directory (see
 * e2e/support/server.ts); the client is built once in global setup.
 * Browsers come from the system (Debian's Chromium); none is downloaded.
 */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  // Prints the fallback settle times and send-to-receive latencies the run measured.
  globalTeardown: './e2e/global-teardown.ts',
  workers: 2,
  retries: 0,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  // A bound for a stuck test, not a speed target. The four-browser scenarios
  // (SIGKILL and restart with people on all four transports; the transport
  // matrix) take about 30 s alone and are marked slow (three times this).
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  outputDir: 'test-results/e2e-artifacts',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
