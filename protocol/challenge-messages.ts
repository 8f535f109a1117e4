// The hardware challenge's wire messages (the maths is matmul-challenge.ts): the agent's signed
// poll GET /v1/nodes/{id}/challenges and its answer POST …/challenges/{challengeId}/answer, and
// what the Worker says back. One declaration for both sides: the Worker validates the answer with
// ChallengeAnswerSchema and types what it sends by ChallengeWire / ChallengeOutcome; the agent
// parses those with ChallengePollSchema and ChallengeOutcomeSchema.

import * as z from 'zod';

export const challengeIdSchema = z.string().regex(/^ch_[0-9a-f]{32}$/, 'must be a challenge id');

/** One open challenge as the poll returns it. */
export const ChallengeWireSchema = z.object({
  id: z.string(),
  kind: z.string(),
  seed: z.string().regex(/^[0-9a-f]{64}$/),
  n: z
    .number()
    .int()
    .min(1)
    .max(1 << 16),
  products: z
    .number()
    .int()
    .min(1)
    .max(1 << 12),
  simulated: z.boolean(),
  deadlineMs: z.number().int().nonnegative(),
  /** ISO times, for people reading the answer; the agent does not need them. */
  deliveredAt: z.string().optional(),
  expiresAt: z.string().optional(),
});
export type ChallengeWire = z.output<typeof ChallengeWireSchema>;

export const ChallengePollSchema = z.object({ challenges: z.array(ChallengeWireSchema) });

export const ChallengeAnswerSchema = z.strictObject({
  digests: z.string().max(48_000),
  /** What the agent measured, for the record; the deadline is judged on server receive times. */
  elapsedMs: z.number().int().min(0).optional(),
  device: z.enum(['gpu', 'cpu']).optional(),
});
export type ChallengeAnswer = z.input<typeof ChallengeAnswerSchema>;

/** The Worker's verdict on an answer. */
export const ChallengeOutcomeSchema = z.looseObject({ status: z.enum(['passed', 'failed']), failure: z.string().nullable() });
export type ChallengeOutcome = z.output<typeof ChallengeOutcomeSchema>;
