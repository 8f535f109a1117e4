import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { accounts, epochs, nodes, nodeStaking, rewardShares, epochNodes, slashes, stakes, unbondings } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';

// Staking's queries (the operations that post to the ledger are in staking.service.ts). The
// statements below that take part in a change are built here and run in the service's batch.

export function nodeOwner(db: Db, nodeId: string) {
  return db.select({ id: nodes.id, owner: nodes.owner }).from(nodes).where(eq(nodes.id, nodeId)).get();
}

/** The node's stake total and eligibility as the last batch left them. */
export function nodeStakeState(db: Db, nodeId: string) {
  return db
    .select({ stakeTotal: nodes.stakeTotal, eligible: nodes.eligible, verifiedAt: nodes.verifiedAt })
    .from(nodes)
    .where(eq(nodes.id, nodeId))
    .get();
}

export function epochRow(db: Db, epoch: number) {
  return db.select().from(epochs).where(eq(epochs.epoch, epoch)).get();
}

/** The node's staking row with the default commission, unless it has one. */
export function ensureNodeStaking(db: Db, config: Config, nodeId: string, nowMs: number) {
  return db.insert(nodeStaking).values({ nodeId, commissionBps: config.COMMISSION_DEFAULT_BPS, updatedAt: nowMs }).onConflictDoNothing();
}

export function addToStake(db: Db, row: { accountId: string; nodeId: string; amount: number }, nowMs: number) {
  return db
    .insert(stakes)
    .values({ accountId: row.accountId, nodeId: row.nodeId, amount: row.amount, createdAt: nowMs, updatedAt: nowMs })
    .onConflictDoUpdate({
      target: [stakes.accountId, stakes.nodeId],
      set: { amount: sql`${stakes.amount} + ${row.amount}`, updatedAt: nowMs },
    });
}

/** Changes nothing when the account has no stake row on the node (the caller asserts a change). */
export function takeFromStake(db: Db, row: { accountId: string; nodeId: string; amount: number }, nowMs: number) {
  return db
    .update(stakes)
    .set({ amount: sql`${stakes.amount} - ${row.amount}`, updatedAt: nowMs })
    .where(and(eq(stakes.accountId, row.accountId), eq(stakes.nodeId, row.nodeId)));
}

export function insertUnbonding(db: Db, row: typeof unbondings.$inferInsert) {
  return db.insert(unbondings).values(row);
}

export function unbondingOfTransaction(db: Db, ledgerTxId: string) {
  return db.select().from(unbondings).where(eq(unbondings.ledgerTxId, ledgerTxId)).get();
}

export function setNextCommission(
  db: Db,
  config: Config,
  row: { nodeId: string; commissionBps: number; fromEpoch: number },
  nowMs: number,
) {
  return db
    .insert(nodeStaking)
    .values({
      nodeId: row.nodeId,
      commissionBps: config.COMMISSION_DEFAULT_BPS,
      nextCommissionBps: row.commissionBps,
      nextCommissionEpoch: row.fromEpoch,
      updatedAt: nowMs,
    })
    .onConflictDoUpdate({
      target: nodeStaking.nodeId,
      set: { nextCommissionBps: row.commissionBps, nextCommissionEpoch: row.fromEpoch, updatedAt: nowMs },
    });
}

export async function commissionOf(db: Db, config: Config, nodeId: string) {
  const row = await db.select().from(nodeStaking).where(eq(nodeStaking.nodeId, nodeId)).get();
  return {
    commissionBps: row?.commissionBps ?? config.COMMISSION_DEFAULT_BPS,
    next: row?.nextCommissionBps == null ? null : { commissionBps: row.nextCommissionBps, fromEpoch: row.nextCommissionEpoch! },
  };
}

/** Bonded stakes (largest first) and unbondings on the node. */
export async function stakesOnNode(db: Db, nodeId: string) {
  const [bonded, unbonding] = await db.batch([
    db
      .select({ accountId: stakes.accountId, wallet: accounts.wallet, amount: stakes.amount, since: stakes.createdAt })
      .from(stakes)
      .leftJoin(accounts, eq(accounts.id, stakes.accountId))
      .where(and(eq(stakes.nodeId, nodeId), sql`${stakes.amount} > 0`))
      .orderBy(desc(stakes.amount), stakes.accountId),
    db
      .select({ accountId: unbondings.accountId, amount: unbondings.amount, releaseAt: unbondings.releaseAt })
      .from(unbondings)
      .where(and(eq(unbondings.nodeId, nodeId), eq(unbondings.status, 'unbonding')))
      .orderBy(unbondings.releaseAt),
  ]);
  return { bonded, unbonding };
}

export async function rewardsOfAccount(db: Db, accountId: string, page: { beforeEpoch?: number; limit: number }) {
  return db
    .select()
    .from(rewardShares)
    .where(
      and(eq(rewardShares.accountId, accountId), page.beforeEpoch === undefined ? undefined : lt(rewardShares.epoch, page.beforeEpoch)),
    )
    .orderBy(desc(rewardShares.epoch), rewardShares.nodeId)
    .limit(page.limit);
}

export async function rewardsOfNode(db: Db, nodeId: string, page: { beforeEpoch?: number; limit: number }) {
  return db
    .select()
    .from(epochNodes)
    .where(and(eq(epochNodes.nodeId, nodeId), page.beforeEpoch === undefined ? undefined : lt(epochNodes.epoch, page.beforeEpoch)))
    .orderBy(desc(epochNodes.epoch))
    .limit(page.limit);
}

export async function sharesOfNodeEpoch(db: Db, nodeId: string, epoch: number) {
  return db
    .select()
    .from(rewardShares)
    .where(and(eq(rewardShares.nodeId, nodeId), eq(rewardShares.epoch, epoch)))
    .orderBy(rewardShares.accountId);
}

export async function slashesOf(db: Db, filter: { nodeId?: string; limit: number }) {
  return db
    .select()
    .from(slashes)
    .where(filter.nodeId ? eq(slashes.nodeId, filter.nodeId) : undefined)
    .orderBy(desc(slashes.createdAt))
    .limit(filter.limit);
}
