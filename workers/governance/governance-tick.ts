import { announceProposal } from '../../bots/announce.ts';
import type { GovernanceDeps } from './governance.ops.ts';
import { closeDueProposals, executeDueProposals, type ProposalEvent } from './lifecycle.ts';

/**
 * The cron's governance step: close proposals whose voting ended, execute those whose timelock
 * ran out, announce each outcome where the proposal was posted. Each part is idempotent, so a
 * tick that dies half-way is finished by the next one.
 */
export async function governanceTick(deps: GovernanceDeps, nowMs: number): Promise<ProposalEvent[]> {
  const closed = await closeDueProposals(deps.db, nowMs);
  const executed = await executeDueProposals(deps.db, nowMs);
  const events = [...closed, ...executed];
  for (const event of events) {
    await announceProposal(deps, { kind: 'outcome', proposalId: event.proposalId }).catch((error) =>
      console.error('governance: announcing an outcome failed', event, error),
    );
  }
  return events;
}
