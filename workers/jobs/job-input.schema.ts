import * as z from 'zod';
import { JOB_STATUSES } from '../../db/schema/jobs.ts';
import { jobCommandSchema, jobEnvSchema, jobImageSchema, MAX_DURATION_S, MAX_GPUS } from '../../protocol/job-rules.ts';

// Inputs that cross into the jobs domain: renters' quote and job requests, agents' job events.
// What a job may carry is workers/protocol/job-rules.ts, the rules the edge agent checks again.

export const quoteRequestSchema = z.strictObject({
  gpu: z.strictObject({
    model: z.string().trim().min(1).max(96).optional(),
    minVramMb: z.number().int().min(0).max(1_048_576).optional(),
    count: z.number().int().min(1).max(MAX_GPUS),
  }),
  durationS: z.number().int().min(1).max(MAX_DURATION_S),
  maxPricePerGpuHour: z.string().max(40).optional(),
  client: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).optional(),
  limit: z.number().int().min(1).max(50).default(10),
});
export type QuoteRequest = z.infer<typeof quoteRequestSchema>;

export const jobRequestSchema = quoteRequestSchema.omit({ limit: true }).extend({
  image: jobImageSchema,
  command: jobCommandSchema.default([]),
  env: jobEnvSchema.default({}),
});
export type JobRequest = z.infer<typeof jobRequestSchema>;

export { agentEventSchema, eventIdSchema, type AgentEvent } from '../../protocol/job-events.ts';

export const logsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(-1).default(-1),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const listJobsQuerySchema = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The `nextCursor` of the previous page: `<createdAt ms>.<job id>`. */
  cursor: z
    .string()
    .regex(/^[0-9]{1,16}\.job_[0-9a-f]{32}$/, 'is not a cursor this API returned')
    .optional(),
});
