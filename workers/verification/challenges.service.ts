import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { challenges, nodeGpus, nodes } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { emitAlerts, type AlertQueueEnv } from '../alerts/emit-alert.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { randomId } from '../lib/ids.ts';
import { base64ToBytes } from '../../protocol/signed-request.ts';
import { refreshEligibility } from '../staking/eligibility.ts';
import { failedVerificationOffences } from '../slashing/offences.ts';
import { challengeShape, randomSeed, secretSample } from './challenge-policy.ts';
import { inventoryHash } from './inventory.ts';
import { checkAnswer } from '../../protocol/matmul-challenge.ts';

// Verification's operations (a service: it decides, refreshes eligibility, records offences and
// alerts; its few queries are its own). Challenge lifecycle (workers/verification/README.md):
//   issued → delivered (first signed poll; the deadline runs from here) → passed | failed
// A pass sets nodes.verified_at and remembers the inventory that passed; a failure clears
// verified_at; both refresh nodes.eligible in the same batch. Failures within the window become
// a `failed_verification` offence, once per window.

export type ChallengeRow = typeof challenges.$inferSelect;

async function nodeClaim(db: Db, nodeId: string) {
  const [node, gpus] = await db.batch([
    db.select({ id: nodes.id, simulated: nodes.simulated, verifiedAt: nodes.verifiedAt }).from(nodes).where(eq(nodes.id, nodeId)),
    db.select({ model: nodeGpus.model, count: nodeGpus.count, simulated: nodeGpus.simulated }).from(nodeGpus).where(eq(nodeGpus.nodeId, nodeId)),
  ]);
  return node[0] ? { ...node[0], gpus } : null;
}

export async function issueChallenge(db: Db, config: Config, nodeId: string, reason: ChallengeRow['reason'], nowMs: number): Promise<ChallengeRow> {
  const claim = await nodeClaim(db, nodeId);
  if (!claim) throw new AppError(404, 'node_not_found', 'This node is not registered; register it with POST /v1/nodes first.');
  const shape = challengeShape(config, claim.gpus, claim.simulated);
  const [row] = await db
    .insert(challenges)
    .values({
      id: randomId('ch'),
      nodeId,
      reason,
      seed: randomSeed(),
      n: shape.n,
      products: shape.products,
      sample: JSON.stringify(secretSample(shape.n, config.VERIFY_SAMPLE_ROWS)),
      claimed: JSON.stringify(claim.gpus),
      simulated: claim.simulated,
      deadlineMs: shape.deadlineMs,
      issuedAt: nowMs,
      expiresAt: nowMs + config.VERIFY_CHALLENGE_TTL_S * 1000,
    })
    .returning();
  return row!;
}

async function openChallenge(db: Db, nodeId: string, nowMs: number): Promise<ChallengeRow | undefined> {
  return db
    .select()
    .from(challenges)
    .where(and(eq(challenges.nodeId, nodeId), inArray(challenges.status, ['issued', 'delivered']), gt(challenges.expiresAt, nowMs)))
    .orderBy(asc(challenges.issuedAt))
    .get();
}

/**
 * The signed poll: the node's open challenge, delivered now if it was not yet. An unverified
 * node with nothing open gets a new one, so a node that failed can always try again.
 */
export async function pollChallenges(db: Db, config: Config, nodeId: string, nowMs: number): Promise<ChallengeRow[]> {
  let open = await openChallenge(db, nodeId, nowMs);
  if (!open) {
    const node = await db.select({ verifiedAt: nodes.verifiedAt }).from(nodes).where(eq(nodes.id, nodeId)).get();
    if (!node) throw new AppError(404, 'node_not_found', 'This node is not registered; register it with POST /v1/nodes first.');
    if (node.verifiedAt !== null) return [];
    const failedBefore = await db.select({ id: challenges.id }).from(challenges).where(eq(challenges.nodeId, nodeId)).limit(1).get();
    open = await issueChallenge(db, config, nodeId, failedBefore ? 'retry' : 'registration', nowMs);
  }
  if (open.deliveredAt === null) {
    const [delivered] = await db
      .update(challenges)
      .set({ status: 'delivered', deliveredAt: nowMs })
      .where(and(eq(challenges.id, open.id), eq(challenges.status, 'issued')))
      .returning();
    open = delivered ?? (await db.select().from(challenges).where(eq(challenges.id, open.id)).get())!;
  }
  return [open];
}

export interface AnswerOutcome {
  status: 'passed' | 'failed';
  failure: string | null;
  elapsedMs: number;
}

