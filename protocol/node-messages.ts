// What an agent sends the Worker about itself and what the Worker answers: registration
// (POST /v1/nodes), the heartbeat (POST /v1/nodes/{id}/heartbeat) and its answer. One declaration
// for both sides: the Worker validates requests with these schemas, the agent types its bodies by
// them and parses the answer with HeartbeatAnswerSchema. Bounds are generous for real hardware and
// tight enough that nonsense (0 GPUs, 2^64-1 GPUs, latitude 500) is refused with a sentence naming
// the field.

import * as z from 'zod';

export const nodeIdSchema = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a base58 node id');
export const walletSchema = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a base58 Solana address');

export const locationSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "JP"'),
});

export const gpuSpecSchema = z.strictObject({
  model: z.string().trim().min(1).max(96),
  vramMb: z.number().int().min(256).max(1_048_576),
  count: z.number().int().min(1).max(64),
  simulated: z.boolean().optional(),
});

export const registerNodeSchema = z.strictObject({
  owner: walletSchema,
  name: z.string().trim().min(1).max(64),
  gpus: z
    .array(gpuSpecSchema)
    .min(1)
    .max(16)
    .refine((gpus) => new Set(gpus.map((g) => g.model)).size === gpus.length, 'list each GPU model once, with a count')
    .refine((gpus) => gpus.reduce((n, g) => n + g.count, 0) <= 64, 'a node reports at most 64 GPUs in total'),
  location: locationSchema,
  pricePerGpuHour: z.string().max(40),
  agentVersion: z.string().regex(/^[0-9A-Za-z.+-]{1,32}$/, 'must be a version such as "0.1.0"'),
});
export type RegisterNodeInput = z.infer<typeof registerNodeSchema>;

export const gpuMetricsSchema = z.strictObject({
  index: z.number().int().min(0).max(63),
  utilPct: z.number().min(0).max(100),
  memUsedMb: z.number().int().min(0).max(1_048_576),
  tempC: z.number().min(-40).max(150),
  powerW: z.number().min(0).max(5_000).nullable().optional(),
  simulated: z.boolean().optional(),
});

export const probeIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -');

export const heartbeatSchema = z.strictObject({
  gpus: z.array(gpuMetricsSchema).max(64),
  probes: z
    .array(z.strictObject({ target: probeIdSchema, rttMs: z.number().min(0).max(10_000) }))
    .max(64)
    .default([]),
  runningJobs: z.array(z.string().max(64)).max(256).default([]),
});
export type HeartbeatInput = z.infer<typeof heartbeatSchema>;

/**
 * The heartbeat answer. `jobs` are offers (job-offer.ts's AgentJob); the agent checks each one on
 * its own (AgentJobSchema), so one offer it refuses is reported with its reason instead of losing
 * the whole answer.
 */
export const HeartbeatAnswerSchema = z.object({
  nextHeartbeatS: z.number().int().positive(),
  jobs: z.array(z.unknown()).default([]),
  /** Jobs this node reported running that the control plane no longer assigns to it. */
  stopJobs: z.array(z.string()).default([]),
  /** Present when the control plane pushes offers over a signed WebSocket at this path. */
  stream: z.object({ path: z.string().startsWith('/') }).optional(),
});
export type HeartbeatAnswer = z.output<typeof HeartbeatAnswerSchema>;
