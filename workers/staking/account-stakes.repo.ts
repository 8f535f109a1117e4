import { desc, eq, sql } from 'drizzle-orm';
import { rewardShares, stakes } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

// An account's own staking rows, as the chat's /stake and /rewards list them.

/** The account's stake rows, largest first. */
export async function stakesOfAccount(db: Db, accountId: string, limit: number) {
  return db.select().from(stakes).where(eq(stakes.accountId, accountId)).orderBy(desc(stakes.amount)).limit(limit);
}

/** The account's reward shares summed per epoch, newest epoch first. */
export async function rewardsPerEpoch(db: Db, accountId: string, limit: number): Promise<{ epoch: number; amount: number }[]> {
  return db
    .select({ epoch: rewardShares.epoch, amount: sql<number>`SUM(${rewardShares.amount})` })
    .from(rewardShares)
    .where(eq(rewardShares.accountId, accountId))
    .groupBy(rewardShares.epoch)
    .orderBy(desc(rewardShares.epoch))
    .limit(limit);
}