export async function answerChallenge(db: Db, config: Config, nodeId: string, challengeId: string, digestsBase64: string, nowMs: number): Promise<AnswerOutcome> {
  const row = await db.select().from(challenges).where(and(eq(challenges.id, challengeId), eq(challenges.nodeId, nodeId))).get();
  if (!row) throw new AppError(404, 'challenge_not_found', 'This node has no challenge with this id.');
  if (row.status !== 'delivered' || row.deliveredAt === null) {
    throw new AppError(409, 'challenge_closed', `This challenge is ${row.status}; fetch a new one with GET /v1/nodes/${nodeId}/challenges.`);
  }
  const elapsedMs = nowMs - row.deliveredAt;
  let failure: string | null = null;
  if (elapsedMs > row.deadlineMs || nowMs >= row.expiresAt) {
    failure = 'deadline';
  } else {
    const bytes = base64ToBytes(digestsBase64);
    const check = bytes ? await checkAnswer(row, JSON.parse(row.sample) as number[], bytes) : ({ ok: false, reason: 'malformed_answer' } as const);
    if (!check.ok) failure = check.reason;
  }
  await settleChallenge(db, config, row, failure, nowMs);
  return { status: failure === null ? 'passed' : 'failed', failure, elapsedMs };
}

/** Writes the outcome, the node's verification and eligibility, and any offence, in one batch. */
async function settleChallenge(db: Db, config: Config, row: ChallengeRow, failure: string | null, nowMs: number) {
  const settle = db.$client
    .prepare(`UPDATE challenges SET status = ?2, failure = ?3, answered_at = ?4 WHERE id = ?1 AND status = 'delivered'`)
    .bind(row.id, failure === null ? 'passed' : 'failed', failure, nowMs);
  if (failure === null) {
    // Verified only if the inventory is still the one the challenge was sized for.
    const claimed = await inventoryHash(JSON.parse(row.claimed) as { model: string; count: number; simulated: boolean }[]);
    const now = await nodeClaim(db, row.nodeId);
    const same = now !== null && (await inventoryHash(now.gpus)) === claimed;
    await db.$client.batch([
      settle,
      db.$client
        .prepare(
          `INSERT INTO node_staking (node_id, commission_bps, verified_inventory, updated_at) VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (node_id) DO UPDATE SET verified_inventory = ?3, updated_at = ?4`,
        )
        .bind(row.nodeId, config.COMMISSION_DEFAULT_BPS, claimed, nowMs),
      db.$client.prepare('UPDATE nodes SET verified_at = CASE WHEN ?3 THEN ?2 ELSE NULL END WHERE id = ?1').bind(row.nodeId, nowMs, same ? 1 : 0),
      refreshEligibility(db, config, [row.nodeId]),
    ]);
    return;
  }
  await db.$client.batch([
    settle,
    db.$client.prepare('UPDATE nodes SET verified_at = NULL WHERE id = ?1').bind(row.nodeId),
    refreshEligibility(db, config, [row.nodeId]),
    failedVerificationOffences(db, config, nowMs, [row.nodeId]),
  ]);
}

/**
 * Epoch close: challenges nobody answered in time fail, with the same consequences. With
 * `alerts`, each node's operator hears of it (`verification_failed`, reason: deadline passed), for
 * exactly the challenges this batch failed (RETURNING): one answered meanwhile is not reported.
 */
