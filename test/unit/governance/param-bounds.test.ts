import { describe, expect, it } from 'vitest';
import {
  checkParamValue,
  defaultParams,
  minUnbondingDays,
  PARAM_NAMES,
  type BoundsContext,
  type GovernanceDefaults,
} from '../../../workers/governance/param-defs.ts';
import { executionRefusal, rulesFor } from '../../../workers/governance/proposal-rules.ts';

// The pure side of "governance cannot switch itself off": bounds that follow configuration,
// configured defaults clamped into them, and the stricter rules for changing the rules.

const ctx: BoundsContext = { decimals: 6, offenceWindowS: 86_400, challengeTtlS: 3600, epochSeconds: 3600 };
const DAY = 86_400;

describe('parameter bounds', () => {
  it('keeps unbonding at least the time an offence can take to be recorded and slashed, in whole days', () => {
    expect(minUnbondingDays(ctx)).toBe(2); // 1 day + 1 h + 1 h → 2 days
    expect(minUnbondingDays({ ...ctx, offenceWindowS: 3 * DAY })).toBe(4);
    expect(minUnbondingDays({ ...ctx, offenceWindowS: 60, challengeTtlS: 60, epochSeconds: 60 })).toBe(1);
    expect(checkParamValue('unbonding_days', 1, ctx)).toEqual({ ok: false, reason: 'must be between 2 days and 90 days' });
    expect(checkParamValue('unbonding_days', 2, ctx)).toEqual({ ok: true, value: 2 });
  });

  it('refuses what is not a safe whole number, and amounts in base units', () => {
    expect(checkParamValue('quorum_bps', 1500.5, ctx).ok).toBe(false);
    expect(checkParamValue('quorum_bps', '1500', ctx).ok).toBe(false);
    expect(checkParamValue('min_stake_per_gpu', 999_999, ctx)).toEqual({
      ok: false,
      reason: 'must be between 1.000000 tokens and 1000000.000000 tokens',
    });
    expect(checkParamValue('min_stake_per_gpu', 1_000_000, ctx).ok).toBe(true);
  });

  it('clamps configured defaults into the bounds: configuration cannot switch governance off either', () => {
    const reckless: GovernanceDefaults = {
      votingPeriodS: 60,
      quorumBps: 1,
      thresholdBps: 9999,
      timelockS: 0,
      proposalMinStake: 0,
      protocolFeeBps: 9000,
      minStakePerGpu: 0,
      unbondingDays: 0,
      commissionCapBps: 10_000,
      workRewardFeeMultipleBps: 50_000,
    };
    expect(defaultParams(reckless, ctx)).toEqual({
      voting_period_s: DAY,
      quorum_bps: 1000,
      threshold_bps: 7500,
      timelock_s: DAY,
      proposal_min_stake: 1_000_000,
      protocol_fee_bps: 3000,
      min_stake_per_gpu: 1_000_000,
      unbonding_days: 2,
      commission_cap_bps: 5000,
      work_reward_fee_multiple_bps: 10_000,
    });
    for (const name of PARAM_NAMES) expect(checkParamValue(name, defaultParams(reckless, ctx)[name], ctx).ok).toBe(true);
  });
});

describe('proposal rules', () => {
  const params = defaultParams(
    {
      votingPeriodS: 3 * DAY,
      quorumBps: 1000,
      thresholdBps: 5000,
      timelockS: DAY,
      proposalMinStake: 1000e6,
      protocolFeeBps: 1000,
      minStakePerGpu: 200e6,
      unbondingDays: 7,
      commissionCapBps: 2000,
      workRewardFeeMultipleBps: 10_000,
    },
    ctx,
  );

  it('gives rule changes a supermajority and a week, everything else the normal rules', () => {
    expect(rulesFor(undefined, params)).toEqual({ quorumBps: 1000, thresholdBps: 5000, timelockS: DAY });
    expect(rulesFor({ name: 'protocol_fee_bps' }, params)).toEqual({ quorumBps: 1000, thresholdBps: 5000, timelockS: DAY });
    for (const name of ['voting_period_s', 'quorum_bps', 'threshold_bps', 'timelock_s', 'proposal_min_stake'] as const) {
      expect(rulesFor({ name }, params)).toEqual({ quorumBps: 1000, thresholdBps: 6667, timelockS: 7 * DAY });
    }
    // A stricter normal rule wins: threshold 7000 stays, a 5-day timelock doubles.
    expect(rulesFor({ name: 'quorum_bps' }, { ...params, threshold_bps: 7000, timelock_s: 5 * DAY })).toEqual({
      quorumBps: 1000,
      thresholdBps: 7000,
      timelockS: 10 * DAY,
    });
  });

  it('refuses at execution what the bounds in force or the rule-change rules do not allow', () => {
    const row = (paramName: string, paramValue: string, thresholdBps = 5000, timelockMs = DAY * 1000) => ({
      paramName,
      paramValue,
      thresholdBps,
      timelockMs,
    });
    expect(executionRefusal(row('unbonding_days', '2'), ctx)).toBeNull();
    expect(executionRefusal(row('unbonding_days', '2'), { ...ctx, offenceWindowS: 3 * DAY })).toBe('out_of_bounds');
    expect(executionRefusal(row('unbonding_days', '"2"'), ctx)).toBe('out_of_bounds');
    expect(executionRefusal(row('unbonding_days', 'not json'), ctx)).toBe('out_of_bounds');
    expect(executionRefusal(row('dropped_param', '1'), ctx)).toBe('unknown_param');
    expect(executionRefusal(row('quorum_bps', '2000'), ctx)).toBe('needs_supermajority');
    expect(executionRefusal(row('quorum_bps', '2000', 6667, 7 * DAY * 1000), ctx)).toBeNull();
    expect(executionRefusal(row('quorum_bps', '2000', 6667, DAY * 1000), ctx)).toBe('needs_supermajority');
  });
});
