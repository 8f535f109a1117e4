import { describe, expect, it } from 'vitest';
import { apportion } from '../../../workers/lib/apportion.ts';
import { epochEmission, epochsPerYear, unreleasedAtYear, yearRelease } from '../../../workers/rewards/emission.ts';
import { computeEpochRewards, epochPools, type RewardNode } from '../../../workers/rewards/epoch-rewards.ts';
import { splitFees } from '../../../workers/rewards/fee-split.ts';
import { splitNodeReward } from '../../../workers/rewards/node-split.ts';
import { regionMultiplierBps } from '../../../workers/rewards/region.ts';
import { allocateRewardTake, planStakeSlash } from '../../../workers/slashing/slash-plan.ts';

const HOUR = 3_600_000;
const node = (over: Partial<RewardNode> & { nodeId: string }): RewardNode => ({
  operatorAccount: `op-${over.nodeId}`,
  uptimeMs: HOUR,
  weightMilli: 1000,
  geoCell: 'c1',
  gpuSeconds: 0,
  workFees: 0,
  commissionBps: 0,
  slashDue: 0n,
  ...over,
});

describe('apportion', () => {
  it('splits 10 by 1:1:1 as 4,3,3 — the odd unit to the first key on a tie', () => {
    const parts = apportion(10n, [
      { key: 'b', weight: 1n },
      { key: 'a', weight: 1n },
      { key: 'c', weight: 1n },
    ]);
    expect([...parts.entries()].sort()).toEqual([
      ['a', 4n],
      ['b', 3n],
      ['c', 3n],
    ]);
  });
  it('gives leftover units to the largest remainders: 100 by 1:2:4 → 14.28, 28.57, 57.14 → 14, 29, 57', () => {
    const parts = apportion(100n, [
      { key: 'x', weight: 1n },
      { key: 'y', weight: 2n },
      { key: 'z', weight: 4n },
    ]);
    expect(parts.get('x')).toBe(14n);
    expect(parts.get('y')).toBe(29n);
    expect(parts.get('z')).toBe(57n);
  });
  it('never mints or loses a unit, whatever the weights', () => {
    for (let trial = 0; trial < 200; trial++) {
      const items = Array.from({ length: 1 + (trial % 17) }, (_, i) => ({
        key: `k${i}`,
        weight: BigInt((trial * 7919 + i * 104729) % 1000),
      }));
      const total = BigInt((trial * 1_000_003) % 9_999_991);
      const sum = [...apportion(total, items).values()].reduce((s, v) => s + v, 0n);
      const weights = items.reduce((s, i) => s + i.weight, 0n);
      expect(sum).toBe(weights === 0n ? 0n : total);
    }
  });
});

describe('emission schedule', () => {
  const schedule = { total: 1_000_000n, releaseBps: 2000, epochsPerYear: 3 };
  it('releases 20% of what is left each year: 200000, 160000, 128000 …', () => {
    expect(yearRelease(schedule, 0)).toBe(200_000n);
    expect(yearRelease(schedule, 1)).toBe(160_000n);
    expect(yearRelease(schedule, 2)).toBe(128_000n);
    expect(unreleasedAtYear(schedule, 3)).toBe(512_000n);
  });
  it('spreads a year over its epochs with the odd units first: 160000/3 → 53334, 53333, 53333', () => {
    expect([3, 4, 5].map((e) => epochEmission(schedule, e))).toEqual([53_334n, 53_333n, 53_333n]);
  });
  it('never releases more than the total, summed over 200 years', () => {
    let sum = 0n;
    for (let e = 0; e < 600; e++) sum += epochEmission(schedule, e);
    expect(sum).toBe(schedule.total - unreleasedAtYear(schedule, 200));
    expect(sum <= schedule.total).toBe(true);
  });
  it('has 8760 hourly epochs in a year', () => expect(epochsPerYear(3600)).toBe(8760));
});

describe('regional multiplier', () => {
  it('is ×2 alone in a cell, ×1 at the target, linear between (target 10, bonus 10000)', () => {
    expect(regionMultiplierBps(1, 10, 10_000)).toBe(20_000);
    expect(regionMultiplierBps(4, 10, 10_000)).toBe(16_666);
    expect(regionMultiplierBps(10, 10, 10_000)).toBe(10_000);
    expect(regionMultiplierBps(50, 10, 10_000)).toBe(10_000);
  });
});

