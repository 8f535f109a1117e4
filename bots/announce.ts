import type { GovernanceDeps } from '../workers/governance/governance.ops.ts';
import { announceOnDiscord } from './discord/announce.ts';
import { announceOnTelegram } from './telegram/announce.ts';

// Where governance news goes. Each platform's announcer does nothing when that platform is not
// configured; one platform failing does not keep the news from the other.

export type ProposalAnnouncement =
  /** A new proposal: post it with its vote buttons. */
  | { kind: 'opened'; proposalId: string }
  /** A vote changed the tally: refresh the posted message. */
  | { kind: 'tally'; proposalId: string }
  /** Closed, executed or failed: refresh the message and post the outcome beside it. */
  | { kind: 'outcome'; proposalId: string };

export async function announceProposal(deps: GovernanceDeps, announcement: ProposalAnnouncement): Promise<void> {
  const results = await Promise.allSettled([announceOnDiscord(deps, announcement), announceOnTelegram(deps, announcement)]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) throw failed.length === 1 ? failed[0]!.reason : new AggregateError(failed.map((f) => f.reason), 'governance announcements failed');
}
