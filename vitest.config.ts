import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['client/**/*.test.ts', 'server/**/*.test.ts', 'shared/**/*.test.ts', 'bench/**/*.test.ts'],
    // Real multi-process clusters, one file at a time: vitest.cluster.config.ts (npm run test:cluster).
    exclude: ['**/node_modules/**', 'server/test/cluster/**'],
    environment: 'node',
    pool: 'forks',
    // The fiber leak test compares heap sizes around a forced GC.
    execArgv: ['--expose-gc'],
    // Integration tests start real servers; give them room on a small machine.
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
