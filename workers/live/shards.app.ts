import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { shardByIndex } from './shard-stub.ts';

/** Admin view of the live layer: per-shard counters and their totals. */
export const adminShardsApp = new Hono<AppEnv>()
  .use(requireAdmin)
  .get('/', async (c) => {
    const count = c.var.config.HEARTBEAT_SHARDS;
    const shards = await Promise.all(Array.from({ length: count }, (_, i) => shardByIndex(c.env, i).stats()));
    const totals: Record<string, number> = {};
    for (const s of shards) {
      for (const [k, v] of Object.entries(s)) if (k !== 'last_fold_at') totals[k] = (totals[k] ?? 0) + v;
    }
    return c.json({ shards: shards.map((s, index) => ({ index, ...s })), totals });
  })
  /** Folds every shard's live state into D1 now, instead of at the next fold interval. */
  .post('/fold', async (c) => {
    const count = c.var.config.HEARTBEAT_SHARDS;
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: count }, (_, i) => shardByIndex(c.env, i).sweep(now, { fold: true })));
    return c.json({ folded: results.reduce((n, r) => n + r.folded, 0), events: results.reduce((n, r) => n + r.events, 0) });
  });
