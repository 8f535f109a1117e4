import * as z from 'zod';
import { amountText, isoTime } from '../lib/wire-schemas.ts';
import { gpuMetricsSchema } from './node-input.schema.ts';

// Response schema of the public node object (PROTOCOL.md "Nodes", `nodeView`), for the OpenAPI
// document and the typed client; checked against real answers by test/worker/openapi.test.ts.

export const nodeViewSchema = z.object({
  id: z.string().describe("base58 of the node's ed25519 public key"),
  owner: z.string().describe("The operator's wallet."),
  name: z.string(),
  status: z.string().describe('"online" or "offline" (more states may be added).'),
  simulated: z.boolean().describe('True for a node whose GPUs are simulated (demo and test nodes).'),
  gpus: z.array(
    z.object({
      model: z.string(),
      canonicalModel: z.string(),
      vramMb: z.number().int(),
      count: z.number().int(),
      simulated: z.literal(true).optional(),
    }),
  ),
  location: z.object({ lat: z.number(), lon: z.number(), country: z.string() }),
  pricePerGpuHour: amountText,
  agentVersion: z.string(),
  registeredAt: isoTime,
  lastSeenAt: isoTime,
  uptime: z.object({ onlineSeconds: z.number().int(), ratio: z.number(), since: isoTime }),
  reputation: z.number(),
  stake: amountText.describe('Bonded stake on the node.'),
  verifiedAt: isoTime.nullable().describe('When the node last passed its hardware challenge.'),
  eligible: z.boolean().describe('Whether the node can be offered jobs and earn rewards.'),
  suspended: z.boolean(),
  metrics: z
    .object({ gpus: z.array(gpuMetricsSchema), probes: z.array(z.object({ target: z.string(), rttMs: z.number() })) })
    .optional()
    .describe("The last heartbeat's readings; only on GET /v1/nodes/{nodeId}."),
});

export const nodeListSchema = z.object({
  nodes: z.array(nodeViewSchema),
  nextCursor: z.string().nullable(),
});

export const probePointsSchema = z.array(z.object({ id: z.string(), lat: z.number(), lon: z.number(), url: z.string().optional() }));
