import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { networkSummary } from './summary-cache.ts';

/** `GET /v1/network/summary`: the explorer's numbers as JSON, for its refresh and for tools. */
export const networkApp = new Hono<AppEnv>().get('/summary', async (c) => {
  const summary = await networkSummary(c.var.db, c.var.config);
  c.header('Cache-Control', `public, max-age=${c.var.config.EXPLORER_CACHE_S}`);
  return c.json(summary);
});
