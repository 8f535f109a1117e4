import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { challenges, nodeGpus, nodes } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';

// Verification's queries and the statements of its batches; challenges.service.ts decides and
// runs them (with eligibility and offences in the same batch).

export type ChallengeRow = typeof challenges.$inferSelect;
export type NewChallenge = typeof challenges.$inferInsert;

/** The node and the GPUs it claims; null when it is not registered. */
export async function nodeClaim(db: Db, nodeId: string) {
  const [node, gpus] = await db.batch([
    db.select({ id: nodes.id, simulated: nodes.simulated, verifiedAt: nodes.verifiedAt }).from(nodes).where(eq(nodes.id, nodeId)),
    db
      .select({ model: nodeGpus.model, count: nodeGpus.count, simulated: nodeGpus.simulated })
      .from(nodeGpus)
      .where(eq(nodeGpus.nodeId, nodeId)),
  ]);
  return node[0] ? { ...node[0], gpus } : null;
}

export function nodeVerification(db: Db, nodeId: string) {
  return db.select({ verifiedAt: nodes.verifiedAt }).from(nodes).where(eq(nodes.id, nodeId)).get();
}

export async function insertChallenge(db: Db, values: NewChallenge): Promise<ChallengeRow> {
  const [row] = await db.insert(challenges).values(values).returning();
  return row!;
}

export async function openChallenge(db: Db, nodeId: string, nowMs: number): Promise<ChallengeRow | undefined> {
  return db
    .select()
    .from(challenges)
    .where(and(eq(challenges.nodeId, nodeId), inArray(challenges.status, ['issued', 'delivered']), gt(challenges.expiresAt, nowMs)))
    .orderBy(asc(challenges.issuedAt))
    .get();
}

/** Whether the node was ever challenged (a new one is then a retry). */
export async function everChallenged(db: Db, nodeId: string): Promise<boolean> {
  return (await db.select({ id: challenges.id }).from(challenges).where(eq(challenges.nodeId, nodeId)).limit(1).get()) !== undefined;
}

/** Delivered now if it was still issued; the row as it stands either way. */
export async function markDelivered(db: Db, id: string, nowMs: number): Promise<ChallengeRow> {
  const [delivered] = await db
    .update(challenges)
    .set({ status: 'delivered', deliveredAt: nowMs })
    .where(and(eq(challenges.id, id), eq(challenges.status, 'issued')))
    .returning();
  return delivered ?? (await db.select().from(challenges).where(eq(challenges.id, id)).get())!;
}

export function challengeOfNode(db: Db, nodeId: string, challengeId: string) {
  return db
    .select()
    .from(challenges)
    .where(and(eq(challenges.id, challengeId), eq(challenges.nodeId, nodeId)))
    .get();
}

/** The answer's outcome, only while the challenge is still delivered. */
export function settleStatement(db: Db, id: string, failure: string | null, nowMs: number): D1PreparedStatement {
  return db.$client
    .prepare(`UPDATE challenges SET status = ?2, failure = ?3, answered_at = ?4 WHERE id = ?1 AND status = 'delivered'`)
    .bind(id, failure === null ? 'passed' : 'failed', failure, nowMs);
}

/** A pass: the inventory that passed, and verified_at unless the inventory changed meanwhile. */
export function passStatements(
  db: Db,
  config: Config,
  nodeId: string,
  inventory: string,
  stillSame: boolean,
  nowMs: number,
): D1PreparedStatement[] {
  return [
    db.$client
      .prepare(
        `INSERT INTO node_staking (node_id, commission_bps, verified_inventory, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (node_id) DO UPDATE SET verified_inventory = ?3, updated_at = ?4`,
      )
      .bind(nodeId, config.COMMISSION_DEFAULT_BPS, inventory, nowMs),
    db.$client
      .prepare('UPDATE nodes SET verified_at = CASE WHEN ?3 THEN ?2 ELSE NULL END WHERE id = ?1')
      .bind(nodeId, nowMs, stillSame ? 1 : 0),
  ];
}

