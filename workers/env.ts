// Bindings come from wrangler.toml through the generated worker-configuration.d.ts (`npm run
// cf-typegen`: only Env; runtime types are @cloudflare/workers-types); the secrets
// named in PROTOCOL.md are added here, optional because each feature checks for its own.
declare global {
  namespace Cloudflare {
    interface Env {
      ADMIN_TOKEN?: string;
      TELEGRAM_BOT_TOKEN?: string;
      TELEGRAM_WEBHOOK_SECRET?: string;
      TELEGRAM_API_ROOT?: string;
      DISCORD_APPLICATION_ID?: string;
      DISCORD_PUBLIC_KEY?: string;
      DISCORD_BOT_TOKEN?: string;
      DISCORD_API_ROOT?: string;
      SOLANA_RPC_URL?: string;
      TOKEN_MINT?: string;
      TREASURY_SECRET_KEY?: string;
      SIWS_DOMAIN?: string;
      SOLANA_CLUSTER?: string;
    }
  }
}

export type Env = Cloudflare.Env;
