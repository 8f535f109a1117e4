import { formatAmount } from '../../../workers/lib/amounts.ts';
import { BotError, type BotContext, type CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';

// One job (status and its last log lines), cancelling it, and the caller's own nodes: the same
// service functions GET /v1/jobs/{id}, /logs and POST /v1/jobs/{id}/cancel use (ctx.ops).

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
    const job = await ctx.ops.job(account, jobIdOption(ctx));
    if (!job) throw new BotError('job_not_found', 'You have no job with that id.');
    const logs = await ctx.ops.jobLogTail(job, LOG_LINES);
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: `${job.id} — ${job.status}`,
      blocks: [logs.length ? logs.join('\n') : 'No log lines yet.'],
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
    const job = await ctx.ops.cancelJob(account, jobIdOption(ctx), ctx.nowMs);
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
    const rows = await ctx.ops.ownedNodes(account, { limit: 50 });
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: 'Your nodes',
      blocks: [
        rows.length
          ? rows
              .map((n) => `${n.status === 'online' ? '🟢' : '🔴'} ${n.name} · ${formatAmount(n.pricePerGpuHour, d)}/GPU-h · ${n.id}`)
              .join('\n')
          : 'Your wallet owns no node yet.',
      ],
    });
  },
};
