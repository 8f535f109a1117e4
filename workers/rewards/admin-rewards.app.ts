import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { closeDueEpochs } from './close-epoch.ts';

// POST /v1/admin/staking/epochs/close: run the epoch close now (what the cron does each minute).
// Mounted beside staking's admin routes (same prefix); it lives here because rewards sit above
// staking and slashing.

export const adminRewardsApp = new Hono<AppEnv>()
  .use(requireAdmin)

  .post('/epochs/close', async (c) => c.json(await closeDueEpochs(c.var.db, c.var.config, { nowMs: Date.now() })));
