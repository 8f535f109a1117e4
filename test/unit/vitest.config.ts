import { defineConfig } from 'vitest/config';

// Pure logic and Node-side stand-ins (e.g. the litesvm-backed Solana RPC) run in plain Node.
export default defineConfig({
  test: {
    name: 'unit',
    root: '.',
    environment: 'node',
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