describe('node reward split', () => {
  it('operator 1000 stake, delegators 3000 + 1000, reward 1000, 10% commission (hand-computed)', () => {
    // delegated share of the reward: 1000 × 4000/5000 = 800; commission 10% of it = 80.
    // the rest, 920, by stake: op 184, d1 552, d2 184. Operator total 80 + 184 = 264.
    const shares = splitNodeReward(1000n, 'op', 1000, [
      { accountId: 'op', amount: 1000n },
      { accountId: 'd1', amount: 3000n },
      { accountId: 'd2', amount: 1000n },
    ]);
    expect(shares).toEqual([
      { accountId: 'd1', role: 'delegator', amount: 552n, commission: 0n },
      { accountId: 'd2', role: 'delegator', amount: 184n, commission: 0n },
      { accountId: 'op', role: 'operator', amount: 264n, commission: 80n },
    ]);
  });
  it('rounds without loss: reward 10 between three equal delegators and an operator without stake, 15% commission', () => {
    // commission = floor(10 × 3/3 × 0.15) = 1; 9 left by stake: 3, 3, 3.
    const shares = splitNodeReward(10n, 'op', 1500, [
      { accountId: 'a', amount: 5n },
      { accountId: 'b', amount: 5n },
      { accountId: 'c', amount: 5n },
    ]);
    expect(shares.map((s) => [s.accountId, s.amount])).toEqual([
      ['a', 3n],
      ['b', 3n],
      ['c', 3n],
      ['op', 1n],
    ]);
    expect(shares.reduce((s, x) => s + x.amount, 0n)).toBe(10n);
  });
  it('gives everything to the operator when nobody staked', () => {
    expect(splitNodeReward(7n, 'op', 1000, [])).toEqual([{ accountId: 'op', role: 'operator', amount: 7n, commission: 0n }]);
  });
});

