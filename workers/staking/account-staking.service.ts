import { getUserAccount } from '../accounts/accounts.repo.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { findNode } from '../nodes/nodes.repo.ts';
import { rewardsPerEpoch, stakesOfAccount } from './account-stakes.repo.ts';
import { addStake, unstake, type UnstakeRequest } from './staking.service.ts';

// Staking as one account does it from chat, on the staking domain's own operations (addStake and
// unstake, the functions behind POST /v1/staking/stake|delegate|unstake).

export interface BondRequest {
  accountId: string;
  nodeId: string;
  amount: number;
  idempotencyKey: string;
}

/**
 * Bonds on a node: as its operator when the account's wallet owns the node, else as a delegator.
 * Undefined when there is no such node (nothing is posted).
 */
export async function bondOnNode(db: Db, config: Config, req: BondRequest, nowMs: number) {
  const wallet = (await getUserAccount(db, req.accountId))!.wallet;
  const node = await findNode(db, req.nodeId);
  if (!node) return undefined;
  const transaction = await addStake(db, config, { ...req, wallet, as: node.owner === wallet ? 'operator' : 'delegator' }, nowMs);
  return { transaction, node: { id: node.id, name: node.name } };
}

/** Starts unbonding; a fall below the node's minimum stake alerts its operator (through env's queue). */
export function unbondFromNode(db: Db, config: Config, env: Pick<Env, 'ALERT_QUEUE'>, req: UnstakeRequest, nowMs: number) {
  return unstake(db, config, req, nowMs, env);
}

export function accountStakes(db: Db, accountId: string, limit: number) {
  return stakesOfAccount(db, accountId, limit);
}

export function accountRewardsPerEpoch(db: Db, accountId: string, limit: number) {
  return rewardsPerEpoch(db, accountId, limit);
}