export function clearVerifiedStatement(db: Db, nodeIds: readonly string[]): D1PreparedStatement {
  return db.$client
    .prepare('UPDATE nodes SET verified_at = NULL WHERE id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify(nodeIds));
}

/** Open challenges past their expiry, oldest first is not needed: all of them fail. */
export function dueChallenges(db: Db, nowMs: number, limit: number) {
  return db
    .select({ id: challenges.id, nodeId: challenges.nodeId })
    .from(challenges)
    .where(and(inArray(challenges.status, ['issued', 'delivered']), sql`${challenges.expiresAt} <= ${nowMs}`))
    .limit(limit);
}

/** Fails the listed challenges still open; RETURNING names exactly those this batch failed. */
export function expireStatement(db: Db, ids: readonly string[], nowMs: number): D1PreparedStatement {
  return db.$client
    .prepare(
      `UPDATE challenges SET status = 'failed', answered_at = ?2,
         failure = CASE WHEN delivered_at IS NULL THEN 'not_fetched' ELSE 'no_answer' END
       WHERE id IN (SELECT value FROM json_each(?1)) AND status IN ('issued', 'delivered')
       RETURNING id, node_id, failure`,
    )
    .bind(JSON.stringify(ids), nowMs);
}

/** A random `bps` share of eligible nodes with nothing open, with the GPUs they claim. */
export async function randomEligibleNodes(db: Db, bps: number, limit: number) {
  const picked = await db.$client
    .prepare(
      `SELECT n.id, n.simulated, (SELECT json_group_array(json_object('model', model, 'count', count, 'simulated', simulated)) FROM node_gpus WHERE node_id = n.id) AS gpus
       FROM nodes n WHERE n.eligible = 1 AND abs(random()) % 10000 < ?1
         AND NOT EXISTS (SELECT 1 FROM challenges c WHERE c.node_id = n.id AND c.status IN ('issued', 'delivered'))
       LIMIT ?2`,
    )
    .bind(bps, limit)
    .all<{ id: string; simulated: number; gpus: string }>();
  return picked.results;
}

export interface RandomChallenge {
  id: string;
  nodeId: string;
  seed: string;
  n: number;
  products: number;
  sample: string;
  claimed: string;
  simulated: boolean;
  deadlineMs: number;
}

/** Many `random` challenges in one statement (one JSON parameter, expanded by json_each). */
export async function insertRandomChallenges(db: Db, rows: readonly RandomChallenge[], nowMs: number, expiresAt: number): Promise<void> {
  await db.$client
    .prepare(
      `INSERT INTO challenges (id, node_id, reason, seed, n, products, sample, claimed, simulated, deadline_ms, status, issued_at, expires_at)
       SELECT value ->> 'id', value ->> 'nodeId', 'random', value ->> 'seed', value ->> 'n', value ->> 'products', value ->> 'sample',
              value ->> 'claimed', value ->> 'simulated', value ->> 'deadlineMs', 'issued', ?2, ?3
       FROM json_each(?1)`,
    )
    .bind(JSON.stringify(rows.map((r) => ({ ...r, simulated: r.simulated ? 1 : 0 }))), nowMs, expiresAt)
    .run();
}

/**
 * Registration's part: the node's staking row, and verified_at cleared when the inventory the
 * batch writes differs from the one that passed (compared in SQL, inside the batch).
 */
export function registrationStatements(db: Db, config: Config, nodeId: string, inventory: string, nowMs: number): D1PreparedStatement[] {
  return [
    db.$client
      .prepare('INSERT INTO node_staking (node_id, commission_bps, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (node_id) DO NOTHING')
      .bind(nodeId, config.COMMISSION_DEFAULT_BPS, nowMs),
    db.$client
      .prepare(
        `UPDATE nodes SET verified_at = NULL WHERE id = ?1 AND verified_at IS NOT NULL
           AND (SELECT verified_inventory FROM node_staking WHERE node_id = ?1) IS NOT ?2`,
      )
      .bind(nodeId, inventory),
  ];
}
