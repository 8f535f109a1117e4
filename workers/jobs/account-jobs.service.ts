import type { JobStatus } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { redactSecrets } from './job-view.ts';
import { getJob, getJobByIdempotencyKey, jobsOfAccount, lastLogs, readLogs, type JobRow } from './jobs.repo.ts';

// What an account may read of its own jobs, shared by GET /v1/jobs… (jobs.app.ts) and the chat
// bots (/jobs, /job): a job of another account is no job at all.

export type { JobRow };

/** The job when it is the account's own; undefined otherwise. */
export async function jobOfAccount(db: Db, accountId: string, jobId: string): Promise<JobRow | undefined> {
  const job = await getJob(db, jobId);
  return job && job.accountId === accountId ? job : undefined;
}

/** The account's job placed with this idempotency key, if any (a chat quote's late Cancel asks). */
export async function jobOfAccountByKey(db: Db, accountId: string, idempotencyKey: string): Promise<JobRow | undefined> {
  const job = await getJobByIdempotencyKey(db, idempotencyKey);
  return job && job.accountId === accountId ? job : undefined;
}

/** The account's jobs, newest first (see jobsOfAccount for the keyset `before`). */
export function accountJobs(
  db: Db,
  accountId: string,
  options: { before?: { createdAt: number; id: string }; status?: JobStatus; limit: number },
): Promise<JobRow[]> {
  return jobsOfAccount(db, accountId, options);
}

/** Log lines after `after`, in order (`GET /v1/jobs/{id}/logs`). */
export function jobLogs(db: Db, job: JobRow, after: number, limit: number) {
  return readLogs(db, job.id, after, limit);
}

/** The job's last lines as text, secrets of its env masked (`/job` in chat). */
export async function jobLogTail(db: Db, job: JobRow, count: number): Promise<string[]> {
  const env = JSON.parse(job.env) as Record<string, string>;
  return (await lastLogs(db, job.id, count)).map((l) => redactSecrets(l.data, env).replace(/\n$/, ''));
}
