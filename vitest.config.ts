import { defineConfig } from 'vitest/config';

// `npm test` runs every project: Worker tests in workerd with real D1, pure-logic unit tests and
// agent tests in Node, and end-to-end tests against the real local control plane.
export default defineConfig({
  test: {
    projects: [
      'test/worker/vitest.config.ts',
      'test/unit/vitest.config.ts',
      'test/agent/vitest.config.ts',
      'test/e2e/vitest.config.ts',
      'test/browser/vitest.config.ts',
    ],
    // Vitest's default is one file at a time on a 2-core machine (cores − 1). Most of a file's
    // time is waiting (workerd starting, a local stack's cron, a stand-in's timer): a full run
    // used 10.5 CPU-minutes in 15 wall-minutes. Three at once keeps both cores busy.
    maxWorkers: 3,
  },
});
