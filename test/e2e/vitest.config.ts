import { defineConfig } from 'vitest/config';

// End-to-end: the real local control plane (`npm start` → wrangler dev, local D1) and real agent
// processes. One stack per file, started in the file itself; files run one after another.
export default defineConfig({
  test: {
    name: 'e2e',
    root: '.',
    environment: 'node',
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
