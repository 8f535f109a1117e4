// Over 300 lines: the jobs domain's operations share one read-decide-CAS-retry loop and its conflict handling; the escrow half already moved to job-escrow.service.ts (follow-up: events apart from submit/cancel).
import { eq } from 'drizzle-orm';
import { nodes } from '../../db/schema.ts';
import { findOrCreateWalletAccount } from '../accounts/accounts.repo.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { emitAlert } from '../alerts/emit-alert.ts';
import { AppError } from '../errors.ts';
import type { BatchStatement } from '../ledger/d1-batch.ts';
import { shardFor } from '../live/shard-stub.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { getParams } from '../governance/params.repo.ts';
import { GPU_CATALOG } from '../../protocol/gpu-catalog.ts';
import { abandonedJobKey, offenceStatement } from '../slashing/offences.ts';
import { requestedModels } from '../routing/rank.ts';
import { allocate } from './allocation.ts';
import { billableGpuSeconds, escrowFor, settle } from './billing.ts';
import { decideFault, reputationUpdate, type Fault } from './fault-policy.ts';
import { agentJob } from './job-view.ts';
import { isPlaced, isTerminal, type JobStatus } from './job-state.ts';
import {
  changeStatements,
  commitStatements,
  getJob,
  getJobByIdempotencyKey,
  releaseStatement,
  reputationStatement,
  runChange,
  type ChangeResult,
  type JobRow,
  type StatusChange,
} from './jobs.repo.ts';
import { createPlacedJob, settleJob } from './job-escrow.service.ts';
import type { JobRequest } from './job-input.schema.ts';
import { probePointMap } from './quote.repo.ts';
import { quoteCandidates, type QuoteQuery, type QuoteResult } from './quote.service.ts';

// The jobs domain's operations, between the thin routes and the pure rules. Each one reads the
// job, lets the pure modules decide, and applies the decision as one CAS batch; on a conflict it
// re-reads and decides again, so concurrent events, sweeps and cancels end in one state.

export interface JobsContext {
  db: Db;
  env: Env;
  config: Config;
}

/** Clock slack between the agent and us when bounding a receipt by what the server saw. */
export const RECEIPT_GRACE_S = 2;
const CANDIDATES_TRIED = 5;
const MAX_RETRIES = 4;

export function modelsFor(model: string | undefined): string[] {
  const wanted = requestedModels(model);
  return wanted === null ? GPU_CATALOG.map((g) => g.name) : [...wanted];
}

export async function runQuote(ctx: JobsContext, query: QuoteQuery, nowMs: number): Promise<QuoteResult> {
  const probes = await probePointMap(ctx.db, nowMs);
  const result = await quoteCandidates(ctx.db, probes.points, ctx.config.routingWeights, query, nowMs);
  return { ...result, rowsRead: result.rowsRead + probes.rowsRead, queries: result.queries + (probes.rowsRead > 0 ? 1 : 0) };
}

export interface SubmitInput {
  accountId: string;
  request: JobRequest;
  client: { lat: number; lon: number };
  maxPrice: bigint | null;
  /** `<account>:<Idempotency-Key>`, or null. */
  idempotencyKey: string | null;
}

