import { defineConfig } from '@playwright/test';
import base from './playwright.config.ts';

/**
 * The browser matrix against a cluster (three nodes on PostgreSQL and Redis
 * behind HAProxy, one per test file; see e2e/support/cluster-server.ts):
 * the transports, offline, fallback and crash specs, where a crash is
 * SIGKILL to the node holding the most connections. scripts/test.sh runs it
 * after the main suite.
 */
process.env.E2E_CLUSTER = '1';

export default defineConfig({
  ...base,
  testMatch: ['transports.spec.ts', 'offline.spec.ts', 'fallback.spec.ts', 'crash.spec.ts'],
  // A cluster is six processes besides the browsers: one file at a time on a small machine.
  workers: 1,
  // Starting a cluster (initdb, three nodes) counts against a file's first test.
  timeout: 120_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e-cluster.json' }]],
  outputDir: 'test-results/e2e-cluster-artifacts',
});
