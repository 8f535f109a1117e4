import { formatAmount, parseAmount } from '../lib/amounts.ts';

// The whitelist of parameters governance may change, each with its type, bounds and default.
// Pure: no I/O. The store (params.repo.ts) keeps only names that were changed; everything else
// reads its default, and governance's own rules default to configuration (see `defaultsFrom`).

export type ParamUnit = 'bps' | 'amount' | 'days' | 'seconds' | 'count';

/**
 * What bounds may depend on: the token's decimals, and the configuration that decides how long
 * an offence can take to be recorded. A deploy can tighten bounds, which is why a proposal is
 * checked again when it executes.
 */
export interface BoundsContext {
  decimals: number;
  /** VERIFY_FAILURE_WINDOW_S: failures within it make one offence, so it is recorded up to this late. */
  offenceWindowS: number;
  /** VERIFY_CHALLENGE_TTL_S: a failed challenge is only known when it expires. */
  challengeTtlS: number;
  /** EPOCH_SECONDS: a recorded offence is slashed by the next epoch close. */
  epochSeconds: number;
}

export const boundsContextOf = (config: {
  TOKEN_DECIMALS: number;
  VERIFY_FAILURE_WINDOW_S: number;
  VERIFY_CHALLENGE_TTL_S: number;
  EPOCH_SECONDS: number;
}): BoundsContext => ({
  decimals: config.TOKEN_DECIMALS,
  offenceWindowS: config.VERIFY_FAILURE_WINDOW_S,
  challengeTtlS: config.VERIFY_CHALLENGE_TTL_S,
  epochSeconds: config.EPOCH_SECONDS,
});

export interface ParamDef {
  readonly name: ParamName;
  readonly unit: ParamUnit;
  readonly description: string;
  /** One of governance's own rules: changing it needs a supermajority and a longer timelock. */
  readonly rule: boolean;
  /** Inclusive bounds of the stored value (base units for amounts). */
  bounds(ctx: BoundsContext): { min: number; max: number };
}

const DAY_S = 86_400;
const fixed = (min: number, max: number) => () => ({ min, max });
const tokens = (min: number, max: number) => (ctx: BoundsContext) => ({ min: min * 10 ** ctx.decimals, max: max * 10 ** ctx.decimals });

export const PARAM_NAMES = [
  'protocol_fee_bps',
  'min_stake_per_gpu',
  'unbonding_days',
  'commission_cap_bps',
  'work_reward_fee_multiple_bps',
  'voting_period_s',
  'quorum_bps',
  'threshold_bps',
  'timelock_s',
  'proposal_min_stake',
] as const;
export type ParamName = (typeof PARAM_NAMES)[number];
export type Params = Record<ParamName, number>;

/**
 * The shortest unbonding that keeps stake slashable: an offence is recorded at most the
 * failed-verification window plus a challenge's time to answer after it happened, and the close
 * after that applies it (one epoch). The epoch close also holds any unbonding of a node with a
 * pending slash (workers/rewards/close-epoch.ts), so a recorded slash always lands first.
 */
export function minUnbondingDays(ctx: BoundsContext): number {
  return Math.max(1, Math.ceil((ctx.offenceWindowS + ctx.challengeTtlS + ctx.epochSeconds) / DAY_S));
}

// Every bound and why it is there: workers/governance/README.md ("Bounds").
export const PARAM_DEFS: Readonly<Record<ParamName, ParamDef>> = {
  protocol_fee_bps: {
    name: 'protocol_fee_bps',
    unit: 'bps',
    rule: false,
    description: 'Share of each job payment the protocol keeps',
    bounds: fixed(0, 3000),
  },
  min_stake_per_gpu: {
    name: 'min_stake_per_gpu',
    unit: 'amount',
    rule: false,
    description: 'Stake a node needs per GPU to be eligible',
    bounds: tokens(1, 1_000_000),
  },
  unbonding_days: {
    name: 'unbonding_days',
    unit: 'days',
    rule: false,
    description: 'Days unstaked tokens stay locked (and slashable)',
    bounds: (ctx) => ({ min: minUnbondingDays(ctx), max: 90 }),
  },
  commission_cap_bps: {
    name: 'commission_cap_bps',
    unit: 'bps',
    rule: false,
    description: 'Highest commission an operator may take from delegators',
    bounds: fixed(0, 5000),
  },
  work_reward_fee_multiple_bps: {
    name: 'work_reward_fee_multiple_bps',
    unit: 'bps',
    rule: false,
    description: "An epoch's work rewards at most this multiple of the fees its jobs paid (10000 = 1x)",
    bounds: fixed(0, 10_000),
  },
  voting_period_s: {
    name: 'voting_period_s',
    unit: 'seconds',
    rule: true,
    description: 'How long a proposal is open for votes',
    bounds: fixed(DAY_S, 30 * DAY_S),
  },
  quorum_bps: {
    name: 'quorum_bps',
    unit: 'bps',
    rule: true,
    description: 'Share of the snapshot stake that must vote',
    bounds: fixed(1000, 5000),
  },
  threshold_bps: {
    name: 'threshold_bps',
    unit: 'bps',
    rule: true,
    description: 'Share of yes+no that yes must exceed',
    bounds: fixed(5000, 7500),
  },
  timelock_s: {
    name: 'timelock_s',
    unit: 'seconds',
    rule: true,
    description: 'Delay between a passing vote and execution',
    bounds: fixed(DAY_S, 30 * DAY_S),
  },
  proposal_min_stake: {
    name: 'proposal_min_stake',
    unit: 'amount',
    rule: true,
    description: 'Stake needed to open a proposal',
    bounds: tokens(1, 100_000),
  },
};