export async function submitJob(ctx: JobsContext, input: SubmitInput, nowMs: number): Promise<{ job: JobRow; replayed: boolean }> {
  const requestHash = await sha256Hex(new TextEncoder().encode(JSON.stringify([input.request, input.client])));
  if (input.idempotencyKey) {
    const existing = await getJobByIdempotencyKey(ctx.db, input.idempotencyKey);
    if (existing) return sameRequest(existing, requestHash);
  }
  const { request } = input;
  const models = modelsFor(request.gpu.model);
  const minVramMb = request.gpu.minVramMb ?? 0;
  const quote = await runQuote(
    ctx,
    { models, minVramMb, count: request.gpu.count, maxPricePerGpuHour: input.maxPrice, client: input.client, limit: CANDIDATES_TRIED },
    nowMs,
  );
  const id = `job_${crypto.randomUUID().replace(/-/g, '')}`;
  for (const candidate of quote.candidates) {
    const allocation = allocate(quote.gpusOf.get(candidate.nodeId) ?? [], request.gpu.count, minVramMb);
    if (!allocation) continue;
    const price = candidate.pricePerGpuHour;
    const escrow = escrowFor(price, request.gpu.count, request.durationS);
    if (escrow > BigInt(Number.MAX_SAFE_INTEGER))
      throw new AppError(400, 'invalid_request', 'This job would cost more than the ledger can hold; ask for fewer GPUs or less time.');
    const job = {
      id,
      accountId: input.accountId,
      idempotencyKey: input.idempotencyKey,
      requestHash,
      status: 'queued' as const,
      version: 0,
      lastActor: 'renter',
      lastReason: 'submitted',
      request: JSON.stringify({
        gpu: request.gpu,
        durationS: request.durationS,
        maxPricePerGpuHour: request.maxPricePerGpuHour ?? null,
        client: input.client,
      }),
      models: JSON.stringify(models),
      gpuCount: request.gpu.count,
      minVramMb,
      durationS: request.durationS,
      clientLat: input.client.lat,
      clientLon: input.client.lon,
      image: request.image,
      command: JSON.stringify(request.command),
      env: JSON.stringify(request.env),
      escrowPrice: Number(price),
      escrowAmount: Number(escrow),
      queueDeadline: nowMs + ctx.config.JOB_QUEUE_TIMEOUT_S * 1000,
      createdAt: nowMs,
      updatedAt: nowMs,
    };
    const result = await createPlacedJob(
      ctx.db,
      { job, place: placeChange(ctx, job, candidate.nodeId, price, allocation, nowMs), nodeId: candidate.nodeId, allocation },
      nowMs,
    );
    if (result.ok) {
      const placed = (await getJob(ctx.db, id))!;
      await offer(ctx, placed, nowMs);
      return { job: placed, replayed: false };
    }
    if (result.failure === 'conflict' && input.idempotencyKey) {
      // The same request raced us and won.
      const existing = await getJobByIdempotencyKey(ctx.db, input.idempotencyKey);
      if (existing) return sameRequest(existing, requestHash);
    }
    // capacity: the node filled up since the quote; try the next one.
  }
  throw new AppError(
    409,
    'no_capacity',
    'No eligible node can take this job right now; nothing was held. Try a higher price cap, fewer GPUs or another model.',
  );
}

function sameRequest(existing: JobRow, requestHash: string): { job: JobRow; replayed: boolean } {
  if (existing.requestHash !== requestHash) {
    throw new AppError(
      409,
      'idempotency_conflict',
      'This Idempotency-Key was already used for a different job request; use a new key for a new request.',
    );
  }
  return { job: existing, replayed: true };
}

function placeChange(
  ctx: JobsContext,
  job: Pick<JobRow, 'id' | 'version' | 'attempts'> | { id: string; version: number; attempts?: number },
  nodeId: string,
  price: bigint,
  allocation: [string, number][],
  nowMs: number,
): StatusChange {
  return {
    job,
    to: 'assigned',
    actor: 'system',
    reason: `placed on ${nodeId}`,
    patch: {
      nodeId,
      pricePerGpuHour: Number(price),
      allocation: JSON.stringify(allocation),
      attempts: (job.attempts ?? 0) + 1,
      assignedAt: nowMs,
      acceptDeadline: nowMs + ctx.config.JOB_ACCEPT_TIMEOUT_S * 1000,
    },
  };
}

/** Tells the node's shard (and through it, the agent's stream) about an assigned job. */
export async function offer(ctx: JobsContext, job: JobRow, nowMs: number): Promise<number> {
  if (job.status !== 'assigned' || !job.nodeId) return 0;
  try {
    return (await shardFor(ctx.env, job.nodeId).offerJob(job.nodeId, agentJob(job), nowMs)).pushed;
  } catch (error) {
    // The heartbeat answer and the sweeper's re-offer still deliver it.
    console.error('job offer failed', job.id, error);
    return 0;
  }
}

async function withdraw(ctx: JobsContext, nodeId: string | null, jobId: string, reason: string): Promise<void> {
  if (!nodeId) return;
  try {
    await shardFor(ctx.env, nodeId).dropJob(nodeId, jobId, reason);
  } catch (error) {
    console.error('job withdraw failed', jobId, error);
  }
}

