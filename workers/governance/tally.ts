import type { ProposalStatus, VoteChoice } from '../../db/schema/governance.ts';

// Vote arithmetic and the proposal state machine, without I/O. Power is in base units of staked
// tokens and can reach 9e15, so shares are compared in bigint: a × 10 000 would not fit a double.

export interface Tally {
  yes: number;
  no: number;
  abstain: number;
}

export interface Rules {
  /** Everything staked at the snapshot. */
  totalPower: number;
  /** Share of totalPower that must have voted (yes + no + abstain), in basis points. */
  quorumBps: number;
  /** Yes must be strictly more than this share of yes + no, in basis points (5000: simple majority; a tie fails). */
  thresholdBps: number;
}

export type Outcome = { status: 'passed'; reason: 'passed' } | { status: 'rejected'; reason: 'no_quorum' | 'threshold_not_met' | 'tie' };

export const emptyTally = (): Tally => ({ yes: 0, no: 0, abstain: 0 });

export function turnout(t: Tally): number {
  return t.yes + t.no + t.abstain;
}

/** Abstentions count towards quorum, not towards the threshold. */
export function quorumReached(t: Tally, rules: Rules): boolean {
  if (rules.totalPower <= 0) return false;
  return BigInt(turnout(t)) * 10_000n >= BigInt(rules.quorumBps) * BigInt(rules.totalPower);
}

export function thresholdMet(t: Tally, rules: Rules): boolean {
  const decisive = BigInt(t.yes) + BigInt(t.no);
  if (decisive === 0n) return false;
  return BigInt(t.yes) * 10_000n > BigInt(rules.thresholdBps) * decisive;
}

export function decideOutcome(t: Tally, rules: Rules): Outcome {
  if (!quorumReached(t, rules)) return { status: 'rejected', reason: 'no_quorum' };
  if (thresholdMet(t, rules)) return { status: 'passed', reason: 'passed' };
  return { status: 'rejected', reason: t.yes === t.no ? 'tie' : 'threshold_not_met' };
}

/** Adds up vote rows; the SQL tally does the same with one GROUP BY. */
export function tallyOf(rows: readonly { choice: VoteChoice; power: number }[]): Tally {
  const t = emptyTally();
  for (const r of rows) t[r.choice] += r.power;
  return t;
}

/** The allowed status moves; the proposals trigger (migration) enforces the same table in SQL. */
export const PROPOSAL_TRANSITIONS: Readonly<Record<ProposalStatus, readonly ProposalStatus[]>> = {
  open: ['passed', 'rejected'],
  passed: ['executed', 'failed'],
  rejected: [],
  executed: [],
  failed: [],
};

export const canTransition = (from: ProposalStatus, to: ProposalStatus) => PROPOSAL_TRANSITIONS[from].includes(to);

/** What a proposal is doing at `nowMs`, whatever the cron has got round to writing yet. */
export type Phase = 'voting' | 'counting' | 'timelock' | 'executable' | 'done';

export function phaseOf(p: { status: ProposalStatus; votingEndsAt: number; executableAt: number | null }, nowMs: number): Phase {
  switch (p.status) {
    case 'open':
      return nowMs < p.votingEndsAt ? 'voting' : 'counting';
    case 'passed':
      return p.executableAt !== null && nowMs >= p.executableAt ? 'executable' : 'timelock';
    default:
      return 'done';
  }
}

/** Share in percent with two decimals, for replies ("12.50%"). */
export function percent(part: number, whole: number): string {
  if (whole <= 0) return '0.00%';
  const cents = Number((BigInt(part) * 10_000n) / BigInt(whole)); // hundredths of a percent
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}%`;
}
