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
import {
  addToStake,
  commissionOf,
  ensureNodeStaking,
  insertUnbonding,
  nodeOwner,
  setNextCommission,
  stakesOnNode,
  takeFromStake,
  unbondingOfTransaction,
} from './staking.repo.ts';

// Staking through the ledger. Every change is one D1 batch: the ledger transaction (with its
// idempotency key), the stake rows, and the node's stake_total/eligible refresh.
//
//   stake / delegate   user → system:staked           stakes.amount += a
//   unstake            system:staked → system:unbonding   stakes.amount −= a, unbondings row
//   release (cron)     system:unbonding → user        (workers/rewards/close/release.ts)

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
  const node = await nodeOwner(db, nodeId);
  if (!node) throw new AppError(404, 'node_not_found', 'There is no node with this id.');
  return node;
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
          addToStake(db, req, nowMs),
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
          takeFromStake(db, req, nowMs),
          assertChanged(db.$client, 'no_stake'),
          insertUnbonding(db, {
            accountId: req.accountId,
            nodeId: req.nodeId,
            amount: req.amount,
            requestedAt: nowMs,
            releaseAt,
            ledgerTxId: txId,
          }),
          stakeLowProbe(db, config, req.nodeId),
          refreshEligibility(db, config, [req.nodeId]),
        ],
      },
    );
    const low = stakeLowOf(tx.withResults);
    if (low && alerts) await emitStakeLow(alerts, low, tx.id, nowMs);
    const row = await unbondingOfTransaction(db, tx.id);
    return { transaction: tx, unbonding: row! };
  } catch (error) {
    throw stakingError(error);
  }
}

function stakingError(error: unknown): unknown {
  if (assertionFailed(error) === 'no_stake')
    return new AppError(409, 'insufficient_stake', 'You have no bonded stake on this node to unstake.');
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

export async function setCommission(
  db: Db,
  config: Config,
  req: { wallet: string; nodeId: string; commissionBps: number },
  nowMs = Date.now(),
) {
  const node = await nodeFor(db, req.nodeId);
  if (node.owner !== req.wallet) throw new AppError(403, 'not_operator', "Only the node's owner sets its commission.");
  // Governance's `commission_cap_bps` (COMMISSION_MAX_BPS until a proposal changes it).
  const cap = (await getParams(db, config, nowMs)).commission_cap_bps;
  if (req.commissionBps > cap) {
    throw new AppError(400, 'commission_too_high', `The commission cap is ${cap} basis points.`);
  }
  await setNextCommission(
    db,
    config,
    { nodeId: req.nodeId, commissionBps: req.commissionBps, fromEpoch: epochAt(config, nowMs) + 1 },
    nowMs,
  );
  return commissionOf(db, config, req.nodeId);
}

/** The node's owner, bonded stakes and unbondings; 404 when there is no such node. */
export async function stakersOf(db: Db, nodeId: string) {
  const node = await nodeFor(db, nodeId);
  return { owner: node.owner, ...(await stakesOnNode(db, nodeId)) };
}
