import { z } from 'zod';

// Inputs that cross into the jobs domain: renters' quote and job requests, agents' job events.

const MAX_DURATION_S = 30 * 24 * 3600;

export const quoteRequestSchema = z.strictObject({
  gpu: z.strictObject({
    model: z.string().trim().min(1).max(96).optional(),
    minVramMb: z.number().int().min(0).max(1_048_576).optional(),
    count: z.number().int().min(1).max(64),
  }),
  durationS: z.number().int().min(1).max(MAX_DURATION_S),
  maxPricePerGpuHour: z.string().max(40).optional(),
  client: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).optional(),
  limit: z.number().int().min(1).max(50).default(10),
});
export type QuoteRequest = z.infer<typeof quoteRequestSchema>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A container image reference: [registry/]name[:tag][@digest], no spaces or shell characters. */
const IMAGE = /^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i;

export const jobRequestSchema = quoteRequestSchema.omit({ limit: true }).extend({
  image: z.string().regex(IMAGE, 'must be a container image reference such as "python:3.12-slim"'),
  command: z.array(z.string().max(4096)).max(64).default([]),
  env: z
    .record(z.string().regex(ENV_NAME, 'names are letters, digits and _ and do not start with a digit'), z.string().max(4096))
    .refine((env) => Object.keys(env).length <= 64, 'at most 64 variables')
    .default({}),
});
export type JobRequest = z.infer<typeof jobRequestSchema>;

export const eventIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,96}$/, 'must be 1-96 letters, digits, or _ . : -');

const base = { eventId: eventIdSchema, at: z.number().int().min(0).optional() };

export const agentEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('accepted') }),
  z.strictObject({ ...base, kind: z.literal('rejected'), reason: z.string().max(200).default('refused') }),
  z.strictObject({ ...base, kind: z.literal('started') }),
  z.strictObject({
    ...base,
    kind: z.literal('log'),
    seq: z.number().int().min(0).max(10_000_000),
    stream: z.enum(['stdout', 'stderr', 'system']),
    data: z.string().max(16 * 1024),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('finished'),
    exitCode: z.number().int().min(-1).max(255).nullable(),
    reason: z.enum(['exited', 'timeout', 'error', 'stopped']),
    /** The receipt: GPU-seconds the job used, as the agent measured them. */
    receipt: z.strictObject({ gpuSeconds: z.number().int().min(0).max(64 * MAX_DURATION_S), runSeconds: z.number().min(0) }),
    message: z.string().max(500).optional(),
  }),
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;

export const logsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(-1).default(-1),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
