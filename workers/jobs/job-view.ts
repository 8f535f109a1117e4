import { formatAmount } from '../lib/amounts.ts';
import type { JobRow } from './jobs.repo.ts';
import type { AgentJob } from './shard-jobs.ts';

// The renter's view of a job (PROTOCOL.md "Quotes and jobs") and the agent's. Pure. Env values
// never appear in the renter's view: only their names.

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function jobView(
  job: JobRow,
  decimals: number,
  transitions?: { from: string | null; to: string; actor: string; reason: string; nodeId: string | null; at: number }[],
) {
  const request = JSON.parse(job.request) as { gpu: { model?: string; minVramMb?: number; count: number } };
  const amount = (n: number | null) => (n === null ? null : formatAmount(n, decimals));
  return {
    id: job.id,
    status: job.status,
    nodeId: job.nodeId,
    gpu: request.gpu,
    durationS: job.durationS,
    image: job.image,
    command: JSON.parse(job.command) as string[],
    envNames: Object.keys(JSON.parse(job.env) as Record<string, string>).sort(),
    pricePerGpuHour: amount(job.pricePerGpuHour),
    escrow: formatAmount(job.escrowAmount, decimals),
    escrowPricePerGpuHour: formatAmount(job.escrowPrice, decimals),
    attempts: job.attempts,
    exitCode: job.exitCode,
    billing:
      job.captured === null
        ? null
        : {
            billedGpuSeconds: job.billedGpuSeconds,
            receiptGpuSeconds: job.receiptGpuSeconds,
            captured: amount(job.captured),
            fee: amount(job.fee),
            operator: amount((job.captured ?? 0) - (job.fee ?? 0)),
            refunded: amount(job.refunded),
            settlementTxId: job.settlementTxId,
          },
    createdAt: iso(job.createdAt),
    assignedAt: iso(job.assignedAt),
    acceptDeadline: iso(job.acceptDeadline),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    reason: job.lastReason,
    ...(transitions ? { transitions: transitions.map((t) => ({ ...t, at: iso(t.at) })) } : {}),
  };
}

export function agentJob(job: JobRow): AgentJob {
  return {
    id: job.id,
    image: job.image,
    command: JSON.parse(job.command) as string[],
    env: JSON.parse(job.env) as Record<string, string>,
    gpus: { count: job.gpuCount, allocation: JSON.parse(job.allocation ?? '[]') as [string, number][] },
    durationS: job.durationS,
    acceptBy: job.acceptDeadline ?? 0,
    assignedAt: job.assignedAt ?? 0,
  };
}

/** Env values (of 4 characters or more, so "1" does not blank every digit) replaced in log text. */
export function redactSecrets(text: string, env: Record<string, string>): string {
  let out = text;
  for (const value of Object.values(env).sort((a, b) => b.length - a.length)) {
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  }
  return out;
}
