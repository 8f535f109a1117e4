import { defineConfig } from 'vitest/config';

// Browser tests: the real local control plane (wrangler dev) driven through Debian's Chromium with
// playwright-core. Slow to start, so the timeouts are long.
export default defineConfig({
  test: {
    name: 'browser',
    root: '.',
    environment: 'node',
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
