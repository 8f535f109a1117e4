import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    name: 'agent',
    environment: 'node',
    include: ['test/agent/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
