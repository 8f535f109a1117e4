import * as z from 'zod';
import { PROPOSAL_KINDS, PROPOSAL_STATUSES, VOTE_CHOICES, type VoteChoice } from '../../db/schema/governance.ts';

// What people send to governance: a new proposal (HTTP body or chat command options), a vote,
// and the list and proposal-reference inputs of governance.app.ts. Pure: the OpenAPI catalogue
// and the typed client import them too; proposal-input.ts turns a proposal into the repo's row.

/** The vocabulary, for callers that offer it as menus (the chat bots) without reading the schema. */
export { PROPOSAL_KINDS, PROPOSAL_STATUSES, VOTE_CHOICES, type VoteChoice };

export const createProposalSchema = z.strictObject({
  kind: z.enum(PROPOSAL_KINDS),
  title: z.string().trim().min(4, 'must be at least 4 characters').max(120, 'must be at most 120 characters'),
  description: z.string().trim().max(2000, 'must be at most 2000 characters').default(''),
  /** grant: an account id (`acc_…`) or a Solana wallet address, and a decimal token amount. */
  grant: z.strictObject({ recipient: z.string().max(64), amount: z.string().max(40) }).optional(),
  /** param: a whitelisted name and the new value as text ("250", "100.5"). */
  param: z.strictObject({ name: z.string().max(64), value: z.string().max(40) }).optional(),
});
export type CreateProposalInput = z.infer<typeof createProposalSchema>;

export const voteSchema = z.strictObject({ choice: z.enum(VOTE_CHOICES) });

export const listQuerySchema = z.strictObject({
  status: z.enum(PROPOSAL_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The `nextBefore` of the previous page. */
  before: z.coerce.number().int().min(1).optional(),
});

export const proposalRefSchema = z.string().regex(/^(prop_[0-9a-f]{32}|[1-9][0-9]{0,9})$/, 'must be a proposal id (prop_…) or number');
