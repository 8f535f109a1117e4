import { announceProposal } from '../../bots/announce.ts';
import { refreshEligibility } from '../staking/eligibility.ts';
import type { GovernanceDeps } from './governance.ops.ts';
import { closeDueProposals, executeDueProposals, type ProposalEvent } from './lifecycle.ts';

/**
 * The cron's governance step: close proposals whose voting ended, execute those whose timelock
 * ran out, announce each outcome where the proposal was posted. Each part is idempotent, so a
 * tick that dies half-way is finished by the next one.
 */
export async function governanceTick(deps: GovernanceDeps, nowMs: number): Promise<ProposalEvent[]> {
  const closed = await closeDueProposals(deps.db, nowMs);
  const executed = await executeDueProposals(deps.db, deps.config, nowMs);
  await afterParamChanges(deps, executed);
  const events = [...closed, ...executed];
  for (const event of events) {
    await announceProposal(deps, { kind: 'outcome', proposalId: event.proposalId }).catch((error) =>
      console.error('governance: announcing an outcome failed', event, error),
    );
  }
  return events;
}

/**
 * `nodes.eligible` is stored, so a new minimum stake per GPU must recompute it for every node
 * (one set-based statement; the statement reads the parameter store itself).
 */
async function afterParamChanges(deps: GovernanceDeps, executed: ProposalEvent[]): Promise<void> {
  const ids = executed.filter((e) => e.kind === 'executed').map((e) => e.proposalId);
  if (ids.length === 0) return;
  const changed = await deps.db.$client
    .prepare(`SELECT 1 FROM proposals WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'param' AND param_name = 'min_stake_per_gpu' LIMIT 1`)
    .bind(JSON.stringify(ids))
    .first();
  if (changed) await refreshEligibility(deps.db, deps.config, null).run();
}
