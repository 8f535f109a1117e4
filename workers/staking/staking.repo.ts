import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { accounts, nodes, nodeStaking, rewardShares, epochNodes, slashes, stakes, unbondings } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { AppError } from '../errors.ts';
import { violatedConstraint } from '../ledger/ledger-errors.ts';
import { postTransaction, type PostedTransaction } from '../ledger/ledger.repo.ts';
import { getParams } from '../governance/params.repo.ts';
import { epochAt } from '../lib/epoch-clock.ts';
import { refreshEligibility } from './eligibility.ts';
import { emitStakeLow, stakeLowOf, stakeLowProbe } from './stake-low.ts';
import { assertChanged, assertionFailed } from '../ledger/sql-assert.ts';
import { STAKING_ACCOUNTS } from './staking-accounts.ts';

// Staking through the ledger. Every change is one D1 batch: the ledger transaction (with its
// idempotency key), the stake rows, and the node's stake_total/eligible refresh.
//
//   stake / delegate   user → system:staked           stakes.amount += a
//   unstake            system:staked → system:unbonding   stakes.amount −= a, unbondings row
//   release (cron)     system:unbonding → user        (workers/rewards/close-steps.ts)

export interface StakeRequest {
  accountId: string;
  wallet: string;
  nodeId: string;
  amount: number;
  idempotencyKey: string;
  /** `stake` is the operator's own; `delegate` is anyone else's. */
  as: 'operator' | 'delegator';
}

async function nodeFor(db: Db, nodeId: string) {
  const node = await db.select({ id: nodes.id, owner: nodes.owner }).from(nodes).where(eq(nodes.id, nodeId)).get();
  if (!node) throw new AppError(404, 'node_not_found', 'There is no node with this id.');
  return node;
}

function ensureNodeStaking(db: Db, config: Config, nodeId: string, nowMs: number) {
  return db.insert(nodeStaking).values({ nodeId, commissionBps: config.COMMISSION_DEFAULT_BPS, updatedAt: nowMs }).onConflictDoNothing();
}

export async function addStake(db: Db, config: Config, req: StakeRequest, nowMs = Date.now()): Promise<PostedTransaction> {
  const node = await nodeFor(db, req.nodeId);
  const isOperator = node.owner === req.wallet;
  if (req.as === 'operator' && !isOperator) {
    throw new AppError(403, 'not_operator', "Only the node's owner stakes on it; anyone else delegates (POST /v1/staking/delegate).");
  }
  if (req.as === 'delegator' && isOperator) {
    throw new AppError(409, 'operator_cannot_delegate', 'This is your own node: stake on it with POST /v1/staking/stake.');
  }
  try {
    return await postTransaction(
      db,
      {
        kind: 'stake',
        idempotencyKey: req.idempotencyKey,
        entries: [
          { account: req.accountId, amount: -req.amount },
          { account: STAKING_ACCOUNTS.staked, amount: req.amount },
        ],
        ref: `node:${req.nodeId}`,
        meta: { nodeId: req.nodeId, as: req.as },
      },
      {
        now: nowMs,
        with: () => [
          db
            .insert(stakes)
            .values({ accountId: req.accountId, nodeId: req.nodeId, amount: req.amount, createdAt: nowMs, updatedAt: nowMs })
            .onConflictDoUpdate({ target: [stakes.accountId, stakes.nodeId], set: { amount: sql`${stakes.amount} + ${req.amount}`, updatedAt: nowMs } }),
          ensureNodeStaking(db, config, req.nodeId, nowMs),
          refreshEligibility(db, config, [req.nodeId]),
        ],
      },
    );
  } catch (error) {
    throw stakingError(error);
  }
}

export interface UnstakeRequest {
  accountId: string;
  nodeId: string;
  amount: number;
  idempotencyKey: string;
}

/** With `alerts`, a fall below the node's minimum stake alerts its operator (stake-low.ts). */
export async function unstake(db: Db, config: Config, req: UnstakeRequest, nowMs = Date.now(), alerts?: Pick<Env, 'ALERT_QUEUE'>) {
  await nodeFor(db, req.nodeId);
  // Governance's `unbonding_days` (UNBONDING_SECONDS until a proposal changes it).
  const releaseAt = nowMs + Math.round((await getParams(db, config, nowMs)).unbonding_days * 86_400) * 1000;
  try {
    const tx = await postTransaction(
      db,
      {
        kind: 'unstake',
        idempotencyKey: req.idempotencyKey,
        entries: [
          { account: STAKING_ACCOUNTS.staked, amount: -req.amount },
          { account: STAKING_ACCOUNTS.unbonding, amount: req.amount },
        ],
        ref: `node:${req.nodeId}`,
        meta: { nodeId: req.nodeId, accountId: req.accountId },
      },
      {
        now: nowMs,
        with: (txId) => [
          db
            .update(stakes)
            .set({ amount: sql`${stakes.amount} - ${req.amount}`, updatedAt: nowMs })
            .where(and(eq(stakes.accountId, req.accountId), eq(stakes.nodeId, req.nodeId))),
          assertChanged(db.$client, 'no_stake'),
          db.insert(unbondings).values({ accountId: req.accountId, nodeId: req.nodeId, amount: req.amount, requestedAt: nowMs, releaseAt, ledgerTxId: txId }),
          stakeLowProbe(db, config, req.nodeId),
          refreshEligibility(db, config, [req.nodeId]),
        ],
      },
    );
    const low = stakeLowOf(tx.withResults);
    if (low && alerts) await emitStakeLow(alerts, low, tx.id, nowMs);
    const row = await db.select().from(unbondings).where(eq(unbondings.ledgerTxId, tx.id)).get();
    return { transaction: tx, unbonding: row! };
  } catch (error) {
    throw stakingError(error);
  }
}

