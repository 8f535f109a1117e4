import * as z from 'zod';
import { ENDPOINT_PATH_PREFIXES, ENDPOINT_STATUSES, REPLICA_ROW_STATES } from '../../db/schema/endpoints.ts';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of /v1/endpoints: what endpoint-view.ts returns, for the OpenAPI document
// (workers/openapi) and the typed client. test/worker/openapi.test.ts checks real answers
// against them field for field.

const point = z.object({ lat: z.number(), lon: z.number() });

export const endpointViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string().describe('Where callers reach it: /e/{id}/ on this control plane; any method and path after it go to a replica.'),
  status: z.enum(ENDPOINT_STATUSES),
  statusReason: z.string().nullable().describe('Why it is stopped or deleted (`insufficient_funds`, …).'),
  image: z.string(),
  command: z.array(z.string()),
  envNames: z.array(z.string()).describe('Names of the env variables the replicas get; never their values.'),
  port: z.number().int(),
  healthPath: z.string(),
  gpu: z.object({
    models: z.array(z.string()).nullable().describe('Catalogue models accepted; null: any.'),
    count: z.number().int(),
    minVramMb: z.number().int(),
  }),
  replicas: z.object({
    min: z.number().int(),
    max: z.number().int(),
    desired: z.number().int().describe('What the scaler wants now: 0 when scaled to zero.'),
  }),
  regions: z.array(point).describe('Where replicas are placed first, in order.'),
  maxPricePerGpuHour: amountText,
  scaling: z.object({ targetInflight: z.number().int(), idleS: z.number().int().nullable() }),
  public: z.boolean().describe('Callers need no endpoint key.'),
  pathPrefix: z
    .enum(ENDPOINT_PATH_PREFIXES)
    .describe(
      '`strip`: the replica sees the path after /e/{id}; `keep`: the full /e/{id}/… path (apps served under a base URL; replicas get GRIDPLANE_BASE_PATH=/e/{id}/).',
    ),
  generation: z.number().int().describe('Bumped by every image/command/env change; replicas of older generations are rolled over.'),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const replicaViewSchema = z.object({
  id: z.string(),
  nodeId: z.string(),
  state: z.enum(REPLICA_ROW_STATES),
  ready: z.boolean().describe('Taking requests now.'),
  reason: z.string().nullable(),
  location: z
    .object({ lat: z.number(), lon: z.number(), country: z.string() })
    .nullable()
    .describe("The node's; null when the node is not registered any more."),
  generation: z.number().int(),
  pricePerGpuHour: amountText.describe("The node's price when the replica was placed: what each ready second is billed at."),
  gpuCount: z.number().int(),
  placedAt: isoTime,
  readySince: isoTime.nullable(),
  billed: amountText.describe('Taken from the hold for this replica so far.'),
});

export const endpointTrafficSchema = z.object({
  windowMinutes: z.number().int().describe('The figures cover this many minutes up to now.'),
  requests: z.number().int(),
  requestsPerMinute: z.number(),
  errors: z.number().int().describe("Answers with status 500 or above (the gateway's own and the replicas')."),
  medianTtfbMs: z.number().nullable().describe('Median time to first byte at the gateway, from buckets; null without requests.'),
});

export const endpointDetailSchema = endpointViewSchema.extend({
  replicaSet: z.array(replicaViewSchema).describe('Live replicas: placed, starting, ready, unhealthy or unreachable.'),
  traffic: endpointTrafficSchema,
  hold: amountText.describe('Held from the balance for the replicas ahead of use; the rest goes back when the endpoint stops.'),
});

export const endpointListSchema = z.object({ endpoints: z.array(endpointViewSchema), nextCursor: z.string().nullable() });

export const endpointKeyViewSchema = z.object({
  id: z.string().describe('`gpe_` and the next 8 characters: what DELETE takes.'),
  name: z.string(),
  createdAt: isoTime,
  revokedAt: isoTime.nullable(),
});
export const endpointKeyCreatedSchema = endpointKeyViewSchema.extend({
  key: z.string().describe('The key itself: shown this once, only its hash is kept.'),
});
export const endpointKeyListSchema = z.object({ keys: z.array(endpointKeyViewSchema) });
