import { Hono } from 'hono';
import * as z from 'zod';
import { requireAccount } from '../accounts/require-account.ts';
import type { AppEnv } from '../app-env.ts';
import { badRequest, notFound } from '../errors.ts';
import { validate } from '../http/body.ts';
import { jsonInput, paramInput, queryInput } from '../http/validator.ts';
import { requestIdempotencyKey } from '../ledger/idempotency.ts';
import { formatAmount, parseAmount } from '../lib/amounts.ts';
import { nodeIdSchema } from '../nodes/node-input.schema.ts';
import { commissionBodySchema, pageQuerySchema, slashQuerySchema, stakeBodySchema } from './staking-input.schema.ts';
import { epochNodeView, shareView, slashView, unbondingView } from './staking-view.ts';
import { commissionOf, epochRow, nodeStakeState, rewardsOfAccount, rewardsOfNode, sharesOfNodeEpoch, slashesOf } from './staking.repo.ts';
import { addStake, setCommission, stakersOf, unstake } from './staking.service.ts';

// /v1/staking: stake, delegate, unstake, commission, stakers, rewards and slashes
// (workers/staking/README.md). Writes need an API key and take an optional Idempotency-Key.

function amountOf(text: string, decimals: number): number {
  const parsed = parseAmount(text, decimals);
  if (!parsed.ok) throw badRequest('invalid_request', `amount: ${parsed.reason}.`);
  if (parsed.baseUnits <= 0) throw badRequest('invalid_request', 'amount: must be more than 0.');
  return parsed.baseUnits;
}

const epochParam = (text: string) => validate(pageQuerySchema.shape.beforeEpoch.unwrap(), text);
/** The node id checked before a body or query, with the answer it always had (a bad id: `body: …`). */
const nodeParam = paramInput(z.object({ nodeId: nodeIdSchema }), { unnamed: true });

