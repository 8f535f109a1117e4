import * as z from 'zod';
import { PROPOSAL_KINDS, PROPOSAL_STATUSES, VOTE_CHOICES } from '../../db/schema/governance.ts';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of /v1/governance (`proposalView`, the parameter list), for the OpenAPI
// document and the typed client; checked by test/worker/openapi.test.ts.

export const paramListSchema = z.object({
  params: z.array(
    z.object({
      name: z.string(),
      unit: z.enum(['bps', 'amount', 'days', 'seconds', 'count']),
      description: z.string(),
      value: z.union([z.number(), amountText]).describe('A decimal token string for unit "amount", a number otherwise.'),
      source: z.union([z.literal('default'), z.object({ proposalId: z.string().nullable(), updatedAt: isoTime })]),
    }),
  ),
});

export const proposalViewSchema = z.object({
  id: z.string(),
  number: z.number().int(),
  kind: z.enum(PROPOSAL_KINDS),
  title: z.string(),
  description: z.string(),
  proposer: z.string(),
  status: z.enum(PROPOSAL_STATUSES),
  phase: z.enum(['voting', 'counting', 'timelock', 'executable', 'done']),
  grant: z.object({ recipient: z.string(), amount: amountText }).nullable(),
  param: z.object({ name: z.string(), value: z.union([z.number(), amountText]), display: z.string() }).nullable(),
  rules: z.object({ quorumBps: z.number().int(), thresholdBps: z.number().int(), timelockS: z.number() }),
  snapshot: z.object({ totalPower: amountText }),
  tally: z.object({
    yes: amountText,
    no: amountText,
    abstain: amountText,
    voters: z.number().int(),
    turnout: z.string().describe('Share of the snapshot\'s power that voted, e.g. "12.50%".'),
    quorumReached: z.boolean(),
    projected: z.string().describe('What closing now would decide; the final outcome once closed.'),
  }),
  outcomeReason: z.string().nullable(),
  openedAt: isoTime.nullable(),
  votingEndsAt: isoTime.nullable(),
  closedAt: isoTime.nullable(),
  executableAt: isoTime.nullable(),
  executedAt: isoTime.nullable(),
  executionTransactionId: z.string().nullable(),
});

export const proposalListSchema = z.object({
  proposals: z.array(proposalViewSchema),
  nextBefore: z.number().int().nullable().describe('Pass as `before` for the next page.'),
});

export const voteResponseSchema = z.object({
  vote: z.object({ choice: z.enum(VOTE_CHOICES), power: amountText, replaced: z.boolean() }),
  proposal: proposalViewSchema,
});
