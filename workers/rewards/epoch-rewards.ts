import { apportion } from '../lib/apportion.ts';
import { splitNodeReward, type RewardShare, type StakeShare } from './node-split.ts';
import { regionMultiplierBps } from './region.ts';

// The reward arithmetic of one epoch, without I/O: the epoch's pools are split between eligible
// nodes (capacity by uptime × GPU weight × regional multiplier; work by the protocol fees the
// node's jobs paid, the pool capped at a governed multiple of those fees — see workPaid),
// pending slashes are taken from each node's reward first, and what is left is shared between
// its stakers. Every split is exact (apportion.ts); a pool nobody earned is carried, not lost.

export interface RewardNode {
  nodeId: string;
  operatorAccount: string;
  uptimeMs: number;
  /** Σ GPUs × catalogue reward weight, in thousandths. */
  weightMilli: number;
  geoCell: string;
  gpuSeconds: number;
  /** Base units of protocol fees the node's jobs paid in the epoch: the work reward's weight. */
  workFees: number;
  commissionBps: number;
  /** Base units of pending slashes to take from this node's reward before anyone is paid. */
  slashDue: bigint;
}

export interface RewardParams {
  capacityPool: bigint;
  workPool: bigint;
  epochMs: number;
  regionTargetNodes: number;
  regionMaxBonusBps: number;
  /** Governance's `work_reward_fee_multiple_bps`: work rewards ≤ this multiple of the fees (10 000 = 1×). */
  workFeeMultipleBps: number;
}

export interface NodeReward {
  nodeId: string;
  regionBps: number;
  capacityReward: bigint;
  workReward: bigint;
  slashedReward: bigint;
  netReward: bigint;
}

export interface EpochRewards {
  nodes: NodeReward[];
  shares: (RewardShare & { nodeId: string })[];
  /** One per account, sorted by account id. */
  credits: { accountId: string; amount: bigint }[];
  /** Σ capacity + work rewards: what must be minted into the reward pool. */
  minted: bigint;
  /** Σ shares = minted − slashedFromRewards. */
  distributed: bigint;
  slashedFromRewards: bigint;
  /** Pool units no node earned (no uptime, no work): carried to the next epoch. */
  carry: bigint;
}

export function capacityScore(node: RewardNode, regionBps: number, epochMs: number): bigint {
  const uptime = Math.max(0, Math.min(node.uptimeMs, epochMs));
  return BigInt(uptime) * BigInt(Math.max(0, node.weightMilli)) * BigInt(regionBps);
}

/**
 * The part of the work pool paid out: at most `multipleBps` of the fees the epoch's work paid.
 * Weighted by fees and capped so, a node's work reward is at most that multiple of its own fees,
 * which are the one real cost of renting one's own node; at or below 1× farming never pays.
 */
export function workPaid(workPool: bigint, totalFees: bigint, multipleBps: number): bigint {
  const cap = (totalFees * BigInt(Math.max(0, multipleBps))) / 10_000n;
  return cap < workPool ? cap : workPool;
}

export function computeEpochRewards(
  params: RewardParams,
  nodes: readonly RewardNode[],
  stakes: readonly (StakeShare & { nodeId: string })[],
): EpochRewards {
  const perCell = new Map<string, number>();
  for (const n of nodes) perCell.set(n.geoCell, (perCell.get(n.geoCell) ?? 0) + 1);
  const region = new Map(
    nodes.map((n) => [n.nodeId, regionMultiplierBps(perCell.get(n.geoCell)!, params.regionTargetNodes, params.regionMaxBonusBps)]),
  );

  const capacity = apportion(
    params.capacityPool,
    nodes.map((n) => ({ key: n.nodeId, weight: capacityScore(n, region.get(n.nodeId)!, params.epochMs) })),
  );
  const fees = nodes.map((n) => ({ key: n.nodeId, weight: BigInt(Math.max(0, n.workFees)) }));
  const totalFees = fees.reduce((sum, f) => sum + f.weight, 0n);
  // What is not paid (beyond the cap, or nobody's fees) is carried like any unearned pool.
  const work = apportion(workPaid(params.workPool, totalFees, params.workFeeMultipleBps), fees);

  const stakesByNode = new Map<string, StakeShare[]>();
  for (const s of stakes) {
    const list = stakesByNode.get(s.nodeId) ?? [];
    list.push({ accountId: s.accountId, amount: s.amount });
    stakesByNode.set(s.nodeId, list);
  }

  const result: EpochRewards = { nodes: [], shares: [], credits: [], minted: 0n, distributed: 0n, slashedFromRewards: 0n, carry: 0n };
  const credits = new Map<string, bigint>();
  for (const n of nodes) {
    const capacityReward = capacity.get(n.nodeId)!;
    const workReward = work.get(n.nodeId)!;
    const gross = capacityReward + workReward;
    const slashedReward = n.slashDue > 0n ? (n.slashDue < gross ? n.slashDue : gross) : 0n;
    const netReward = gross - slashedReward;
    result.nodes.push({ nodeId: n.nodeId, regionBps: region.get(n.nodeId)!, capacityReward, workReward, slashedReward, netReward });
    result.minted += gross;
    result.slashedFromRewards += slashedReward;
    for (const share of splitNodeReward(netReward, n.operatorAccount, n.commissionBps, stakesByNode.get(n.nodeId) ?? [])) {
      result.shares.push({ nodeId: n.nodeId, ...share });
      result.distributed += share.amount;
      credits.set(share.accountId, (credits.get(share.accountId) ?? 0n) + share.amount);
    }
  }
  result.credits = [...credits].map(([accountId, amount]) => ({ accountId, amount })).sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
  result.carry = params.capacityPool + params.workPool - result.minted;
  return result;
}

/** The epoch's pools: emission plus carry, split between capacity and work. */
export function epochPools(emission: bigint, carryIn: bigint, workShareBps: number): { capacityPool: bigint; workPool: bigint } {
  const total = emission + carryIn;
  const workPool = (total * BigInt(workShareBps)) / 10_000n;
  return { capacityPool: total - workPool, workPool };
}