export const stakingApp = new Hono<AppEnv>()
  .post('/stake', requireAccount, jsonInput(stakeBodySchema, { anyContentType: true }), async (c) =>
    stakeRoute(c, c.req.valid('json'), 'operator'),
  )
  .post('/delegate', requireAccount, jsonInput(stakeBodySchema, { anyContentType: true }), async (c) =>
    stakeRoute(c, c.req.valid('json'), 'delegator'),
  )

  .post('/unstake', requireAccount, jsonInput(stakeBodySchema, { anyContentType: true }), async (c) => {
    const body = c.req.valid('json');
    const d = c.var.config.TOKEN_DECIMALS;
    const account = c.var.account;
    const { key } = requestIdempotencyKey(c, `unstake:${account.id}`);
    const { transaction, unbonding } = await unstake(
      c.var.db,
      c.var.config,
      {
        accountId: account.id,
        nodeId: body.nodeId,
        amount: amountOf(body.amount, d),
        idempotencyKey: key,
      },
      undefined,
      c.env,
    );
    if (transaction.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json({ transactionId: transaction.id, unbonding: unbondingView(unbonding, d) }, transaction.replayed ? 200 : 201);
  })

  .put('/nodes/:nodeId/commission', requireAccount, nodeParam, jsonInput(commissionBodySchema, { anyContentType: true }), async (c) => {
    const { nodeId } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await setCommission(c.var.db, c.var.config, { wallet: c.var.account.wallet, nodeId, commissionBps: body.commissionBps }));
  })

  .get('/nodes/:nodeId', async (c) => {
    const nodeId = validate(nodeIdSchema, c.req.param('nodeId'));
    const d = c.var.config.TOKEN_DECIMALS;
    const stakers = await stakersOf(c.var.db, nodeId);
    const node = await nodeStakeState(c.var.db, nodeId);
    return c.json({
      nodeId,
      owner: stakers.owner,
      stake: formatAmount(node!.stakeTotal, d),
      eligible: node!.eligible,
      verifiedAt: node!.verifiedAt === null ? null : new Date(node!.verifiedAt).toISOString(),
      commission: await commissionOf(c.var.db, c.var.config, nodeId),
      stakers: stakers.bonded.map((s) => ({
        accountId: s.accountId,
        role: s.wallet === stakers.owner ? 'operator' : 'delegator',
        amount: formatAmount(s.amount, d),
        since: new Date(s.since).toISOString(),
      })),
      unbonding: stakers.unbonding.map((u) => ({
        accountId: u.accountId,
        amount: formatAmount(u.amount, d),
        releaseAt: new Date(u.releaseAt).toISOString(),
      })),
    });
  })

  .get('/nodes/:nodeId/rewards', nodeParam, queryInput(pageQuerySchema, { firstValue: true }), async (c) => {
    const { nodeId } = c.req.valid('param');
    const page = c.req.valid('query');
    const rows = await rewardsOfNode(c.var.db, nodeId, page);
    return c.json({ rewards: rows.map((r) => epochNodeView(r, c.var.config.TOKEN_DECIMALS)) });
  })

  .get('/nodes/:nodeId/rewards/:epoch', async (c) => {
    const nodeId = validate(nodeIdSchema, c.req.param('nodeId'));
    const rows = await sharesOfNodeEpoch(c.var.db, nodeId, epochParam(c.req.param('epoch')));
    return c.json({ shares: rows.map((r) => shareView(r, c.var.config.TOKEN_DECIMALS)) });
  })

  .get('/rewards', requireAccount, queryInput(pageQuerySchema, { firstValue: true }), async (c) => {
    const page = c.req.valid('query');
    const rows = await rewardsOfAccount(c.var.db, c.var.account.id, page);
    return c.json({ accountId: c.var.account.id, rewards: rows.map((r) => shareView(r, c.var.config.TOKEN_DECIMALS)) });
  })

  .get('/slashes', queryInput(slashQuerySchema, { firstValue: true }), async (c) => {
    const query = c.req.valid('query');
    const rows = await slashesOf(c.var.db, query);
    return c.json({ slashes: rows.map((r) => slashView(r, c.var.config.TOKEN_DECIMALS)) });
  })

  .get('/epochs/:epoch', async (c) => {
    const epoch = epochParam(c.req.param('epoch'));
    const row = await epochRow(c.var.db, epoch);
    if (!row) throw notFound('Epoch');
    const d = c.var.config.TOKEN_DECIMALS;
    const amounts = ['emission', 'carryIn', 'minted', 'carryOut', 'capacityPool', 'workPool', 'fees', 'burned'] as const;
    return c.json({
      epoch: row.epoch,
      status: row.status,
      step: row.step,
      startAt: new Date(row.startMs).toISOString(),
      endAt: new Date(row.endMs).toISOString(),
      nodes: row.nodes,
      ...Object.fromEntries(amounts.map((k) => [k, formatAmount(row[k], d)])),
      // Work rewards paid were at most this multiple of the fees the epoch's work paid (null: before the cap).
      workFeeMultipleBps: row.workFeeMultipleBps,
      queries: row.queries,
      runs: row.runs,
      closedAt: row.closedAt === null ? null : new Date(row.closedAt).toISOString(),
    });
  });

async function stakeRoute(c: import('hono').Context<AppEnv>, body: z.infer<typeof stakeBodySchema>, as: 'operator' | 'delegator') {
  const d = c.var.config.TOKEN_DECIMALS;
  const account = c.var.account;
  const { key } = requestIdempotencyKey(c, `${as === 'operator' ? 'stake' : 'delegate'}:${account.id}`);
  const tx = await addStake(c.var.db, c.var.config, {
    accountId: account.id,
    wallet: account.wallet,
    nodeId: body.nodeId,
    amount: amountOf(body.amount, d),
    idempotencyKey: key,
    as,
  });
  if (tx.replayed) c.header('Idempotent-Replayed', 'true');
  const node = await nodeStakeState(c.var.db, body.nodeId);
  return c.json(
    { transactionId: tx.id, nodeId: body.nodeId, role: as, nodeStake: formatAmount(node!.stakeTotal, d), eligible: node!.eligible },
    tx.replayed ? 200 : 201,
  );
}
