import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { AppError, badRequest } from '../errors.ts';
import { jsonInput, queryInput } from '../http/validator.ts';
import { formatAmount, parseAmount } from '../lib/amounts.ts';
import { requestIdempotencyKey } from '../ledger/idempotency.ts';
import { getTransactionByKey, listEntries } from '../ledger/ledger.repo.ts';
import { balanceOf } from '../ledger/ledger.service.ts';
import { entryView, payoutView } from '../ledger/ledger-view.ts';
import { requestWithdrawal } from '../ledger/payouts.ts';
import { payoutsOfAccount } from '../ledger/payouts.repo.ts';
import { requireSettlement } from '../settlement/settlement-env.ts';
import { quoteView, quoteWithdrawal } from '../settlement/withdrawal-quote.ts';
import { entriesQuerySchema, quoteQuerySchema, withdrawalSchema } from './account-input.schema.ts';
import { getUserAccount, linksOf } from './accounts.repo.ts';
import { requireAccount } from './require-account.ts';

/** A positive amount in base units, or 400 naming the field. */
function positiveAmount(text: string, decimals: number, field: string): number {
  const amount = parseAmount(text, decimals);
  if (!amount.ok) throw badRequest('invalid_request', `${field}: ${amount.reason}.`);
  if (amount.baseUnits <= 0 && field === 'amount') throw badRequest('invalid_request', `${field}: must be more than 0.`);
  return amount.baseUnits;
}

export const accountsApp = new Hono<AppEnv>()
  .use(requireAccount)
  .get('/me', async (c) => {
    const me = c.var.account;
    const [account, balance, links] = await Promise.all([
      getUserAccount(c.var.db, me.id),
      balanceOf(c.var.db, me.id),
      linksOf(c.var.db, me.id),
    ]);
    return c.json({
      id: me.id,
      wallet: me.wallet,
      createdAt: new Date(account!.createdAt).toISOString(),
      balance: formatAmount(balance, c.var.config.TOKEN_DECIMALS),
      links: links.map((l) => ({ platform: l.platform, platformUserId: l.platformUserId, linkedAt: new Date(l.linkedAt).toISOString() })),
    });
  })

  .get('/me/balance', async (c) => {
    const balance = await balanceOf(c.var.db, c.var.account.id);
    return c.json({ accountId: c.var.account.id, balance: formatAmount(balance, c.var.config.TOKEN_DECIMALS), baseUnits: String(balance) });
  })

  .get('/me/entries', queryInput(entriesQuerySchema, { firstValue: true }), async (c) => {
    const query = c.req.valid('query');
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

  // What a withdrawal would cost and deliver, to show before the person confirms (settlement/withdrawal-quote.ts).
  .get('/me/withdrawals/quote', queryInput(quoteQuerySchema, { firstValue: true }), async (c) => {
    const query = c.req.valid('query');
    const decimals = c.var.config.TOKEN_DECIMALS;
    const amount = positiveAmount(query.amount, decimals, 'amount');
    const settlement = await requireSettlement(c.env);
    const quote = await quoteWithdrawal(settlement, amount, query.destination ?? c.var.account.wallet);
    return c.json(quoteView(quote, settlement.config.withdrawals, decimals));
  })

  .post('/me/withdrawals', jsonInput(withdrawalSchema, { anyContentType: true }), async (c) => {
    const me = c.var.account;
    const body = c.req.valid('json');
    const decimals = c.var.config.TOKEN_DECIMALS;
    const amount = positiveAmount(body.amount, decimals, 'amount');
    const maxFee = body.maxFee === undefined ? undefined : positiveAmount(body.maxFee, decimals, 'maxFee');
    const destination = body.destination ?? me.wallet;
    const { key } = requestIdempotencyKey(c, `withdrawal:${me.id}`);
    // A retry of a request that went through replays it as it was charged, whatever the chain shows now.
    let fee = 0;
    if (!(await getTransactionByKey(c.var.db, key))) {
      const settlement = await requireSettlement(c.env);
      const quote = await quoteWithdrawal(settlement, amount, destination);
      if (maxFee !== undefined && quote.fee > maxFee) {
        throw new AppError(
          409,
          'fee_changed',
          `The fee is now ${formatAmount(quote.fee, decimals)} tokens (the destination has no token account); confirm the new quote.`,
        );
      }
      fee = quote.fee;
    }
    const result = await requestWithdrawal(c.var.db, { accountId: me.id, amount, fee, destination, idempotencyKey: key });
    if (result.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json({ payout: payoutView(result.payout, decimals) }, result.replayed ? 200 : 201);
  })

  .get('/me/withdrawals', async (c) => {
    const rows = await payoutsOfAccount(c.var.db, c.var.account.id, 50);
    return c.json({
      payouts: rows.map((r) => ({
        ...payoutView(r.payout, c.var.config.TOKEN_DECIMALS),
        // The Solana transaction that paid it; only once it is final (before that it may still be replaced).
        signature: r.payout.status === 'paid' && r.batchState === 'paid' ? r.signature : null,
      })),
    });
  });
