import * as z from 'zod';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of /v1/staking (staking.app.ts, staking-view.ts), for the OpenAPI document
// and the typed client; checked by test/worker/openapi.test.ts.

export const stakeResponseSchema = z.object({
  transactionId: z.string(),
  nodeId: z.string(),
  role: z.enum(['operator', 'delegator']),
  nodeStake: amountText.describe("The node's bonded stake after this one."),
  eligible: z.boolean(),
});

export const unbondingViewSchema = z.object({
  id: z.number().int(),
  nodeId: z.string(),
  amount: amountText,
  requestedAt: isoTime.nullable(),
  releaseAt: isoTime.nullable(),
  status: z.string(),
});

export const unstakeResponseSchema = z.object({ transactionId: z.string(), unbonding: unbondingViewSchema });

export const commissionSchema = z.object({
  commissionBps: z.number().int(),
  next: z.object({ commissionBps: z.number().int(), fromEpoch: z.number().int() }).nullable().describe('A change waiting for its epoch.'),
});

export const nodeStakingSchema = z.object({
  nodeId: z.string(),
  owner: z.string(),
  stake: amountText,
  eligible: z.boolean(),
  verifiedAt: isoTime.nullable(),
  commission: commissionSchema,
  stakers: z.array(z.object({ accountId: z.string(), role: z.enum(['operator', 'delegator']), amount: amountText, since: isoTime })),
  unbonding: z.array(z.object({ accountId: z.string(), amount: amountText, releaseAt: isoTime })),
});

export const epochNodeViewSchema = z.object({
  epoch: z.number().int(),
  nodeId: z.string(),
  uptimeSeconds: z.number().int(),
  gpuWeight: z.number(),
  regionMultiplier: z.number(),
  gpuSeconds: z.number().int(),
  workFees: amountText,
  commissionBps: z.number().int(),
  capacityReward: amountText,
  workReward: amountText,
  slashed: amountText,
  net: amountText,
});

export const shareViewSchema = z.object({
  epoch: z.number().int(),
  nodeId: z.string(),
  accountId: z.string(),
  role: z.string(),
  amount: amountText,
  commission: amountText,
});

export const slashViewSchema = z.object({
  id: z.string(),
  nodeId: z.string(),
  offence: z.string(),
  amount: amountText,
  evidence: z.unknown(),
  status: z.string(),
  epoch: z.number().int().nullable(),
  fromRewards: amountText,
  fromStake: amountText,
  createdAt: isoTime.nullable(),
  appliedAt: isoTime.nullable(),
});

export const nodeRewardsSchema = z.object({ rewards: z.array(epochNodeViewSchema) });
export const nodeEpochSharesSchema = z.object({ shares: z.array(shareViewSchema) });
export const accountRewardsSchema = z.object({ accountId: z.string(), rewards: z.array(shareViewSchema) });
export const slashListSchema = z.object({ slashes: z.array(slashViewSchema) });

export const epochViewSchema = z.object({
  epoch: z.number().int(),
  status: z.enum(['closing', 'closed']),
  step: z.string(),
  startAt: isoTime,
  endAt: isoTime,
  nodes: z.number().int(),
  emission: amountText,
  carryIn: amountText,
  minted: amountText,
  carryOut: amountText,
  capacityPool: amountText,
  workPool: amountText,
  fees: amountText,
  burned: amountText,
  workFeeMultipleBps: z.number().int().nullable(),
  queries: z.number().int(),
  runs: z.number().int(),
  closedAt: isoTime.nullable(),
});
