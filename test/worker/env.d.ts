import type { D1Migration } from 'cloudflare:test';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** JSON `{ seeds?, seed?, steps? }` from SIM_SEEDS / SIM_SEED / SIM_STEPS (test/worker/sim). */
      SIM_OPTIONS: string;
    }
  }
}
