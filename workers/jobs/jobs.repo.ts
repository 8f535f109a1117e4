import { and, asc, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import { gpuCommitments, jobEvents, jobLogs, jobs, jobTransitions, type JobStatus } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { runBatch, type BatchStatement } from '../ledger/d1-batch.ts';
import type { Allocation } from './allocation.ts';

// Storage of jobs. Every change is one D1 batch: a compare-and-swap UPDATE on `version`, an
// assertion that aborts the batch when the swap did not happen (job_assertions, see the jobs
// migration), and whatever belongs to the change (GPU commitments, reputation; the ledger entries
// are posted by job-escrow.service.ts around these statements).
// Status changes are logged by a trigger, so the history cannot be skipped.

export type JobRow = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;

/** Why a batch did not apply. `conflict`: someone else changed the job first; re-read and decide again. */
export type ChangeFailure = 'conflict' | 'capacity' | 'illegal';
export type ChangeResult = { ok: true } | { ok: false; failure: ChangeFailure };

export function failureOf(error: unknown): ChangeFailure | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/job_version_conflict/.test(e.message)) return 'conflict';
    if (/gpu_capacity/.test(e.message)) return 'capacity';
    if (/illegal_job_transition/.test(e.message)) return 'illegal';
    if (/UNIQUE constraint failed: jobs\.idempotency_key/.test(e.message)) return 'conflict';
  }
  return null;
}

export interface StatusChange {
  job: Pick<JobRow, 'id' | 'version'>;
  to: JobStatus;
  actor: string;
  reason: string;
  patch?: Partial<NewJob>;
}

/** The CAS update and its assertion; the new version is `job.version + 1`. */
export function changeStatements(db: Db, change: StatusChange, nowMs: number): BatchStatement[] {
  const next = change.job.version + 1;
  return [
    db
      .update(jobs)
      .set({
        ...change.patch,
        status: change.to,
        version: next,
        lastActor: change.actor,
        lastReason: change.reason.slice(0, 300),
        updatedAt: nowMs,
      })
      .where(and(eq(jobs.id, change.job.id), eq(jobs.version, change.job.version))),
    assertVersion(db, change.job.id, next),
  ];
}

/**
 * Runs right after the CAS update: aborts the batch unless that update changed the row. Checking
 * that version `version` exists is not enough: a concurrent writer that read the same version
 * makes it exist too, and the loser's other rows (GPU release, reputation) would still apply.
 * changes() counts the update's own row, not what its triggers wrote.
 */
export function assertVersion(db: Db, jobId: string, version: number): D1PreparedStatement {
  return db.$client
    .prepare(
      'INSERT INTO job_assertions (job_id) SELECT ?1 WHERE changes() <> 1 OR NOT EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND version = ?2)',
    )
    .bind(jobId, version);
}

export function commitStatements(db: Db, jobId: string, nodeId: string, allocation: Allocation): BatchStatement[] {
  return allocation.map(([model, count]) => db.insert(gpuCommitments).values({ jobId, nodeId, model, count }));
}

export const releaseStatement = (db: Db, jobId: string) => db.delete(gpuCommitments).where(eq(gpuCommitments.jobId, jobId));

export function reputationStatement(db: Db, nodeId: string, update: { scale: number; add: number }): D1PreparedStatement {
  return db.$client
    .prepare('UPDATE nodes SET reputation = min(1.0, max(0.0, reputation * ?1 + ?2)) WHERE id = ?3')
    .bind(update.scale, update.add, nodeId);
}

export async function runChange(db: Db, statements: BatchStatement[]): Promise<ChangeResult> {
  try {
    await runBatch(db, statements);
    return { ok: true };
  } catch (error) {
    const failure = failureOf(error);
    if (failure === null) throw error;
    return { ok: false, failure };
  }
}

/** The job's row, for the batch that creates and places it (job-escrow.service.ts). */
export const insertJobStatement = (db: Db, job: NewJob) => db.insert(jobs).values(job);

export async function getJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.select().from(jobs).where(eq(jobs.id, id)).get();
}

