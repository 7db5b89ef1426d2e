import { defineConfig } from 'vitest/config';

// The cluster suite (`npm run test:cluster`): kproxy against a real control plane (lab/).
// One lab for the whole run (test/cluster/lab-global-setup.ts); files run one at a time.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    // Generous bounds for a loaded 2-core machine: they only end a test that would hang.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    globalSetup: ['./test/cluster/lab-global-setup.ts'],
    fileParallelism: false,
  },
});
