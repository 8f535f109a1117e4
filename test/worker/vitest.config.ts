import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Worker tests run inside workerd with the real wrangler.toml bindings: real D1 (migrations
// applied by the setup file), real Durable Objects, the real scheduled handler.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('db/migrations');
  return {
    plugins: [
      // A function, so bindings can use what globalSetup provides (the stand-in servers' ports).
      cloudflareTest(({ inject }) => ({
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
            // Telegram: the Bot API is the local stand-in (test/worker/setup/telegram-api.ts).
            TELEGRAM_API_ROOT: `http://127.0.0.1:${inject('telegramApiPort')}`,
            TELEGRAM_BOT_TOKEN: '123456789:TEST-token_abcdefghijklmnopqrstuv',
            TELEGRAM_WEBHOOK_SECRET: 'test-telegram-webhook-secret',
            TELEGRAM_BOT_USERNAME: 'gridplane_test_bot',
            // Discord: renters linked on Discord get their alerts as DMs through the REST stand-in
            // (test/worker/setup/discord-api.ts); the interactions route stays off without a public key.
            DISCORD_BOT_TOKEN: 'test-discord-bot-token',
            DISCORD_API_ROOT: `http://127.0.0.1:${inject('discordApiPort')}/api/v10`,
            ALERT_GROUP_WINDOW_MS: '300',
            ALERT_RETRY_BASE_MS: '200',
            ALERT_RETRY_MAX_MS: '2000',
            // Solana: a litesvm-backed JSON-RPC server and the mint/treasury made at setup (test/worker/setup/solana-rpc.ts).
            SOLANA_RPC_URL: inject('solanaRpcUrl'),
            SOLANA_GENESIS_HASH: inject('solanaGenesisHash'),
            TOKEN_MINT: inject('solanaMint'),
            TREASURY_SECRET_KEY: inject('solanaTreasurySecretKey'),
            SOLANA_RPC_TIMEOUT_MS: '5000', // a hang costs this; shorter ones time out under a loaded CI machine
            // The fault simulator's seed count / replay seed / steps (npm run sim; test/worker/sim/README.md).
            SIM_OPTIONS: JSON.stringify({ seeds: process.env.SIM_SEEDS, seed: process.env.SIM_SEED, steps: process.env.SIM_STEPS }),
          },
        },
      })),
    ],
    test: {
      name: 'worker',
      root: '.',
      include: ['test/worker/**/*.test.ts'],
      setupFiles: ['test/worker/setup/apply-migrations.ts'],
      globalSetup: ['test/worker/setup/telegram-api.ts', 'test/worker/setup/discord-api.ts', 'test/worker/setup/solana-rpc.ts'],
      // discord-api-types' enums are undefined inside the pool unless pre-bundled.
      deps: { optimizer: { ssr: { enabled: true, include: ['discord-api-types/v10'] } } },
      testTimeout: 20_000,
    },
  };
});