/**
 * One page of an account's jobs, newest first, on the (account_id, created_at) index. `before`
 * is the last job of the previous page: ties on created_at are broken by id, so none is skipped.
 */
export async function jobsOfAccount(
  db: Db,
  accountId: string,
  options: { before?: { createdAt: number; id: string }; status?: JobStatus; limit: number },
): Promise<JobRow[]> {
  const b = options.before;
  return db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.accountId, accountId),
        options.status ? eq(jobs.status, options.status) : undefined,
        b ? or(lt(jobs.createdAt, b.createdAt), and(eq(jobs.createdAt, b.createdAt), lt(jobs.id, b.id))) : undefined,
      ),
    )
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(options.limit);
}

export async function getJobByIdempotencyKey(db: Db, key: string): Promise<JobRow | undefined> {
  return db.select().from(jobs).where(eq(jobs.idempotencyKey, key)).get();
}

export async function transitionsOf(db: Db, jobId: string) {
  return db
    .select({
      from: jobTransitions.fromStatus,
      to: jobTransitions.toStatus,
      actor: jobTransitions.actor,
      reason: jobTransitions.reason,
      nodeId: jobTransitions.nodeId,
      at: jobTransitions.at,
    })
    .from(jobTransitions)
    .where(eq(jobTransitions.jobId, jobId))
    .orderBy(asc(jobTransitions.id));
}

/** Records an agent event once; false when this event id was seen before. */
export function eventStatement(db: Db, row: typeof jobEvents.$inferInsert) {
  return db.insert(jobEvents).values(row).onConflictDoNothing();
}

export async function eventSeen(db: Db, jobId: string, eventId: string): Promise<boolean> {
  const row = await db
    .select({ k: jobEvents.eventId })
    .from(jobEvents)
    .where(and(eq(jobEvents.jobId, jobId), eq(jobEvents.eventId, eventId)))
    .get();
  return row !== undefined;
}

export function logStatement(db: Db, row: typeof jobLogs.$inferInsert) {
  return db.insert(jobLogs).values(row).onConflictDoNothing();
}

export async function readLogs(db: Db, jobId: string, after: number, limit: number) {
  return db
    .select({ seq: jobLogs.seq, stream: jobLogs.stream, data: jobLogs.data, at: jobLogs.at })
    .from(jobLogs)
    .where(and(eq(jobLogs.jobId, jobId), gt(jobLogs.seq, after)))
    .orderBy(asc(jobLogs.seq))
    .limit(limit);
}

/** The job's last `count` log lines, oldest first. */
export async function lastLogs(db: Db, jobId: string, count: number) {
  const rows = await db
    .select({ seq: jobLogs.seq, data: jobLogs.data })
    .from(jobLogs)
    .where(eq(jobLogs.jobId, jobId))
    .orderBy(desc(jobLogs.seq))
    .limit(count);
  return rows.reverse();
}

/** Jobs the sweeper must look at; each list uses the (status, updated_at) index. */
export async function jobsInStatus(db: Db, statuses: JobStatus[], limit: number): Promise<JobRow[]> {
  return db.select().from(jobs).where(inArray(jobs.status, statuses)).orderBy(asc(jobs.updatedAt)).limit(limit);
}

/** Placed jobs whose node the live layer has marked offline. */
export async function jobsOnOfflineNodes(db: Db, limit: number): Promise<(JobRow & { nodeLastSeenAt: number })[]> {
  const rows = await db.all<{ id: string; last_seen_at: number }>(
    sql`SELECT j.id AS id, n.last_seen_at AS last_seen_at FROM jobs j JOIN nodes n ON n.id = j.node_id
        WHERE j.status IN ('assigned', 'starting', 'running') AND n.status = 'offline' LIMIT ${limit}`,
  );
  const out: (JobRow & { nodeLastSeenAt: number })[] = [];
  for (const r of rows) {
    const job = await getJob(db, r.id);
    if (job) out.push({ ...job, nodeLastSeenAt: r.last_seen_at });
  }
  return out;
}

export async function assignedPastDeadline(db: Db, nowMs: number, limit: number): Promise<JobRow[]> {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.status, 'assigned'), lt(jobs.acceptDeadline, nowMs)))
    .limit(limit);
}