/** A change to one of governance's own rules passes only if yes is more than two thirds of yes + no… */
export const RULE_CHANGE_THRESHOLD_BPS = 6667;
/** …and waits at least this long (or twice the normal timelock, if longer) before it executes. */
export const RULE_CHANGE_MIN_TIMELOCK_S = 7 * DAY_S;

export const isParamName = (name: string): name is ParamName => (PARAM_NAMES as readonly string[]).includes(name);

/** The governance rules that come from configuration until a proposal changes them. */
export interface GovernanceDefaults {
  votingPeriodS: number;
  quorumBps: number;
  thresholdBps: number;
  timelockS: number;
  proposalMinStake: number;
  /** The economy's configuration until governance changes it (JOB_FEE_BPS, MIN_STAKE_PER_GPU_TOKENS, …). */
  protocolFeeBps: number;
  /** Base units. */
  minStakePerGpu: number;
  unbondingDays: number;
  commissionCapBps: number;
  workRewardFeeMultipleBps: number;
}

/**
 * Every parameter's value when the store holds nothing for it, clamped into its bounds: a
 * configuration cannot switch governance (or slashing) off where a proposal could not.
 */
export function defaultParams(governance: GovernanceDefaults, ctx: BoundsContext): Params {
  const params: Params = {
    protocol_fee_bps: governance.protocolFeeBps,
    min_stake_per_gpu: governance.minStakePerGpu,
    unbonding_days: governance.unbondingDays,
    commission_cap_bps: governance.commissionCapBps,
    work_reward_fee_multiple_bps: governance.workRewardFeeMultipleBps,
    voting_period_s: governance.votingPeriodS,
    quorum_bps: governance.quorumBps,
    threshold_bps: governance.thresholdBps,
    timelock_s: governance.timelockS,
    proposal_min_stake: governance.proposalMinStake,
  };
  for (const name of PARAM_NAMES) {
    const { min, max } = PARAM_DEFS[name].bounds(ctx);
    params[name] = Math.min(max, Math.max(min, params[name]));
  }
  return params;
}

export type ParamParse = { ok: true; value: number } | { ok: false; reason: string };

/**
 * A value as a person writes it ("250" bps, "100.5" tokens, "7" days) → the stored number.
 * Amounts are decimal token strings, like every amount on the wire.
 */
export function parseParamValue(name: ParamName, text: string, ctx: BoundsContext): ParamParse {
  const def = PARAM_DEFS[name];
  let value: number;
  if (def.unit === 'amount') {
    const amount = parseAmount(text.trim(), ctx.decimals);
    if (!amount.ok) return { ok: false, reason: amount.reason };
    value = amount.baseUnits;
  } else {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(text.trim())) return { ok: false, reason: 'must be a whole number' };
    value = Number(text.trim());
  }
  return checkParamValue(name, value, ctx);
}

/** Checks a stored (or proposed) value against the bounds in force: at opening and at execution. */
export function checkParamValue(name: ParamName, value: unknown, ctx: BoundsContext): ParamParse {
  const { min, max } = PARAM_DEFS[name].bounds(ctx);
  const show = (n: number) => formatParamValue(name, n, ctx.decimals);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    return { ok: false, reason: `must be between ${show(min)} and ${show(max)}` };
  }
  return { ok: true, value };
}

/** The stored number as a person reads it: "250 bps", "100.000000 tokens", "7 days". */
export function formatParamValue(name: ParamName, value: number, decimals: number): string {
  switch (PARAM_DEFS[name].unit) {
    case 'amount':
      return `${formatAmount(value, decimals)} tokens`;
    case 'bps':
      return `${value} bps`;
    case 'days':
      return `${value} days`;
    case 'seconds':
      return `${value} s`;
    case 'count':
      return String(value);
  }
}
