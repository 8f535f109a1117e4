import * as z from 'zod';

// The agent's wire schemas (registration, heartbeat) live in protocol/node-messages.ts, shared
// with the agent; the API's own query schemas are here.

export {
  gpuMetricsSchema,
  gpuSpecSchema,
  heartbeatSchema,
  locationSchema,
  nodeIdSchema,
  probeIdSchema,
  registerNodeSchema,
  walletSchema,
  type HeartbeatInput,
  type RegisterNodeInput,
} from '../../protocol/node-messages.ts';
import { walletSchema } from '../../protocol/node-messages.ts';

export const listNodesQuerySchema = z.strictObject({
  status: z.enum(['online', 'offline']).optional(),
  gpu: z.string().trim().min(1).max(96).optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code')
    .optional(),
  owner: walletSchema.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
