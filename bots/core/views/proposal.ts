import type { ProposalView } from '../../../workers/governance/proposal-view.ts';
import { dateTime } from '../../../workers/lib/human-time.ts';
import { action, reply, type Reply, type ReplyButton } from '../reply.ts';

/** An ISO time of the view as a person reads it in a message that stays in the channel. */
const when = (iso: string | null | undefined) => (iso ? dateTime(Date.parse(iso)) : '—');

// How a proposal reads in chat, on every platform: the announcement with its live tally and
// Yes / No / Abstain buttons, and the one-line entries of /proposal list.

const STATUS_LABEL: Record<ProposalView['status'], string> = {
  open: 'Voting open',
  passed: 'Passed — waiting for the timelock',
  rejected: 'Rejected',
  executed: 'Executed',
  failed: 'Passed, but execution failed',
};

const REASON_LABEL: Record<string, string> = {
  no_quorum: 'quorum not reached',
  threshold_not_met: 'not enough yes votes',
  tie: 'a tie',
  passed: 'passed',
  insufficient_treasury: 'the community treasury is short of funds',
  unknown_recipient: 'the recipient account no longer exists',
};

export function whatItDoes(p: ProposalView): string {
  switch (p.kind) {
    case 'grant':
      return `Grant ${p.grant!.amount} tokens from the community treasury to ${p.grant!.recipient}.`;
    case 'param':
      return `Set ${p.param!.name} to ${p.param!.display}.`;
    case 'text':
      return 'Signal only: nothing is executed.';
  }
}

export function voteButtons(p: ProposalView): ReplyButton[] {
  const closed = p.status !== 'open' || p.phase !== 'voting';
  return [
    { kind: 'action', label: 'Yes', action: action('vote', String(p.number), 'yes'), style: 'success', disabled: closed },
    { kind: 'action', label: 'No', action: action('vote', String(p.number), 'no'), style: 'danger', disabled: closed },
    { kind: 'action', label: 'Abstain', action: action('vote', String(p.number), 'abstain'), style: 'secondary', disabled: closed },
  ];
}

/** The proposal message: posted to the governance channel and shown by /proposal show. */
export function proposalReply(p: ProposalView, options: { buttons?: boolean } = {}): Reply {
  const status =
    p.outcomeReason && p.status !== 'open'
      ? `${STATUS_LABEL[p.status]} (${REASON_LABEL[p.outcomeReason] ?? p.outcomeReason})`
      : STATUS_LABEL[p.status];
  const blocks = [whatItDoes(p)];
  if (p.description) blocks.push(p.description);
  return reply({
    title: `Proposal #${p.number}: ${p.title}`,
    blocks,
    fields: [
      { name: 'Status', value: status, inline: true },
      { name: 'Yes', value: p.tally.yes, inline: true },
      { name: 'No', value: p.tally.no, inline: true },
      { name: 'Abstain', value: p.tally.abstain, inline: true },
      {
        name: 'Turnout',
        value: `${p.tally.turnout} of ${p.snapshot.totalPower} staked (quorum ${p.rules.quorumBps / 100}%)`,
        inline: true,
      },
      { name: 'Voters', value: String(p.tally.voters), inline: true },
      { name: p.status === 'open' ? 'Voting ends' : 'Voting ended', value: when(p.votingEndsAt), inline: true },
      ...(p.executableAt && p.status === 'passed' ? [{ name: 'Executes after', value: when(p.executableAt), inline: true }] : []),
      ...(p.executionTransactionId ? [{ name: 'Ledger transaction', value: p.executionTransactionId, inline: false }] : []),
    ],
    buttons: options.buttons === false ? undefined : voteButtons(p),
    tone: p.status === 'rejected' || p.status === 'failed' ? 'warning' : p.status === 'executed' ? 'success' : 'info',
    footer: `Voting power is bonded stake at the snapshot when the proposal opened · ${p.id}`,
  });
}

export function proposalLine(p: ProposalView): string {
  return `#${p.number} ${p.title} — ${STATUS_LABEL[p.status]}; yes ${p.tally.yes}, no ${p.tally.no}, abstain ${p.tally.abstain}`;
}

/** The announcement of an outcome, posted in the same channel as the proposal. */
export function outcomeReply(p: ProposalView): Reply {
  const reason = p.outcomeReason ? (REASON_LABEL[p.outcomeReason] ?? p.outcomeReason) : '';
  const text =
    p.status === 'passed'
      ? `Proposal #${p.number} passed. It executes after the timelock, at ${when(p.executableAt)}.`
      : p.status === 'rejected'
        ? `Proposal #${p.number} was rejected: ${reason}.`
        : p.status === 'executed'
          ? `Proposal #${p.number} was executed. ${whatItDoes(p)}`
          : `Proposal #${p.number} passed but could not be executed: ${reason}.`;
  return reply({
    title: `Proposal #${p.number}: ${p.title}`,
    blocks: [text],
    fields: [
      { name: 'Yes', value: p.tally.yes, inline: true },
      { name: 'No', value: p.tally.no, inline: true },
      { name: 'Abstain', value: p.tally.abstain, inline: true },
    ],
    tone: p.status === 'executed' || p.status === 'passed' ? 'success' : 'warning',
  });
}