export async function expireChallenges(db: Db, config: Config, nowMs: number, alerts?: AlertQueueEnv): Promise<{ expired: number; queries: number }> {
  const due = await db
    .select({ id: challenges.id, nodeId: challenges.nodeId })
    .from(challenges)
    .where(and(inArray(challenges.status, ['issued', 'delivered']), sql`${challenges.expiresAt} <= ${nowMs}`))
    .limit(5000);
  if (due.length === 0) return { expired: 0, queries: 1 };
  const ids = JSON.stringify(due.map((d) => d.id));
  const nodeIds = [...new Set(due.map((d) => d.nodeId))];
  const [failed] = await db.$client.batch<{ id: string; node_id: string; failure: string }>([
    db.$client
      .prepare(
        `UPDATE challenges SET status = 'failed', answered_at = ?2,
           failure = CASE WHEN delivered_at IS NULL THEN 'not_fetched' ELSE 'no_answer' END
         WHERE id IN (SELECT value FROM json_each(?1)) AND status IN ('issued', 'delivered')
         RETURNING id, node_id, failure`,
      )
      .bind(ids, nowMs),
    db.$client.prepare('UPDATE nodes SET verified_at = NULL WHERE id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(nodeIds)),
    refreshEligibility(db, config, nodeIds),
    failedVerificationOffences(db, config, nowMs, nodeIds),
  ]);
  if (alerts && failed!.results.length > 0) {
    // The same event id as a failed answer (challenges.app.ts): a challenge alerts once.
    await emitAlerts(
      alerts,
      failed!.results.map((r) => ({
        eventId: `verification_failed:${r.id}`,
        kind: 'verification_failed' as const,
        nodeId: r.node_id,
        at: nowMs,
        data: { reason: r.failure === 'not_fetched' ? 'deadline passed (challenge never fetched)' : 'deadline passed' },
      })),
    ).catch((error) => console.error('expired challenge alerts not emitted', error));
  }
  return { expired: due.length, queries: 2 };
}

/** Epoch close: a random share of eligible nodes is challenged again. */
export async function issueRandomChallenges(db: Db, config: Config, nowMs: number, limit: number): Promise<{ issued: number; queries: number }> {
  if (config.VERIFY_RANDOM_BPS === 0) return { issued: 0, queries: 0 };
  const picked = await db.$client
    .prepare(
      `SELECT n.id, n.simulated, (SELECT json_group_array(json_object('model', model, 'count', count, 'simulated', simulated)) FROM node_gpus WHERE node_id = n.id) AS gpus
       FROM nodes n WHERE n.eligible = 1 AND abs(random()) % 10000 < ?1
         AND NOT EXISTS (SELECT 1 FROM challenges c WHERE c.node_id = n.id AND c.status IN ('issued', 'delivered'))
       LIMIT ?2`,
    )
    .bind(config.VERIFY_RANDOM_BPS, limit)
    .all<{ id: string; simulated: number; gpus: string }>();
  const rows = picked.results.map((n) => {
    const gpus = (JSON.parse(n.gpus) as { model: string; count: number; simulated: number }[]).map((g) => ({ ...g, simulated: g.simulated === 1 }));
    const shape = challengeShape(config, gpus, n.simulated === 1);
    return {
      id: randomId('ch'),
      nodeId: n.id,
      seed: randomSeed(),
      n: shape.n,
      products: shape.products,
      sample: JSON.stringify(secretSample(shape.n, config.VERIFY_SAMPLE_ROWS)),
      claimed: JSON.stringify(gpus),
      simulated: n.simulated === 1,
      deadlineMs: shape.deadlineMs,
    };
  });
  if (rows.length === 0) return { issued: 0, queries: 1 };
  await db.$client
    .prepare(
      `INSERT INTO challenges (id, node_id, reason, seed, n, products, sample, claimed, simulated, deadline_ms, status, issued_at, expires_at)
       SELECT value ->> 'id', value ->> 'nodeId', 'random', value ->> 'seed', value ->> 'n', value ->> 'products', value ->> 'sample',
              value ->> 'claimed', value ->> 'simulated', value ->> 'deadlineMs', 'issued', ?2, ?3
       FROM json_each(?1)`,
    )
    .bind(JSON.stringify(rows.map((r) => ({ ...r, simulated: r.simulated ? 1 : 0 }))), nowMs, nowMs + config.VERIFY_CHALLENGE_TTL_S * 1000)
    .run();
  return { issued: rows.length, queries: 2 };
}

/**
 * What (re-)registration does to verification, as statements for the registration's own batch
 * (workers/nodes/nodes.repo.ts `upsertNode`), so the new GPU inventory and the loss of a
 * verification it no longer matches land together or not at all: a node whose inventory
 * differs from the one that passed is no longer verified, and eligibility follows. The
 * comparison is in SQL, against `node_staking.verified_inventory` as it is inside the batch.
 * `inventory`: inventoryHash of the GPUs the batch writes.
 */
export function registrationVerificationStatements(db: Db, config: Config, nodeId: string, inventory: string, nowMs: number): D1PreparedStatement[] {
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
    refreshEligibility(db, config, [nodeId]),
  ];
}

/** After the registration batch: an unverified node gets a registration challenge (once). */
export async function afterNodeRegistered(db: Db, config: Config, nodeId: string, nowMs: number): Promise<void> {
  const node = await db.select({ verifiedAt: nodes.verifiedAt }).from(nodes).where(eq(nodes.id, nodeId)).get();
  if (!node || node.verifiedAt !== null) return;
  if (!(await openChallenge(db, nodeId, nowMs))) await issueChallenge(db, config, nodeId, 'registration', nowMs);
}
