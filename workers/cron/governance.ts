import { dbOf } from '../app-env.ts';
import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import type { GovernanceDeps } from '../governance/governance-deps.ts';
import { governanceTick } from '../governance/governance-tick.ts';
import type { ProposalEvent } from '../governance/lifecycle.ts';
import type { Ports } from '../ports.ts';
import { refreshEligibility } from '../staking/eligibility.ts';

/** Scheduled entry for governance; failures are logged so the other cron steps still run. */
export async function runGovernanceCron(
  env: Env,
  scheduledTime: number,
  ctx: ExecutionContext,
  ports: Pick<Ports, 'announceProposal'>,
): Promise<void> {
  try {
    const db = dbOf(env);
    await governanceStep(
      { db, config: getConfig(env), env, defer: (p) => ctx.waitUntil(p), announce: ports.announceProposal },
      scheduledTime,
    );
  } catch (error) {
    console.error('governance cron failed', error);
  }
}

/** The governance tick with what follows a parameter change wired in (also `/admin governance-tick`). */
export function governanceStep(deps: GovernanceDeps, nowMs: number): Promise<ProposalEvent[]> {
  return governanceTick(deps, nowMs, async (changed) => {
    // `nodes.eligible` is stored, so a new minimum stake per GPU must recompute it for every node
    // (one set-based statement; the statement reads the parameter store itself).
    if (changed.includes('min_stake_per_gpu')) await refreshEligibility(deps.db, deps.config, null).run();
  });
}