function stakingError(error: unknown): unknown {
  if (assertionFailed(error) === 'no_stake') return new AppError(409, 'insufficient_stake', 'You have no bonded stake on this node to unstake.');
  if (hasMessage(error, /stakes_amount_non_negative/)) {
    return new AppError(409, 'insufficient_stake', 'That is more than your bonded stake on this node; nothing was unstaked.');
  }
  if (violatedConstraint(error) === 'non_negative_balance') return error;
  return error;
}

function hasMessage(error: unknown, pattern: RegExp): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (pattern.test(e.message)) return true;
  return false;
}

export async function setCommission(db: Db, config: Config, req: { wallet: string; nodeId: string; commissionBps: number }, nowMs = Date.now()) {
  const node = await nodeFor(db, req.nodeId);
  if (node.owner !== req.wallet) throw new AppError(403, 'not_operator', "Only the node's owner sets its commission.");
  // Governance's `commission_cap_bps` (COMMISSION_MAX_BPS until a proposal changes it).
  const cap = (await getParams(db, config, nowMs)).commission_cap_bps;
  if (req.commissionBps > cap) {
    throw new AppError(400, 'commission_too_high', `The commission cap is ${cap} basis points.`);
  }
  const effectiveEpoch = epochAt(config, nowMs) + 1;
  await db
    .insert(nodeStaking)
    .values({ nodeId: req.nodeId, commissionBps: config.COMMISSION_DEFAULT_BPS, nextCommissionBps: req.commissionBps, nextCommissionEpoch: effectiveEpoch, updatedAt: nowMs })
    .onConflictDoUpdate({ target: nodeStaking.nodeId, set: { nextCommissionBps: req.commissionBps, nextCommissionEpoch: effectiveEpoch, updatedAt: nowMs } });
  return commissionOf(db, config, req.nodeId);
}

export async function commissionOf(db: Db, config: Config, nodeId: string) {
  const row = await db.select().from(nodeStaking).where(eq(nodeStaking.nodeId, nodeId)).get();
  return {
    commissionBps: row?.commissionBps ?? config.COMMISSION_DEFAULT_BPS,
    next: row?.nextCommissionBps == null ? null : { commissionBps: row.nextCommissionBps, fromEpoch: row.nextCommissionEpoch! },
  };
}

export async function stakersOf(db: Db, nodeId: string) {
  const node = await nodeFor(db, nodeId);
  const [bonded, unbonding] = await db.batch([
    db
      .select({ accountId: stakes.accountId, wallet: accounts.wallet, amount: stakes.amount, since: stakes.createdAt })
      .from(stakes)
      .leftJoin(accounts, eq(accounts.id, stakes.accountId))
      .where(and(eq(stakes.nodeId, nodeId), sql`${stakes.amount} > 0`))
      .orderBy(desc(stakes.amount), stakes.accountId),
    db
      .select({ accountId: unbondings.accountId, amount: unbondings.amount, releaseAt: unbondings.releaseAt })
      .from(unbondings)
      .where(and(eq(unbondings.nodeId, nodeId), eq(unbondings.status, 'unbonding')))
      .orderBy(unbondings.releaseAt),
  ]);
  return { owner: node.owner, bonded, unbonding };
}

export async function rewardsOfAccount(db: Db, accountId: string, page: { beforeEpoch?: number; limit: number }) {
  return db
    .select()
    .from(rewardShares)
    .where(and(eq(rewardShares.accountId, accountId), page.beforeEpoch === undefined ? undefined : lt(rewardShares.epoch, page.beforeEpoch)))
    .orderBy(desc(rewardShares.epoch), rewardShares.nodeId)
    .limit(page.limit);
}

export async function rewardsOfNode(db: Db, nodeId: string, page: { beforeEpoch?: number; limit: number }) {
  return db
    .select()
    .from(epochNodes)
    .where(and(eq(epochNodes.nodeId, nodeId), page.beforeEpoch === undefined ? undefined : lt(epochNodes.epoch, page.beforeEpoch)))
    .orderBy(desc(epochNodes.epoch))
    .limit(page.limit);
}

export async function sharesOfNodeEpoch(db: Db, nodeId: string, epoch: number) {
  return db.select().from(rewardShares).where(and(eq(rewardShares.nodeId, nodeId), eq(rewardShares.epoch, epoch))).orderBy(rewardShares.accountId);
}

export async function slashesOf(db: Db, filter: { nodeId?: string; limit: number }) {
  return db
    .select()
    .from(slashes)
    .where(filter.nodeId ? eq(slashes.nodeId, filter.nodeId) : undefined)
    .orderBy(desc(slashes.createdAt))
    .limit(filter.limit);
}
