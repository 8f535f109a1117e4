import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { formatAmount } from '../lib/amounts.ts';
import { reconcileLedger } from './reconcile.ts';

export const adminLedgerApp = new Hono<AppEnv>()
  .use(requireAdmin)
  /** 200 either way: the report is the answer; `ok` says whether every invariant holds. */
  .get('/reconcile', async (c) => {
    const report = await reconcileLedger(c.var.db);
    const decimals = c.var.config.TOKEN_DECIMALS;
    return c.json({
      ok: report.ok,
      checkedAt: new Date(report.checkedAt).toISOString(),
      checks: report.checks,
      totals: {
        transactions: report.totals.transactions,
        entries: report.totals.entries,
        supply: formatAmount(report.totals.supply, decimals),
        minted: formatAmount(report.totals.minted, decimals),
        burned: formatAmount(report.totals.burned, decimals),
      },
    });
  });
