import {
  checkParamValue,
  isParamName,
  PARAM_DEFS,
  RULE_CHANGE_MIN_TIMELOCK_S,
  RULE_CHANGE_THRESHOLD_BPS,
  type BoundsContext,
  type ParamName,
  type Params,
} from './param-defs.ts';

// The rules a proposal runs under, and the last check before it executes. Pure.
//
// Governance could otherwise vote itself out of existence (a quorum nobody reaches, a timelock
// of zero, a threshold only unanimity passes): every value has bounds (param-defs.ts), and a
// change to one of governance's own rules needs a supermajority and waits longer, so a bare
// majority cannot rewrite the rules in a day.

export interface ProposalRules {
  quorumBps: number;
  thresholdBps: number;
  timelockS: number;
}

/** The rules copied onto a proposal when it opens; a later parameter change never moves them. */
export function rulesFor(param: { name: ParamName } | undefined, params: Params): ProposalRules {
  const rules = { quorumBps: params.quorum_bps, thresholdBps: params.threshold_bps, timelockS: params.timelock_s };
  if (!param || !PARAM_DEFS[param.name].rule) return rules;
  return {
    ...rules,
    thresholdBps: Math.max(rules.thresholdBps, RULE_CHANGE_THRESHOLD_BPS),
    timelockS: Math.max(2 * rules.timelockS, RULE_CHANGE_MIN_TIMELOCK_S),
  };
}

export type ExecutionRefusal = 'unknown_param' | 'out_of_bounds' | 'needs_supermajority';

/**
 * Why a passed `param` proposal must not execute, or null. Checked again at execution because
 * the bounds can tighten between opening and execution (a deploy changes the configuration
 * they depend on), and a row opened under older rules must not slip a rule change through.
 */
export function executionRefusal(
  p: { paramName: string | null; paramValue: string | null; thresholdBps: number; timelockMs: number },
  ctx: BoundsContext,
): ExecutionRefusal | null {
  if (p.paramName === null || !isParamName(p.paramName)) return 'unknown_param';
  let value: unknown;
  try {
    value = JSON.parse(p.paramValue ?? 'null');
  } catch {
    return 'out_of_bounds';
  }
  if (!checkParamValue(p.paramName, value, ctx).ok) return 'out_of_bounds';
  if (PARAM_DEFS[p.paramName].rule && (p.thresholdBps < RULE_CHANGE_THRESHOLD_BPS || p.timelockMs < RULE_CHANGE_MIN_TIMELOCK_S * 1000)) {
    return 'needs_supermajority';
  }
  return null;
}