describe('epoch rewards', () => {
  it('hand-computed: two nodes, capacity by uptime × weight × region, work by the fees its jobs paid', () => {
    // A: 1 h × RTX 4090 (1.000) alone in cell c1 → ×2; B: 0.5 h × H100 (4.000) alone in c2 → ×2.
    // capacity scores 3.6e6·1000·2e4 : 1.8e6·4000·2e4 = 1 : 2 → 700 pool → 233.33 / 466.67 → 233, 467.
    // work: A's jobs paid 100 of fees, B's 300; the pool of 300 is under 1× the fees (400) → 75, 225.
    const result = computeEpochRewards(
      { capacityPool: 700n, workPool: 300n, epochMs: HOUR, regionTargetNodes: 10, regionMaxBonusBps: 10_000, workFeeMultipleBps: 10_000 },
      [
        node({ nodeId: 'A', gpuSeconds: 100, workFees: 100 }),
        node({ nodeId: 'B', uptimeMs: HOUR / 2, weightMilli: 4000, geoCell: 'c2', gpuSeconds: 300, workFees: 300 }),
      ],
      [],
    );
    expect(result.nodes.map((n) => [n.nodeId, n.regionBps, n.capacityReward, n.workReward, n.netReward])).toEqual([
      ['A', 20_000, 233n, 75n, 308n],
      ['B', 20_000, 467n, 225n, 692n],
    ]);
    expect(result.minted).toBe(1000n);
    expect(result.carry).toBe(0n);
    expect(result.credits).toEqual([
      { accountId: 'op-A', amount: 308n },
      { accountId: 'op-B', amount: 692n },
    ]);
  });
  it('caps uptime at the epoch and carries a pool nobody earned', () => {
    const result = computeEpochRewards(
      { capacityPool: 500n, workPool: 200n, epochMs: HOUR, regionTargetNodes: 10, regionMaxBonusBps: 10_000, workFeeMultipleBps: 10_000 },
      [node({ nodeId: 'A', uptimeMs: 5 * HOUR }), node({ nodeId: 'B', uptimeMs: HOUR, geoCell: 'c1' })],
      [],
    );
    expect(result.nodes.map((n) => n.capacityReward)).toEqual([250n, 250n]);
    expect(result.minted).toBe(500n);
    expect(result.carry).toBe(200n);
  });
  it('takes slashes from the node reward first and keeps Σ shares + slashed = minted', () => {
    const result = computeEpochRewards(
      { capacityPool: 1000n, workPool: 0n, epochMs: HOUR, regionTargetNodes: 1, regionMaxBonusBps: 0, workFeeMultipleBps: 10_000 },
      [node({ nodeId: 'A', slashDue: 300n }), node({ nodeId: 'B', slashDue: 5000n })],
      [{ nodeId: 'A', accountId: 'op-A', amount: 10n }],
    );
    expect(result.nodes.map((n) => [n.slashedReward, n.netReward])).toEqual([
      [300n, 200n],
      [500n, 0n],
    ]);
    expect(result.distributed + result.slashedFromRewards).toBe(result.minted);
  });
  it('pays work by the fees its jobs paid, not GPU-seconds: a node rented by its own operator for 1 base unit takes nothing', () => {
    // H: 2 GPU-seconds that paid 200 units of fees; S: 20 000 GPU-seconds at a price that paid none.
    const params = {
      capacityPool: 0n,
      workPool: 300_000n,
      epochMs: HOUR,
      regionTargetNodes: 10,
      regionMaxBonusBps: 0,
      workFeeMultipleBps: 10_000,
    };
    const honest = node({ nodeId: 'H', gpuSeconds: 2, workFees: 200 });
    const alone = computeEpochRewards(params, [honest], []);
    const farmed = computeEpochRewards(params, [honest, node({ nodeId: 'S', gpuSeconds: 20_000, workFees: 0 })], []);
    expect(farmed.nodes.map((n) => [n.nodeId, n.workReward])).toEqual([
      ['H', 200n],
      ['S', 0n],
    ]);
    expect(farmed.nodes[0]!.workReward).toBe(alone.nodes[0]!.workReward);
    // The pool beyond 1× the fees is carried, not minted.
    expect(farmed.minted).toBe(200n);
    expect(farmed.carry).toBe(299_800n);
  });
  it('caps work rewards at the governed multiple of the fees, and splits a smaller pool by fees', () => {
    const nodes = [node({ nodeId: 'A', gpuSeconds: 10, workFees: 1000 }), node({ nodeId: 'B', gpuSeconds: 10, workFees: 3000 })];
    const half = computeEpochRewards(
      { capacityPool: 0n, workPool: 1_000_000n, epochMs: HOUR, regionTargetNodes: 10, regionMaxBonusBps: 0, workFeeMultipleBps: 5000 },
      nodes,
      [],
    );
    expect(half.nodes.map((n) => n.workReward)).toEqual([500n, 1500n]);
    expect(half.carry).toBe(1_000_000n - 2000n);
    const small = computeEpochRewards(
      { capacityPool: 0n, workPool: 100n, epochMs: HOUR, regionTargetNodes: 10, regionMaxBonusBps: 0, workFeeMultipleBps: 10_000 },
      nodes,
      [],
    );
    expect(small.nodes.map((n) => n.workReward)).toEqual([25n, 75n]);
    expect(small.carry).toBe(0n);
    const none = computeEpochRewards(
      { capacityPool: 0n, workPool: 100n, epochMs: HOUR, regionTargetNodes: 10, regionMaxBonusBps: 0, workFeeMultipleBps: 0 },
      nodes,
      [],
    );
    expect(none.minted).toBe(0n);
    expect(none.carry).toBe(100n);
  });
  it('splits pools: 30% work of emission + carry', () => {
    expect(epochPools(1000n, 1n, 3000)).toEqual({ capacityPool: 701n, workPool: 300n });
  });
});

describe('fees and slashes', () => {
  it('burns the floored share and sends the odd unit to the treasury', () => {
    expect(splitFees(101n, 5000)).toEqual({ burn: 50n, treasury: 51n });
  });
  it('takes a stake slash pro rata over bonded and unbonding stake, never more than there is', () => {
    const { takes, total } = planStakeSlash(100n, [
      { accountId: 'op', source: 'bonded', unbondingId: 0, amount: 600n },
      { accountId: 'd', source: 'bonded', unbondingId: 0, amount: 300n },
      { accountId: 'd', source: 'unbonding', unbondingId: 7, amount: 100n },
    ]);
    expect(total).toBe(100n);
    expect(takes.map((t) => [t.accountId, t.source, t.take])).toEqual([
      ['op', 'bonded', 60n],
      ['d', 'bonded', 30n],
      ['d', 'unbonding', 10n],
    ]);
    expect(planStakeSlash(10_000n, [{ accountId: 'a', source: 'bonded', unbondingId: 0, amount: 5n }]).total).toBe(5n);
  });
  it('spreads what a reward paid over a node’s slashes, oldest first', () => {
    expect([
      ...allocateRewardTake(
        [
          { id: 's1', amount: 50n },
          { id: 's2', amount: 80n },
        ],
        100n,
      ),
    ]).toEqual([
      ['s1', 50n],
      ['s2', 50n],
    ]);
  });
});
