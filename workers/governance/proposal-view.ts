import { formatAmount } from '../lib/amounts.ts';
import { formatParamValue, isParamName, PARAM_DEFS } from './param-defs.ts';
import type { ProposalRow } from './proposals.repo.ts';
import { decideOutcome, percent, phaseOf, quorumReached, type Tally } from './tally.ts';

// The wire shape of a proposal (amounts as decimal token strings, times ISO) and its tally.
// Pure; the bots render from the same object.

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function proposalView(p: ProposalRow, tally: Tally & { voters: number }, decimals: number, nowMs: number) {
  const amount = (n: number) => formatAmount(n, decimals);
  const rules = { totalPower: p.totalPower, quorumBps: p.quorumBps, thresholdBps: p.thresholdBps };
  const paramValue = p.paramValue === null ? null : (JSON.parse(p.paramValue) as number);
  return {
    id: p.id,
    number: p.number,
    kind: p.kind,
    title: p.title,
    description: p.description,
    proposer: p.proposerAccountId,
    status: p.status,
    phase: phaseOf(p, nowMs),
    grant: p.kind === 'grant' ? { recipient: p.grantRecipient!, amount: amount(p.grantAmount!) } : null,
    param:
      p.kind === 'param' && p.paramName !== null && paramValue !== null
        ? {
            name: p.paramName,
            // Amount parameters are decimal token strings on the wire, like every amount.
            value: isParamName(p.paramName) && PARAM_DEFS[p.paramName].unit === 'amount' ? amount(paramValue) : paramValue,
            display: isParamName(p.paramName) ? formatParamValue(p.paramName, paramValue, decimals) : String(paramValue),
          }
        : null,
    rules: { quorumBps: p.quorumBps, thresholdBps: p.thresholdBps, timelockS: p.timelockMs / 1000 },
    snapshot: { totalPower: amount(p.totalPower) },
    tally: {
      yes: amount(tally.yes),
      no: amount(tally.no),
      abstain: amount(tally.abstain),
      voters: tally.voters,
      turnout: percent(tally.yes + tally.no + tally.abstain, p.totalPower),
      quorumReached: quorumReached(tally, rules),
      /** What closing now would decide; the final outcome once closed. */
      projected: decideOutcome(tally, rules).status,
    },
    outcomeReason: p.outcomeReason,
    openedAt: iso(p.openedAt),
    votingEndsAt: iso(p.votingEndsAt),
    closedAt: iso(p.closedAt),
    executableAt: iso(p.executableAt),
    executedAt: iso(p.executedAt),
    executionTransactionId: p.executionTxId,
  };
}

export type ProposalView = ReturnType<typeof proposalView>;
