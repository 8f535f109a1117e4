import { AppError } from '../errors.ts';
import { shardFor } from '../live/shard-stub.ts';
import { billableGpuSeconds } from './billing.ts';
import type { AgentEvent } from './job-input.schema.ts';
import { statusAfterAgentEvent } from './job-state.ts';
import { redactSecrets } from './job-view.ts';
import { changeStatements, eventSeen, eventStatement, getJob, runChange, type JobRow } from './jobs.repo.ts';
import { LOG_STATUSES, storeLogChunk } from './log-caps.ts';
import { closeJob, handleFault, RECEIPT_GRACE_S, type JobsContext } from './jobs.service.ts';

// Signed events from the agent that holds a job. Each event id is recorded once, in the same
// batch as the change it causes, so a duplicate (a retry, a replayed log chunk) finds its id and
// changes nothing; a late event that the job has moved past is recorded and ignored.

export interface SignedCopy {
  path: string;
  timestamp: number;
  nonce: string;
  signature: string;
  body: string;
}

export interface EventOutcome {
  status: JobRow['status'];
  duplicate: boolean;
  /** False when the event was valid but the job had moved past it (it is kept, nothing changed). */
  applied: boolean;
}

const MAX_RETRIES = 4;

export async function applyAgentEvent(
  ctx: JobsContext,
  nodeId: string,
  jobId: string,
  event: AgentEvent,
  signed: SignedCopy,
  nowMs: number,
): Promise<EventOutcome> {
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const job = await getJob(ctx.db, jobId);
    if (!job) throw new AppError(404, 'job_not_found', 'There is no such job.');
    if (job.nodeId !== nodeId) {
      throw new AppError(409, 'job_not_assigned', 'This job is not assigned to this node (any more); stop it.');
    }
    if (await eventSeen(ctx.db, jobId, event.eventId)) return { status: job.status, duplicate: true, applied: false };
    const record = eventStatement(ctx.db, {
      jobId,
      eventId: event.eventId,
      nodeId,
      kind: event.kind,
      at: nowMs,
      signed: event.kind === 'finished' ? JSON.stringify(signed) : null,
    });

    if (event.kind === 'log') {
      // Logs only while the job is starting or running, under the per-job caps (log-caps.ts).
      // Otherwise the line is acknowledged and nothing is written, not even the event id, so a
      // node cannot grow D1 with them; and a closed job's env values are deleted (settleJob), so a
      // late line could not be redacted anyway.
      if (!LOG_STATUSES.includes(job.status)) return { status: job.status, duplicate: false, applied: false };
      const data = redactSecrets(event.data, JSON.parse(job.env) as Record<string, string>);
      const outcome = await storeLogChunk(ctx.db, {
        jobId,
        eventId: event.eventId,
        nodeId,
        seq: event.seq,
        stream: event.stream,
        data,
        at: nowMs,
      });
      return { status: job.status, duplicate: false, applied: outcome === 'stored' };
    }
    if (event.kind === 'rejected') {
      await runChange(ctx.db, [record]);
      const after = await handleFault(ctx, jobId, nodeId, 'rejected', nowMs, `agent:${nodeId}`);
      return { status: after?.status ?? job.status, duplicate: false, applied: after?.status !== job.status };
    }
    const to = statusAfterAgentEvent(
      job.status,
      event.kind === 'finished' ? { kind: 'finished', exitCode: event.exitCode ?? -1, reason: event.reason } : { kind: event.kind },
    );
    if (to === null) {
      await runChange(ctx.db, [record]);
      return { status: job.status, duplicate: false, applied: false };
    }
    const actor = `agent:${nodeId}`;
    if (event.kind === 'finished') {
      const billed = billableGpuSeconds({
        gpuCount: job.gpuCount,
        durationS: job.durationS,
        receiptGpuSeconds: event.receipt.gpuSeconds,
        startedAtMs: job.status === 'running' ? job.startedAt : null,
        endedAtMs: nowMs,
        graceS: RECEIPT_GRACE_S,
      });
      const result = await closeJob(
        ctx,
        job,
        {
          to,
          actor,
          reason: event.message ?? (event.reason === 'exited' ? `exited with code ${event.exitCode}` : event.reason),
          patch: { exitCode: event.exitCode, receiptGpuSeconds: event.receipt.gpuSeconds, finishedAt: nowMs },
          reputation: to === 'succeeded' ? 'succeeded' : undefined,
          also: [record],
        },
        billed,
        nowMs,
      );
      if (result.ok) return { status: to, duplicate: false, applied: true };
      continue;
    }
    const patch = event.kind === 'started' ? { startedAt: nowMs } : {};
    const result = await runChange(ctx.db, [record, ...changeStatements(ctx.db, { job, to, actor, reason: event.kind, patch }, nowMs)]);
    if (result.ok) {
      if (event.kind === 'accepted')
        await shardFor(ctx.env, nodeId)
          .jobAccepted(nodeId, jobId)
          .catch((e) => console.error('jobAccepted', e));
      return { status: to, duplicate: false, applied: true };
    }
  }
  throw new AppError(409, 'job_busy', 'The job changed while this event was applied; send it again.');
}
