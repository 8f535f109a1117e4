import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { emitAlert } from '../alerts/emit-alert.ts';
import { AppError } from '../errors.ts';
import { handleFault, type JobsContext } from '../jobs/jobs.service.ts';
import { runBatch } from '../ledger/d1-batch.ts';
import { nonceHomeOf, shardFor } from '../live/shard-stub.ts';
import { refreshEligibility } from '../staking/eligibility.ts';
import { latestSuspension, nodeExists, placedJobsOf, suspendStatements, unsuspendStatements } from './suspension.repo.ts';

// An admin suspends a node (`POST /v1/admin/nodes/{id}/suspend`, README.md) and lifts it again
// (`…/unsuspend`). Suspended:
// - no jobs and no rewards: `nodes.suspended` clears `eligible` in the same batch, and quotes,
//   placement and the epoch snapshot read `eligible` (and `suspended`);
// - every signed request of the node's key gets 403 node_suspended: the flag is copied to the
//   node's nonce home (a NodeShard), where every signed request is admitted, so heartbeats never
//   read D1 for it; registration also reads D1, so the key cannot register again as "new";
// - its placed jobs are taken away as a fault: not yet running → requeued elsewhere; running →
//   failed with the renter refunded in full (the suspension says its work cannot be trusted;
//   no slash, the admin's decision is not the node's offence);
// - its open job streams are closed, and its operator gets a `node_suspended` alert.
// Both routes are idempotent: a repeat, or a retry after a failure half-way, finishes the work
// (shard flag, jobs, alert) without a second event or alert. The job sweeper also takes jobs
// still placed on a suspended node, in case a call died before it handled them.

/** A node has at most a few placed jobs; the sweeper takes any beyond this. */
const JOBS_PER_CALL = 100;

export interface SuspendResult {
  nodeId: string;
  suspended: true;
  reason: string;
  suspendedAt: string;
  jobs: { requeued: number; failed: number };
}

export async function suspendNode(ctx: JobsContext, nodeId: string, reason: string, nowMs: number): Promise<SuspendResult> {
  await requireNode(ctx.db, nodeId);
  // One batch: the event (only when this call suspends), the flag, and eligibility from the flag.
  await runBatch(ctx.db, [...suspendStatements(ctx.db, nodeId, reason, nowMs), refreshEligibility(ctx.db, ctx.config, [nodeId])]);
  const event = await latestSuspension(ctx.db, nodeId);
  // The agent's requests are refused from here on; then its jobs are taken (a stop is pushed on
  // its streams), and only then are the streams closed.
  await nonceHomeOf(ctx.env, nodeId).setSuspended(nodeId, true, nowMs);
  const jobs = await takeJobs(ctx, nodeId, nowMs);
  await shardFor(ctx.env, nodeId).closeStreams(nodeId, 'node suspended');
  // One alert per suspension: the event row's id names it, so a repeated call alerts nothing new.
  await emitAlert(ctx.env, {
    eventId: `node_suspended:${event.id}`,
    kind: 'node_suspended',
    nodeId,
    at: event.at,
    data: { reason: event.reason },
  });
  return { nodeId, suspended: true, reason: event.reason, suspendedAt: new Date(event.at).toISOString(), jobs };
}

export async function unsuspendNode(
  ctx: { db: Db; env: Env; config: Config },
  nodeId: string,
  nowMs: number,
): Promise<{ nodeId: string; suspended: false }> {
  await requireNode(ctx.db, nodeId);
  await runBatch(ctx.db, [...unsuspendStatements(ctx.db, nodeId, nowMs), refreshEligibility(ctx.db, ctx.config, [nodeId])]);
  await nonceHomeOf(ctx.env, nodeId).setSuspended(nodeId, false, nowMs);
  return { nodeId, suspended: false };
}

async function takeJobs(ctx: JobsContext, nodeId: string, nowMs: number): Promise<{ requeued: number; failed: number }> {
  const results = await placedJobsOf(ctx.db, nodeId, JOBS_PER_CALL);
  const counts = { requeued: 0, failed: 0 };
  for (const r of results) {
    await handleFault(ctx, r.id, nodeId, 'node_suspended', nowMs, 'admin');
    if (r.status === 'running') counts.failed++;
    else counts.requeued++;
  }
  return counts;
}

async function requireNode(db: Db, nodeId: string): Promise<void> {
  if (!(await nodeExists(db, nodeId))) throw new AppError(404, 'node_not_found', 'There is no node with this id.');
}
