import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Jobs: what renters run on nodes. Every record is described in workers/jobs/README.md.
// Amounts are integers in base units of the token; times are Unix milliseconds.

export const JOB_STATUSES = ['queued', 'assigned', 'starting', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    /** `<accountId>:<Idempotency-Key>` when the renter sent one; null otherwise. */
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the canonical request, so a retry with other parameters is refused. */
    requestHash: text('request_hash').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    /** Bumped by every change: writers compare-and-swap on it (see workers/jobs/jobs.repo.ts). */
    version: integer('version').notNull().default(0),
    /** Who made the last transition (`renter`, `agent:<nodeId>`, `system`) and why: the status trigger logs both. */
    lastActor: text('last_actor').notNull(),
    lastReason: text('last_reason').notNull(),
    nodeId: text('node_id'),
    /** The request as given: `{ gpu, durationS, maxPricePerGpuHour, client }`. */
    request: text('request').notNull(),
    /** Catalogue names the request accepts (JSON array); null: any model. */
    models: text('models'),
    gpuCount: integer('gpu_count').notNull(),
    minVramMb: integer('min_vram_mb').notNull().default(0),
    durationS: integer('duration_s').notNull(),
    clientLat: real('client_lat').notNull(),
    clientLon: real('client_lon').notNull(),
    image: text('image').notNull(),
    command: text('command').notNull().default('[]'),
    /** JSON object; every value is treated as a secret (never shown to anyone but the assigned agent). */
    env: text('env').notNull().default('{}'),
    /** The escrow was held at this price per GPU-hour: the job is only ever placed on nodes at or below it. */
    escrowPrice: integer('escrow_price').notNull(),
    escrowAmount: integer('escrow_amount').notNull(),
    /** Price per GPU-hour of the node it is assigned to; what is billed. */
    pricePerGpuHour: integer('price_per_gpu_hour'),
    /** The GPU groups committed on the node: JSON `[[model, count], …]`. */
    allocation: text('allocation'),
    /** Nodes that lost this job (missed the deadline, went offline, refused): never offered it again. */
    excludedNodes: text('excluded_nodes').notNull().default('[]'),
    attempts: integer('attempts').notNull().default(0),
    acceptDeadline: integer('accept_deadline'),
    queueDeadline: integer('queue_deadline').notNull(),
    assignedAt: integer('assigned_at'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    exitCode: integer('exit_code'),
    /** From the agent's signed receipt. */
    receiptGpuSeconds: integer('receipt_gpu_seconds'),
    billedGpuSeconds: integer('billed_gpu_seconds'),
    captured: integer('captured'),
    fee: integer('fee'),
    refunded: integer('refunded'),
    settlementTxId: text('settlement_tx_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('jobs_idempotency_unique').on(t.idempotencyKey),
    index('jobs_account_idx').on(t.accountId, t.createdAt),
    index('jobs_node_status_idx').on(t.nodeId, t.status),
    // A node's recent jobs (explorer) without reading its whole history.
    index('jobs_node_updated_idx').on(t.nodeId, t.updatedAt),
    index('jobs_status_idx').on(t.status, t.updatedAt),
    check('jobs_gpu_count_positive', sql`${t.gpuCount} > 0`),
    check('jobs_escrow_positive', sql`${t.escrowAmount} > 0`),
  ],
);

/** Every status change, written by a trigger on jobs.status (see the jobs migration). */
export const jobTransitions = sqliteTable(
  'job_transitions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jobId: text('job_id').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    nodeId: text('node_id'),
    at: integer('at').notNull(),
  },
  (t) => [index('job_transitions_job_idx').on(t.jobId, t.id)],
);

/**
 * GPUs held by live jobs; a node's free GPUs are its count minus these. A trigger refuses a row
 * that would commit more GPUs of a group than the node has, which aborts the batch placing it.
 */
export const gpuCommitments = sqliteTable(
  'gpu_commitments',
  {
    jobId: text('job_id').notNull(),
    nodeId: text('node_id').notNull(),
    /** `node_gpus.model` of the group. */
    model: text('model').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.model] }), index('gpu_commitments_node_idx').on(t.nodeId, t.model)],
);

/** Agent events, once each: the primary key is the agent's event id, so a duplicate changes nothing. */
export const jobEvents = sqliteTable(
  'job_events',
  {
    jobId: text('job_id').notNull(),
    eventId: text('event_id').notNull(),
    nodeId: text('node_id').notNull(),
    kind: text('kind').notNull(),
    at: integer('at').notNull(),
    /** The signed request, raw (body, timestamp, nonce, signature): a receipt anyone can verify again. */
    signed: text('signed'),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.eventId] })],
);

export const jobLogs = sqliteTable(
  'job_logs',
  {
    jobId: text('job_id').notNull(),
    seq: integer('seq').notNull(),
    stream: text('stream', { enum: ['stdout', 'stderr', 'system'] }).notNull(),
    data: text('data').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

/**
 * What a job's stored logs hold so far, so they can be capped per job (workers/jobs/README.md,
 * "Log caps") without summing job_logs on every chunk. Written in the batch that stores a chunk.
 */
export const jobLogUsage = sqliteTable('job_log_usage', {
  jobId: text('job_id').primaryKey(),
  bytes: integer('bytes').notNull().default(0),
  lines: integer('lines').notNull().default(0),
  /** 1 once the cap's marker line is stored: every later chunk is dropped. */
  capped: integer('capped').notNull().default(0),
});
