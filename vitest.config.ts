import { defineConfig } from 'vitest/config';

// `npm test` runs every project: Worker tests in workerd with real D1, pure-logic unit tests and
// agent tests in Node, and end-to-end tests against the real local control plane.
export default defineConfig({
  test: {
    projects: ['test/worker/vitest.config.ts', 'test/unit/vitest.config.ts', 'test/agent/vitest.config.ts', 'test/e2e/vitest.config.ts', 'test/browser/vitest.config.ts'],
  },
});
