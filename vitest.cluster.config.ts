import { defineConfig } from 'vitest/config';

/**
 * The cluster suite (server/test/cluster/): each file starts its own
 * PostgreSQL, Redis, HAProxy and node processes and puts them under load or
 * kills them, so files run one at a time, apart from the rest of the tests
 * (`npm run test:cluster`; scripts/test.sh runs it after the main vitest run).
 */
export default defineConfig({
  test: {
    include: ['server/test/cluster/**/*.integration.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    // Memory checks compare heap sizes around a forced GC.
    execArgv: ['--expose-gc'],
    // Bounds for a stuck test, not speed targets: the longest run their load for tens of seconds.
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
