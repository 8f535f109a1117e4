import { desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { payoutBatches, payouts } from '../../db/schema.ts';
import type { AppEnv } from '../app-env.ts';
import { badRequest } from '../errors.ts';
import { jsonBody, queryParams } from '../http/body.ts';
import { formatAmount, parseAmount } from '../lib/amounts.ts';
import { decodePublicKey } from '../protocol/base58.ts';
import { requestIdempotencyKey } from '../ledger/idempotency.ts';
import { getBalance, listEntries } from '../ledger/ledger.repo.ts';
import { entryView, payoutView } from '../ledger/ledger-view.ts';
import { requestWithdrawal } from '../ledger/payouts.ts';
import { getUserAccount, linksOf } from './accounts.repo.ts';
import { requireAccount } from './require-account.ts';

const entriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^[1-9][0-9]{0,15}$/, 'is not a cursor this API returned').optional(),
});

const withdrawalSchema = z.strictObject({
  amount: z.string().max(40),
  /** The receiving wallet; the signed-in wallet when omitted. */
  destination: z.string().refine((s) => decodePublicKey(s) !== null, 'must be a base58 Solana address').optional(),
});

export const accountsApp = new Hono<AppEnv>()
  .use(requireAccount)
  .get('/me', async (c) => {
    const me = c.var.account;
    const [account, balance, links] = await Promise.all([getUserAccount(c.var.db, me.id), getBalance(c.var.db, me.id), linksOf(c.var.db, me.id)]);
    return c.json({
      id: me.id,
      wallet: me.wallet,
      createdAt: new Date(account!.createdAt).toISOString(),
      balance: formatAmount(balance ?? 0, c.var.config.TOKEN_DECIMALS),
      links: links.map((l) => ({ platform: l.platform, platformUserId: l.platformUserId, linkedAt: new Date(l.linkedAt).toISOString() })),
    });
  })

  .get('/me/balance', async (c) => {
    const balance = (await getBalance(c.var.db, c.var.account.id)) ?? 0;
    return c.json({ accountId: c.var.account.id, balance: formatAmount(balance, c.var.config.TOKEN_DECIMALS), baseUnits: String(balance) });
  })

  .get('/me/entries', async (c) => {
    const query = queryParams(c, entriesQuerySchema);
    const lines = await listEntries(c.var.db, c.var.account.id, {
      beforeId: query.cursor === undefined ? undefined : Number(query.cursor),
      limit: query.limit + 1,
    });
    const page = lines.slice(0, query.limit);
    return c.json({
      entries: page.map((l) => entryView(l, c.var.config.TOKEN_DECIMALS)),
      nextCursor: lines.length > query.limit ? String(page.at(-1)!.id) : null,
    });
  })

  .post('/me/withdrawals', async (c) => {
    const me = c.var.account;
    const body = await jsonBody(c, withdrawalSchema);
    const decimals = c.var.config.TOKEN_DECIMALS;
    const amount = parseAmount(body.amount, decimals);
    if (!amount.ok) throw badRequest('invalid_request', `amount: ${amount.reason}.`);
    if (amount.baseUnits <= 0) throw badRequest('invalid_request', 'amount: must be more than 0.');
    const { key } = requestIdempotencyKey(c, `withdrawal:${me.id}`);
    const result = await requestWithdrawal(c.var.db, {
      accountId: me.id,
      amount: amount.baseUnits,
      destination: body.destination ?? me.wallet,
      idempotencyKey: key,
    });
    if (result.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json({ payout: payoutView(result.payout, decimals) }, result.replayed ? 200 : 201);
  })

  .get('/me/withdrawals', async (c) => {
    const rows = await c.var.db
      .select({ payout: payouts, batchState: payoutBatches.state, signature: payoutBatches.signature })
      .from(payouts)
      .leftJoin(payoutBatches, eq(payoutBatches.id, payouts.batchId))
      .where(eq(payouts.accountId, c.var.account.id))
      .orderBy(desc(payouts.createdAt))
      .limit(50);
    return c.json({
      payouts: rows.map((r) => ({
        ...payoutView(r.payout, c.var.config.TOKEN_DECIMALS),
        // The Solana transaction that paid it; only once it is final (before that it may still be replaced).
        signature: r.payout.status === 'paid' && r.batchState === 'paid' ? r.signature : null,
      })),
    });
  });
