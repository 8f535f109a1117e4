import type { GovernanceDeps } from './governance-deps.ts';
import { closeDueProposals, executeDueProposals, type ProposalEvent } from './lifecycle.ts';
import type { ParamName } from './param-defs.ts';

/**
 * What other domains must do once parameters changed (staking recomputes its stored eligibility
 * when the minimum stake moves). Governance only reports the names; workers/cron/governance.ts
 * wires the rest, so governance imports no domain that reads its parameters.
 */
export type AfterParamChanges = (changed: ParamName[]) => Promise<void>;

/**
 * The cron's governance step: close proposals whose voting ended, execute those whose timelock
 * ran out, announce each outcome where the proposal was posted. Each part is idempotent, so a
 * tick that dies half-way is finished by the next one.
 */
export async function governanceTick(deps: GovernanceDeps, nowMs: number, afterParamChanges: AfterParamChanges): Promise<ProposalEvent[]> {
  const closed = await closeDueProposals(deps.db, nowMs);
  const executed = await executeDueProposals(deps.db, deps.config, nowMs);
  const changed = await changedParams(deps, executed);
  if (changed.length > 0) await afterParamChanges(changed);
  const events = [...closed, ...executed];
  for (const event of events) {
    await deps
      .announce(deps, { kind: 'outcome', proposalId: event.proposalId })
      .catch((error) => console.error('governance: announcing an outcome failed', event, error));
  }
  return events;
}

/** The parameters that the proposals executed in this tick set (one query, none if nothing executed). */
async function changedParams(deps: GovernanceDeps, executed: ProposalEvent[]): Promise<ParamName[]> {
  const ids = executed.filter((e) => e.kind === 'executed').map((e) => e.proposalId);
  if (ids.length === 0) return [];
  const { results } = await deps.db.$client
    .prepare(
      `SELECT DISTINCT param_name AS name FROM proposals WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'param' AND param_name IS NOT NULL`,
    )
    .bind(JSON.stringify(ids))
    .all<{ name: ParamName }>();
  return results.map((r) => r.name);
}
