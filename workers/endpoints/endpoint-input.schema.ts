import * as z from 'zod';
import { ENDPOINT_PATH_PREFIXES } from '../../db/schema/endpoints.ts';
import { jobCommandSchema, jobEnvSchema, jobImageSchema, MAX_ENV_VARS, MAX_GPUS } from '../../protocol/job-rules.ts';

// What a renter may send to /v1/endpoints. The image, command and env follow the job rules
// (protocol/job-rules.ts), which the agent checks again before it starts a replica.

/** Replicas one endpoint may ask for at most: each is a node's GPUs held for as long as it runs. */
export const MAX_REPLICAS = 32;
/** Regions to start in: a few points, placed in order. */
export const MAX_REGIONS = 8;

/**
 * The job rules' env, less what the control plane adds to every replica (node-replicas.ts:
 * GRIDPLANE_BASE_PATH): `GRIDPLANE_` names are ours, and one of the agent's MAX_ENV_VARS slots is
 * kept for them, so a spec with ours added still passes the agent's check.
 */
const endpointEnvSchema = jobEnvSchema
  .refine(
    (env) => Object.keys(env).every((name) => !name.startsWith('GRIDPLANE_')),
    'names starting GRIDPLANE_ are set by gridplane (GRIDPLANE_BASE_PATH)',
  )
  .refine((env) => Object.keys(env).length <= MAX_ENV_VARS - 1, `at most ${MAX_ENV_VARS - 1} variables (one is gridplane's)`);

/** `strip` (default): the replica sees the path after `/e/{id}`; `keep`: the full path, for apps served under a base URL (GRIDPLANE_BASE_PATH). */
export const endpointPathPrefixSchema = z.enum(ENDPOINT_PATH_PREFIXES);

const point = z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

export const endpointScalingSchema = z.strictObject({
  /** Scale out when in-flight requests per replica go above this. */
  targetInflight: z.number().int().min(1).max(10_000).default(4),
  /** Seconds without a request before scaling to zero; null: never. */
  idleS: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .nullable()
    .default(null),
});

export const endpointCreateSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'must be 1-64 letters, digits, space, . _ -, starting with a letter or digit'),
    image: jobImageSchema,
    command: jobCommandSchema.default([]),
    env: endpointEnvSchema.default({}),
    port: z.number().int().min(1).max(65535),
    healthPath: z
      .string()
      .startsWith('/')
      .max(512)
      .regex(/^\/[\x21-\x7e]*$/, 'must be a path of printable ASCII without spaces')
      .default('/health'),
    gpu: z.strictObject({
      model: z.string().trim().min(1).max(96).optional(),
      minVramMb: z.number().int().min(0).max(1_048_576).optional(),
      count: z.number().int().min(1).max(MAX_GPUS),
    }),
    replicas: z
      .strictObject({
        min: z.number().int().min(0).max(MAX_REPLICAS).default(1),
        max: z.number().int().min(1).max(MAX_REPLICAS).default(1),
      })
      .default({ min: 1, max: 1 }),
    regions: z.array(point).max(MAX_REGIONS).optional(),
    maxPricePerGpuHour: z.string().min(1).max(40),
    scaling: endpointScalingSchema.default({ targetInflight: 4, idleS: null }),
    public: z.boolean().default(false),
    pathPrefix: endpointPathPrefixSchema.default('strip'),
  })
  .refine((v) => v.replicas.min <= v.replicas.max, { message: 'replicas.min must be at most replicas.max', path: ['replicas'] });
export type EndpointCreate = z.infer<typeof endpointCreateSchema>;

/** PATCH: scale (replicas, scaling), roll out a new image/command/env, open or close it, or restart a stopped one. */
export const endpointPatchSchema = z
  .strictObject({
    image: jobImageSchema.optional(),
    command: jobCommandSchema.optional(),
    env: endpointEnvSchema.optional(),
    replicas: z
      .strictObject({
        min: z.number().int().min(0).max(MAX_REPLICAS).optional(),
        max: z.number().int().min(1).max(MAX_REPLICAS).optional(),
      })
      .optional(),
    scaling: z
      .strictObject({
        targetInflight: z.number().int().min(1).max(10_000).optional(),
        idleS: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400)
          .nullable()
          .optional(),
      })
      .optional(),
    maxPricePerGpuHour: z.string().min(1).max(40).optional(),
    public: z.boolean().optional(),
    /** Takes effect at the gateway within seconds; replicas get the base path env at their next start (a roll-out). */
    pathPrefix: endpointPathPrefixSchema.optional(),
    /** `active` restarts an endpoint stopped for lack of funds. */
    status: z.literal('active').optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');
export type EndpointPatch = z.infer<typeof endpointPatchSchema>;

export const endpointKeyCreateSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'must be 1-64 letters, digits, space, . _ -')
    .default('default'),
});

export const endpointListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
