import * as z from 'zod';
import { nodeIdSchema } from '../nodes/node-input.schema.ts';

export const stakeBodySchema = z.strictObject({
  nodeId: nodeIdSchema,
  /** Whole tokens, decimal string. */
  amount: z.string().max(40),
});

export const commissionBodySchema = z.strictObject({
  commissionBps: z.number().int().min(0).max(10_000),
});

export const pageQuerySchema = z.object({
  beforeEpoch: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const slashQuerySchema = z.object({
  nodeId: nodeIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
