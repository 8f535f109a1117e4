import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Worker tests run inside workerd with the real wrangler.toml bindings: real D1 (migrations
// applied by the setup file), real Durable Objects, the real scheduled handler.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('db/migrations');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          compatibilityFlags: ['service_binding_extra_handlers'],
          bindings: {
            ENVIRONMENT: 'test',
            ADMIN_TOKEN: 'test-admin-token-0123456789',
            HEARTBEAT_INTERVAL_S: '10',
            HEARTBEAT_SHARDS: '4',
            EXPLORER_CACHE_S: '0',
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      name: 'worker',
      root: '.',
      include: ['test/worker/**/*.test.ts'],
      setupFiles: ['test/worker/setup/apply-migrations.ts'],
      testTimeout: 20_000,
    },
  };
});