/** Tries to place a queued job on the best node that never lost it; expires it when its window closed. */
export async function placeQueuedJob(ctx: JobsContext, job: JobRow, nowMs: number): Promise<JobRow> {
  if (job.status !== 'queued') return job;
  if (nowMs > job.queueDeadline || job.attempts >= ctx.config.JOB_MAX_ATTEMPTS) {
    await closeJob(ctx, job, { to: 'expired', actor: 'system', reason: 'no node took the job in time' }, 0, nowMs);
    return (await getJob(ctx.db, job.id))!;
  }
  const quote = await runQuote(
    ctx,
    {
      models: JSON.parse(job.models ?? '[]') as string[],
      minVramMb: job.minVramMb,
      count: job.gpuCount,
      maxPricePerGpuHour: BigInt(job.escrowPrice),
      client: { lat: job.clientLat, lon: job.clientLon },
      limit: CANDIDATES_TRIED,
      exclude: new Set(JSON.parse(job.excludedNodes) as string[]),
    },
    nowMs,
  );
  for (const candidate of quote.candidates) {
    const allocation = allocate(quote.gpusOf.get(candidate.nodeId) ?? [], job.gpuCount, job.minVramMb);
    if (!allocation) continue;
    const change = placeChange(ctx, job, candidate.nodeId, candidate.pricePerGpuHour, allocation, nowMs);
    const result = await runChange(ctx.db, [
      ...changeStatements(ctx.db, change, nowMs),
      ...commitStatements(ctx.db, job.id, candidate.nodeId, allocation),
    ]);
    if (result.ok) {
      const placed = (await getJob(ctx.db, job.id))!;
      await offer(ctx, placed, nowMs);
      return placed;
    }
    if (result.failure !== 'capacity') break;
  }
  return (await getJob(ctx.db, job.id)) ?? job;
}

interface Close {
  to: JobStatus;
  actor: string;
  reason: string;
  patch?: StatusChange['patch'];
  reputation?: 'succeeded' | Fault;
  /** More rows that belong to the close (the agent's finish event). */
  also?: BatchStatement[];
}

/** Terminal transition with settlement. `billed`: GPU-seconds to capture at the node's price. */
export async function closeJob(ctx: JobsContext, job: JobRow, close: Close, billed: number, nowMs: number): Promise<ChangeResult> {
  const price = BigInt(job.pricePerGpuHour ?? 0);
  // Governance's `protocol_fee_bps` (JOB_FEE_BPS until a proposal changes it), as in force at the close.
  const feeBps = (await getParams(ctx.db, ctx.config, nowMs)).protocol_fee_bps;
  const settlement = settle(BigInt(job.escrowAmount), price, billed, feeBps);
  let operatorAccount: string | null = null;
  if (settlement.operator > 0n && job.nodeId) {
    const node = await ctx.db.select({ owner: nodes.owner }).from(nodes).where(eq(nodes.id, job.nodeId)).get();
    if (!node) throw new Error(`job ${job.id}: node ${job.nodeId} is not registered`);
    operatorAccount = (await findOrCreateWalletAccount(ctx.db, node.owner, nowMs)).id;
  }
  const result = await settleJob(
    ctx.db,
    {
      job,
      change: { job, to: close.to, actor: close.actor, reason: close.reason, patch: close.patch },
      settlement,
      operatorAccount,
      billedGpuSeconds: billed,
      also: [
        ...(close.reputation && job.nodeId ? [reputationStatement(ctx.db, job.nodeId, reputationUpdate(close.reputation))] : []),
        ...(close.also ?? []),
      ],
    },
    nowMs,
  );
  if (result.ok) await withdraw(ctx, job.nodeId, job.id, close.reason);
  // Operators hear about failures on their nodes (workers/alerts); one alert per job.
  if (result.ok && close.to === 'failed' && job.nodeId)
    await emitAlert(ctx.env, {
      eventId: `job_failed:${job.id}`,
      kind: 'job_failed',
      nodeId: job.nodeId,
      at: nowMs,
      data: { jobId: job.id, reason: close.reason },
    }).catch((error) => console.error('job_failed alert not emitted', error));
  return result;
}

