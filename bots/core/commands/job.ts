import { and, desc, eq } from 'drizzle-orm';
import { accounts, jobLogs, nodes } from '../../../db/schema.ts';
import { redactSecrets } from '../../../workers/jobs/job-view.ts';
import { getJob } from '../../../workers/jobs/jobs.repo.ts';
import { cancelJob } from '../../../workers/jobs/jobs.service.ts';
import { formatAmount } from '../../../workers/lib/amounts.ts';
import { BotError, type BotContext, type CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';

// One job (status and its last log lines), cancelling it, and the caller's own nodes: the same
// repo and service functions GET /v1/jobs/{id}, /logs and POST /v1/jobs/{id}/cancel use.

const LOG_LINES = 5;
const jobOption = { name: 'id', description: 'Job id, as /jobs lists it', type: 'string', required: true, maxLength: 64 } as const;

function jobIdOption(ctx: BotContext): string {
  const id = String(ctx.options.id ?? '').trim();
  if (!/^job_[0-9a-f]{32}$/.test(id)) throw new BotError('invalid_job', 'A job id looks like job_0123…; /jobs lists yours.');
  return id;
}

export const jobCommand: CommandSpec = {
  name: 'job',
  description: 'One of your jobs: status and last log lines',
  personal: true,
  options: [jobOption],
  async run(ctx) {
    const account = await ctx.requireLinked();
    const job = await getJob(ctx.db, jobIdOption(ctx));
    if (!job || job.accountId !== account) throw new BotError('job_not_found', 'You have no job with that id.');
    const logs = (
      await ctx.db.select({ data: jobLogs.data }).from(jobLogs).where(and(eq(jobLogs.jobId, job.id))).orderBy(desc(jobLogs.seq)).limit(LOG_LINES)
    ).reverse();
    const env = JSON.parse(job.env) as Record<string, string>;
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: `${job.id} — ${job.status}`,
      blocks: [logs.length ? logs.map((l) => redactSecrets(l.data, env).replace(/\n$/, '')).join('\n') : 'No log lines yet.'],
      fields: [
        { name: 'GPUs', value: String(job.gpuCount), inline: true },
        { name: 'Node', value: job.nodeId ?? 'not placed', inline: true },
        { name: 'Escrow', value: `${formatAmount(job.escrowAmount, d)} tokens`, inline: true },
      ],
      tone: job.status === 'failed' ? 'error' : job.status === 'running' || job.status === 'succeeded' ? 'success' : 'info',
    });
  },
};

export const cancelCommand: CommandSpec = {
  name: 'cancel',
  description: 'Cancel one of your jobs (what ran is billed, the rest refunded)',
  personal: true,
  slow: true,
  options: [jobOption],
  async run(ctx) {
    const account = await ctx.requireLinked();
    const job = await cancelJob({ db: ctx.db, env: ctx.env, config: ctx.config }, account, jobIdOption(ctx), ctx.nowMs);
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: `${job.id} cancelled`,
      blocks: [`Billed ${formatAmount(job.captured ?? 0, d)} tokens; refunded ${formatAmount(job.refunded ?? 0, d)}.`],
      tone: 'success',
    });
  },
};

export const myNodesCommand: CommandSpec = {
  name: 'mynodes',
  description: 'The nodes your linked wallet owns',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const owner = await ctx.db.select({ wallet: accounts.wallet }).from(accounts).where(eq(accounts.id, account)).get();
    const rows = owner?.wallet
      ? await ctx.db
          .select({ id: nodes.id, name: nodes.name, status: nodes.status, price: nodes.pricePerGpuHour })
          .from(nodes)
          .where(eq(nodes.owner, owner.wallet))
          .orderBy(desc(nodes.status), nodes.name)
          .limit(50)
      : [];
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: 'Your nodes',
      blocks: [rows.length ? rows.map((n) => `${n.status === 'online' ? '🟢' : '🔴'} ${n.name} · ${formatAmount(n.price, d)}/GPU-h · ${n.id}`).join('\n') : 'Your wallet owns no node yet.'],
    });
  },
};
