import { desc, eq } from 'drizzle-orm';
import { payoutBatches, payouts } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

// Payout reads for the account routes; the writes are payouts.ts (request) and the settlement run.

/** The account's payouts, newest first, each with its batch's state and signature. */
export function payoutsOfAccount(db: Db, accountId: string, limit: number) {
  return db
    .select({ payout: payouts, batchState: payoutBatches.state, signature: payoutBatches.signature })
    .from(payouts)
    .leftJoin(payoutBatches, eq(payoutBatches.id, payouts.batchId))
    .where(eq(payouts.accountId, accountId))
    .orderBy(desc(payouts.createdAt))
    .limit(limit);
}
