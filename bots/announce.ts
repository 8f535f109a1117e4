import type { GovernanceDeps } from '../workers/governance/governance.ops.ts';
import { announceOnDiscord } from './discord/announce.ts';

// Where governance news goes. Each platform's announcer does nothing when that platform is not
// configured; the Telegram bot adds its own line here.

export type ProposalAnnouncement =
  /** A new proposal: post it with its vote buttons. */
  | { kind: 'opened'; proposalId: string }
  /** A vote changed the tally: refresh the posted message. */
  | { kind: 'tally'; proposalId: string }
  /** Closed, executed or failed: refresh the message and post the outcome beside it. */
  | { kind: 'outcome'; proposalId: string };

export async function announceProposal(deps: GovernanceDeps, announcement: ProposalAnnouncement): Promise<void> {
  await announceOnDiscord(deps, announcement);
}
