import type { challenges } from '../../db/schema.ts';
import { CHALLENGE_KIND } from '../../protocol/matmul-challenge.ts';
import type { ChallengeWire } from '../../protocol/challenge-messages.ts';

// A challenge as the agent receives it (protocol/challenge-messages.ts); the secret sample stays.

export function challengeWire(row: typeof challenges.$inferSelect) {
  return {
    id: row.id,
    kind: CHALLENGE_KIND,
    seed: row.seed,
    n: row.n,
    products: row.products,
    simulated: row.simulated,
    deliveredAt: new Date(row.deliveredAt ?? row.issuedAt).toISOString(),
    deadlineMs: row.deadlineMs,
    expiresAt: new Date(row.expiresAt).toISOString(),
  } satisfies ChallengeWire;
}
