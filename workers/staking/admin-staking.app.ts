import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { refreshEligibility } from './eligibility.ts';

// /v1/admin/staking: refresh every node's eligibility after a configuration change. The same
// prefix also carries slashing's offences (workers/slashing/admin-slashing.app.ts) and the epoch
// close (workers/rewards/admin-rewards.app.ts), which sit above staking.

export const adminStakingApp = new Hono<AppEnv>()
  .use(requireAdmin)

  .post('/eligibility/refresh', async (c) => {
    const result = await refreshEligibility(c.var.db, c.var.config, null).run();
    return c.json({ nodesUpdated: result.meta.changes ?? 0 });
  });
