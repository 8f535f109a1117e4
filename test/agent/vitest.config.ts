import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'agent',
    root: '.',
    environment: 'node',
    include: ['test/agent/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