/** Takes a job away from its node for a fault, and requeues, fails or expires it as the policy says. */
export async function handleFault(
  ctx: JobsContext,
  jobId: string,
  nodeId: string,
  fault: Fault,
  nowMs: number,
  actor = 'system',
): Promise<JobRow | undefined> {
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const job = await getJob(ctx.db, jobId);
    if (!job || job.nodeId !== nodeId || !isPlaced(job.status)) return job;
    const decision = decideFault(job.status, fault, job.attempts, ctx.config.JOB_MAX_ATTEMPTS);
    let result: ChangeResult;
    switch (decision.action) {
      case 'none':
        return job;
      case 'requeue': {
        const excluded = [...new Set([...(JSON.parse(job.excludedNodes) as string[]), nodeId])];
        const change: StatusChange = {
          job,
          to: 'queued',
          actor,
          reason: decision.reason,
          patch: {
            nodeId: null,
            pricePerGpuHour: null,
            allocation: null,
            assignedAt: null,
            acceptDeadline: null,
            excludedNodes: JSON.stringify(excluded),
          },
        };
        result = await runChange(ctx.db, [
          ...changeStatements(ctx.db, change, nowMs),
          releaseStatement(ctx.db, job.id),
          reputationStatement(ctx.db, nodeId, reputationUpdate(fault)),
        ]);
        if (result.ok) {
          await withdraw(ctx, nodeId, job.id, decision.reason);
          return placeQueuedJob(ctx, (await getJob(ctx.db, job.id))!, nowMs);
        }
        break;
      }
      case 'fail':
      case 'expire': {
        const lastSign = fault === 'node_offline' ? await nodeLastSeen(ctx, nodeId, nowMs) : nowMs;
        const endedAt = fault === 'overdue' && job.startedAt !== null ? job.startedAt + job.durationS * 1000 : lastSign;
        // A suspended node's work is not paid for: the renter gets the whole escrow back.
        const billed =
          fault === 'node_suspended'
            ? 0
            : billableGpuSeconds({
                gpuCount: job.gpuCount,
                durationS: job.durationS,
                startedAtMs: job.startedAt,
                endedAtMs: endedAt,
                graceS: 0,
              });
        const also = abandoned(ctx, job, nodeId, fault, endedAt, nowMs);
        result = await closeJob(
          ctx,
          job,
          { to: decision.action === 'fail' ? 'failed' : 'expired', actor, reason: decision.reason, reputation: fault, also },
          billed,
          nowMs,
        );
        break;
      }
    }
    if (result.ok) return getJob(ctx.db, jobId);
    if (result.failure !== 'conflict') throw new Error(`job ${jobId}: fault handling refused (${result.failure})`);
  }
  return getJob(ctx.db, jobId);
}

/**
 * A running job its node dropped — the node went offline, or stayed online but stopped reporting
 * past the job's end — is the staking offence `abandoned_job` (workers/staking/README.md). It is
 * written in the batch that closes the job, so it lands exactly when the close does; its dedupe
 * key makes it one offence per job whatever retries or races happen.
 */
function abandoned(ctx: JobsContext, job: JobRow, nodeId: string, fault: Fault, endedAt: number, nowMs: number): BatchStatement[] {
  if (job.status !== 'running' || (fault !== 'node_offline' && fault !== 'overdue')) return [];
  const evidence = { jobId: job.id, fault, startedAt: job.startedAt, durationS: job.durationS, lastSignAt: endedAt, detectedAt: nowMs };
  return [offenceStatement(ctx.db, ctx.config, { nodeId, offence: 'abandoned_job', dedupeKey: abandonedJobKey(job.id), evidence }, nowMs)];
}

async function nodeLastSeen(ctx: JobsContext, nodeId: string, nowMs: number): Promise<number> {
  const row = await ctx.db.select({ lastSeenAt: nodes.lastSeenAt }).from(nodes).where(eq(nodes.id, nodeId)).get();
  return Math.min(nowMs, row?.lastSeenAt ?? nowMs);
}

export async function cancelJob(ctx: JobsContext, accountId: string, jobId: string, nowMs: number): Promise<JobRow> {
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const job = await getJob(ctx.db, jobId);
    if (!job || job.accountId !== accountId) throw new AppError(404, 'job_not_found', 'There is no such job for this account.');
    if (isTerminal(job.status)) throw new AppError(409, 'job_closed', `The job is already ${job.status}; there is nothing to cancel.`);
    // What ran until now is billed; nothing is billed for a job that had not started.
    const billed = billableGpuSeconds({
      gpuCount: job.gpuCount,
      durationS: job.durationS,
      startedAtMs: job.status === 'running' ? job.startedAt : null,
      endedAtMs: nowMs,
      graceS: 0,
    });
    const result = await closeJob(ctx, job, { to: 'cancelled', actor: 'renter', reason: 'cancelled by the renter' }, billed, nowMs);
    if (result.ok) return (await getJob(ctx.db, jobId))!;
  }
  throw new AppError(409, 'job_busy', 'The job changed while it was being cancelled; try again.');
}
