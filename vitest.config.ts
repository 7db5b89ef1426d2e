import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The cluster suite needs the lab (a real control plane): `npm run test:cluster`.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    // Generous bounds: the suite must pass on a loaded 2-core machine. Tests wait for
    // conditions, never for a time; these only end a test that would otherwise hang.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ['./test/support/redis-global-setup.ts'],
    // The Slack/Redis suites share one redis-server: run files one at a time, like BullMQ's suite.
    fileParallelism: false,
    reporters: ['default', './test/support/summary-line-reporter.ts'],
  },
});
