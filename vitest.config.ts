import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['./test/support/redis-global-setup.ts'],
    // The Slack/Redis suites share one redis-server: run files one at a time, like BullMQ's suite.
    fileParallelism: false,
    reporters: ['default', './test/support/summary-line-reporter.ts'],
  },
});
