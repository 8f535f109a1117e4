// What the Worker sends an agent about jobs: the job offer (in heartbeat answers and over the
// signed WebSocket stream) and the stream's messages. One declaration for both sides: the Worker
// builds offers typed by it (workers/jobs/job-view.ts), the agent checks every offer with it
// (edge-agent/src/jobs/job-spec.ts) before it runs anything. The rules are the API's own
// (job-rules.ts), so a job the API takes is a job the agent runs; an offer adds what only it
// carries (job id, GPU allocation, deadlines). Unknown fields are dropped, not refused, so a newer
// control plane can add one without every agent refusing all jobs.

import * as z from 'zod';
import { jobCommandSchema, jobEnvSchema, jobImageSchema, MAX_DURATION_S, MAX_GPUS } from './job-rules.ts';

export const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const AgentJobSchema = z.object({
  id: z.string().regex(JOB_ID, 'must be 1-64 letters, digits, _ or -'),
  image: jobImageSchema,
  command: jobCommandSchema,
  env: jobEnvSchema,
  gpus: z
    .object({
      count: z.number().int().min(1).max(MAX_GPUS),
      allocation: z
        .array(z.tuple([z.string().min(1).max(96), z.number().int().min(1).max(MAX_GPUS)]))
        .min(1)
        .max(MAX_GPUS),
    })
    .superRefine((gpus, ctx) => {
      const sum = gpus.allocation.reduce((total, [, n]) => total + n, 0);
      if (sum !== gpus.count)
        ctx.addIssue({ code: 'custom', message: `the allocation adds up to ${sum} GPU${sum === 1 ? '' : 's'}, not ${gpus.count}` });
    }),
  durationS: z.number().int().min(1).max(MAX_DURATION_S),
  /** Unix ms: accept before this or lose the job. */
  acceptBy: z.number().int().min(0),
  assignedAt: z.number().int().min(0),
});
export type AgentJob = z.output<typeof AgentJobSchema>;

/**
 * The job stream's messages (Worker → agent). `job` stays unknown here: the agent checks each offer
 * with AgentJobSchema on its own, so a refused offer is reported with its reason instead of
 * dropping the whole message.
 */
export const StreamMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), nodeId: z.string(), jobs: z.number().int().min(0) }),
  z.object({ type: z.literal('job'), job: z.unknown() }),
  z.object({ type: z.literal('stop'), jobId: z.string(), reason: z.string().default('withdrawn') }),
]);
export type StreamMessage =
  | { type: 'hello'; nodeId: string; jobs: number }
  | { type: 'job'; job: AgentJob }
  | { type: 'stop'; jobId: string; reason: string };
