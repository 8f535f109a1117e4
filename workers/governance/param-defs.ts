import { z } from 'zod';
import { formatAmount, parseAmount } from '../lib/amounts.ts';

// The whitelist of parameters governance may change, each with its type, bounds and default.
// Pure: no I/O. The store (params.repo.ts) keeps only names that were changed; everything else
// reads its default, and governance's own rules default to configuration (see `defaultsFrom`).

export type ParamUnit = 'bps' | 'amount' | 'days' | 'seconds' | 'count';

export interface ParamDef {
  readonly name: ParamName;
  readonly unit: ParamUnit;
  readonly description: string;
  /** Bounds of the stored value (base units for amounts). */
  readonly schema: z.ZodType<number>;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;
const DAY_S = 86_400;

export const PARAM_NAMES = [
  'protocol_fee_bps',
  'min_stake_per_gpu',
  'unbonding_days',
  'commission_cap_bps',
  'voting_period_s',
  'quorum_bps',
  'threshold_bps',
  'timelock_s',
  'proposal_min_stake',
] as const;
export type ParamName = (typeof PARAM_NAMES)[number];
export type Params = Record<ParamName, number>;

export const PARAM_DEFS: Readonly<Record<ParamName, ParamDef>> = {
  protocol_fee_bps: { name: 'protocol_fee_bps', unit: 'bps', description: 'Share of each job payment the protocol keeps', schema: int(0, 3000) },
  min_stake_per_gpu: { name: 'min_stake_per_gpu', unit: 'amount', description: 'Stake a node needs per GPU to be eligible', schema: int(0, MAX_AMOUNT) },
  unbonding_days: { name: 'unbonding_days', unit: 'days', description: 'Days unstaked tokens stay locked', schema: int(0, 90) },
  commission_cap_bps: { name: 'commission_cap_bps', unit: 'bps', description: 'Highest commission an operator may take from delegators', schema: int(0, 10_000) },
  voting_period_s: { name: 'voting_period_s', unit: 'seconds', description: 'How long a proposal is open for votes', schema: int(60, 30 * DAY_S) },
  quorum_bps: { name: 'quorum_bps', unit: 'bps', description: 'Share of the snapshot stake that must vote', schema: int(1, 10_000) },
  threshold_bps: { name: 'threshold_bps', unit: 'bps', description: 'Share of yes+no that yes must exceed', schema: int(0, 9_999) },
  timelock_s: { name: 'timelock_s', unit: 'seconds', description: 'Delay between a passing vote and execution', schema: int(0, 30 * DAY_S) },
  proposal_min_stake: { name: 'proposal_min_stake', unit: 'amount', description: 'Stake needed to open a proposal', schema: int(0, MAX_AMOUNT) },
};

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
}

/** Every parameter's value when the store holds nothing for it. `decimals`: the token's. */
export function defaultParams(governance: GovernanceDefaults): Params {
  return {
    protocol_fee_bps: governance.protocolFeeBps,
    min_stake_per_gpu: governance.minStakePerGpu,
    unbonding_days: governance.unbondingDays,
    commission_cap_bps: governance.commissionCapBps,
    voting_period_s: governance.votingPeriodS,
    quorum_bps: governance.quorumBps,
    threshold_bps: governance.thresholdBps,
    timelock_s: governance.timelockS,
    proposal_min_stake: governance.proposalMinStake,
  };
}

export type ParamParse = { ok: true; value: number } | { ok: false; reason: string };

/**
 * A value as a person writes it ("250" bps, "100.5" tokens, "7" days) → the stored number.
 * Amounts are decimal token strings, like every amount on the wire.
 */
export function parseParamValue(name: ParamName, text: string, decimals: number): ParamParse {
  const def = PARAM_DEFS[name];
  let value: number;
  if (def.unit === 'amount') {
    const amount = parseAmount(text.trim(), decimals);
    if (!amount.ok) return { ok: false, reason: amount.reason };
    value = amount.baseUnits;
  } else {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(text.trim())) return { ok: false, reason: 'must be a whole number' };
    value = Number(text.trim());
  }
  return checkParamValue(name, value, decimals);
}

export function checkParamValue(name: ParamName, value: unknown, decimals: number): ParamParse {
  const result = PARAM_DEFS[name].schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const bounds = describeBounds(name, decimals);
  return { ok: false, reason: bounds ? `must be ${bounds}` : issue.message };
}

function describeBounds(name: ParamName, decimals: number): string | null {
  const schema = PARAM_DEFS[name].schema as z.ZodNumber;
  const min = schema.minValue;
  const max = schema.maxValue;
  if (min === null || max === null) return null;
  const show = (n: number) => formatParamValue(name, n, decimals);
  return `between ${show(min)} and ${show(max)}`;
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
