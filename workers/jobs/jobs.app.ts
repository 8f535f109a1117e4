import { Hono } from 'hono';
import { requireAccount } from '../accounts/require-account.ts';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { jsonInput, queryInput } from '../http/validator.ts';
import { requestIdempotencyKey } from '../ledger/idempotency.ts';
import { jobRequestSchema, listJobsQuerySchema, logsQuerySchema } from './job-input.schema.ts';
import { jobView } from './job-view.ts';
import { accountJobs, jobLogs, jobOfAccount } from './account-jobs.service.ts';
import { transitionsOf } from './jobs.repo.ts';
import { cancelJob, submitJob } from './jobs.service.ts';
import { clientLocation, maxPriceOf } from './quotes.app.ts';

const jobNotFound = () => new AppError(404, 'job_not_found', 'There is no such job for this account.');

export const jobsApp = new Hono<AppEnv>()
  .use(requireAccount)
  .post('/', jsonInput(jobRequestSchema, { anyContentType: true }), async (c) => {
    const account = c.var.account;
    const input = c.req.valid('json');
    const idem = requestIdempotencyKey(c, account.id);
    const ctx = { db: c.var.db, env: c.env, config: c.var.config };
    const { job, replayed } = await submitJob(
      ctx,
      {
        accountId: account.id,
        request: input,
        client: clientLocation(c.req.raw, input.client),
        maxPrice: maxPriceOf(input.maxPricePerGpuHour, c.var.config.TOKEN_DECIMALS),
        idempotencyKey: idem.fromClient ? idem.key : null,
      },
      Date.now(),
    );
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(jobView(job, c.var.config.TOKEN_DECIMALS), replayed ? 200 : 201);
  })
  .get('/', queryInput(listJobsQuerySchema, { firstValue: true }), async (c) => {
    const query = c.req.valid('query');
    const [createdAt, id] = query.cursor?.split('.') ?? [];
    const before = createdAt && id ? { createdAt: Number(createdAt), id } : undefined;
    const rows = await accountJobs(c.var.db, c.var.account.id, { before, status: query.status, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return c.json({
      jobs: page.map((job) => jobView(job, c.var.config.TOKEN_DECIMALS)),
      nextCursor: rows.length > query.limit && last ? `${last.createdAt}.${last.id}` : null,
    });
  })
  .get('/:id', async (c) => {
    const job = await jobOfAccount(c.var.db, c.var.account.id, c.req.param('id'));
    if (!job) throw jobNotFound();
    return c.json(jobView(job, c.var.config.TOKEN_DECIMALS, await transitionsOf(c.var.db, job.id)));
  })
  .post('/:id/cancel', async (c) => {
    const ctx = { db: c.var.db, env: c.env, config: c.var.config };
    const job = await cancelJob(ctx, c.var.account.id, c.req.param('id'), Date.now());
    return c.json(jobView(job, c.var.config.TOKEN_DECIMALS));
  })
  .get('/:id/logs', queryInput(logsQuerySchema, { firstValue: true }), async (c) => {
    const query = c.req.valid('query');
    const job = await jobOfAccount(c.var.db, c.var.account.id, c.req.param('id'));
    if (!job) throw jobNotFound();
    const logs = await jobLogs(c.var.db, job, query.after, query.limit);
    return c.json({
      jobId: job.id,
      status: job.status,
      logs: logs.map((l) => ({ ...l, at: new Date(l.at).toISOString() })),
      next: logs.at(-1)?.seq ?? query.after,
    });
  });
