import { dbOf } from '../app-env.ts';
import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { assignedPastDeadline, jobsInStatus, jobsOnOfflineNodes, type JobRow } from '../jobs/jobs.repo.ts';
import { handleFault, offer, placeQueuedJob, type JobsContext } from '../jobs/jobs.service.ts';
import { jobsOnSuspendedNodes } from '../nodes/suspension.repo.ts';

/** Per run and per kind of work, so one minute's sweep stays well inside a Worker's limits. */
const BATCH = 100;

/**
 * Every minute, beside the shard sweep: jobs whose node missed the acceptance deadline or went
 * offline lose it (requeued, or failed and billed for what ran), as do jobs of suspended nodes; running jobs past their
 * duration are closed; queued jobs are placed or expire; assigned jobs are offered again in case
 * the first push was lost. Each job is handled on its own, so one failure does not stop the rest.
 */
export async function sweepJobs(env: Env, nowMs: number) {
  const config = getConfig(env);
  const ctx: JobsContext = { db: dbOf(env), env, config };
  const counts = { acceptTimeouts: 0, offline: 0, suspended: 0, overdue: 0, placed: 0, expired: 0, reoffered: 0, failed: 0 };
  const each = async (jobs: JobRow[], work: (job: JobRow) => Promise<unknown>) => {
    for (const r of await Promise.allSettled(jobs.map(work))) {
      if (r.status === 'rejected') {
        counts.failed++;
        console.error('job sweep failed', r.reason);
      }
    }
  };

  await each(await assignedPastDeadline(ctx.db, nowMs, BATCH), async (job) => {
    await handleFault(ctx, job.id, job.nodeId!, 'accept_timeout', nowMs);
    counts.acceptTimeouts++;
  });
  await each(await jobsOnOfflineNodes(ctx.db, BATCH), async (job) => {
    await handleFault(ctx, job.id, job.nodeId!, 'node_offline', nowMs);
    counts.offline++;
  });
  // The suspend route takes a node's jobs itself; this catches what a failed call left behind.
  await each(await jobsOnSuspendedNodes(ctx.db, BATCH), async (job) => {
    await handleFault(ctx, job.id, job.nodeId!, 'node_suspended', nowMs, 'admin');
    counts.suspended++;
  });
  const running = await jobsInStatus(ctx.db, ['running'], 1000);
  const overdue = running.filter((j) => j.startedAt !== null && j.startedAt + (j.durationS + config.JOB_OVERDUE_GRACE_S) * 1000 < nowMs);
  await each(overdue.slice(0, BATCH), async (job) => {
    await handleFault(ctx, job.id, job.nodeId!, 'overdue', nowMs);
    counts.overdue++;
  });
  await each(await jobsInStatus(ctx.db, ['queued'], BATCH), async (job) => {
    const after = await placeQueuedJob(ctx, job, nowMs);
    if (after.status === 'assigned') counts.placed++;
    if (after.status === 'expired') counts.expired++;
  });
  await each(await jobsInStatus(ctx.db, ['assigned'], BATCH), async (job) => {
    if ((job.acceptDeadline ?? 0) >= nowMs) counts.reoffered += (await offer(ctx, job, nowMs)) >= 0 ? 1 : 0;
  });
  return counts;
}
