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
import { runBatch } from '../ledger/d1-batch.ts';
import {
  challengeOfNode,
  clearVerifiedStatement,
  dueChallenges,
  everChallenged,
  expireStatement,
  insertChallenge,
  insertRandomChallenges,
  markDelivered,
  nodeClaim,
  nodeVerification,
  openChallenge,
  passStatements,
  randomEligibleNodes,
  registrationStatements,
  settleStatement,
  type ChallengeRow,
} from './challenges.repo.ts';

// Verification's operations: they decide, refresh eligibility, record offences and alert; the
// queries and statements are challenges.repo.ts. Challenge lifecycle (workers/verification/README.md):
//   issued → delivered (first signed poll; the deadline runs from here) → passed | failed
// A pass sets nodes.verified_at and remembers the inventory that passed; a failure clears
// verified_at; both refresh nodes.eligible in the same batch. Failures within the window become
// a `failed_verification` offence, once per window.

export async function issueChallenge(
  db: Db,
  config: Config,
  nodeId: string,
  reason: ChallengeRow['reason'],
  nowMs: number,
): Promise<ChallengeRow> {
  const claim = await nodeClaim(db, nodeId);
  if (!claim) throw new AppError(404, 'node_not_found', 'This node is not registered; register it with POST /v1/nodes first.');
  const shape = challengeShape(config, claim.gpus, claim.simulated);
  return insertChallenge(db, {
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
  });
}

/**
 * The signed poll: the node's open challenge, delivered now if it was not yet. An unverified
 * node with nothing open gets a new one, so a node that failed can always try again.
 */
export async function pollChallenges(db: Db, config: Config, nodeId: string, nowMs: number): Promise<ChallengeRow[]> {
  let open = await openChallenge(db, nodeId, nowMs);
  if (!open) {
    const node = await nodeVerification(db, nodeId);
    if (!node) throw new AppError(404, 'node_not_found', 'This node is not registered; register it with POST /v1/nodes first.');
    if (node.verifiedAt !== null) return [];
    open = await issueChallenge(db, config, nodeId, (await everChallenged(db, nodeId)) ? 'retry' : 'registration', nowMs);
  }
  if (open.deliveredAt === null) open = await markDelivered(db, open.id, nowMs);
  return [open];
}

export interface AnswerOutcome {
  status: 'passed' | 'failed';
  failure: string | null;
  elapsedMs: number;
}

export async function answerChallenge(
  db: Db,
  config: Config,
  nodeId: string,
  challengeId: string,
  digestsBase64: string,
  nowMs: number,
): Promise<AnswerOutcome> {
  const row = await challengeOfNode(db, nodeId, challengeId);
  if (!row) throw new AppError(404, 'challenge_not_found', 'This node has no challenge with this id.');
  if (row.status !== 'delivered' || row.deliveredAt === null) {
    throw new AppError(
      409,
      'challenge_closed',
      `This challenge is ${row.status}; fetch a new one with GET /v1/nodes/${nodeId}/challenges.`,
    );
  }
  const elapsedMs = nowMs - row.deliveredAt;
  let failure: string | null = null;
  if (elapsedMs > row.deadlineMs || nowMs >= row.expiresAt) {
    failure = 'deadline';
  } else {
    const bytes = base64ToBytes(digestsBase64);
    const check = bytes
      ? await checkAnswer(row, JSON.parse(row.sample) as number[], bytes)
      : ({ ok: false, reason: 'malformed_answer' } as const);
    if (!check.ok) failure = check.reason;
  }
  await settleChallenge(db, config, row, failure, nowMs);
  return { status: failure === null ? 'passed' : 'failed', failure, elapsedMs };
}

/** Writes the outcome, the node's verification and eligibility, and any offence, in one batch. */
async function settleChallenge(db: Db, config: Config, row: ChallengeRow, failure: string | null, nowMs: number) {
  const settle = settleStatement(db, row.id, failure, nowMs);
  if (failure === null) {
    // Verified only if the inventory is still the one the challenge was sized for.
    const claimed = await inventoryHash(JSON.parse(row.claimed) as { model: string; count: number; simulated: boolean }[]);
    const now = await nodeClaim(db, row.nodeId);
    const same = now !== null && (await inventoryHash(now.gpus)) === claimed;
    await runBatch(db, [
      settle,
      ...passStatements(db, config, row.nodeId, claimed, same, nowMs),
      refreshEligibility(db, config, [row.nodeId]),
    ]);
    return;
  }
  await runBatch(db, [
    settle,
    clearVerifiedStatement(db, [row.nodeId]),
    refreshEligibility(db, config, [row.nodeId]),
    failedVerificationOffences(db, config, nowMs, [row.nodeId]),
  ]);
}

/**
 * Epoch close: challenges nobody answered in time fail, with the same consequences. With
 * `alerts`, each node's operator hears of it (`verification_failed`, reason: deadline passed), for
 * exactly the challenges this batch failed (RETURNING): one answered meanwhile is not reported.
 */
export async function expireChallenges(
  db: Db,
  config: Config,
  nowMs: number,
  alerts?: AlertQueueEnv,
): Promise<{ expired: number; queries: number }> {
  const due = await dueChallenges(db, nowMs, 5000);
  if (due.length === 0) return { expired: 0, queries: 1 };
  const nodeIds = [...new Set(due.map((d) => d.nodeId))];
  const [failed] = (await runBatch(db, [
    expireStatement(
      db,
      due.map((d) => d.id),
      nowMs,
    ),
    clearVerifiedStatement(db, nodeIds),
    refreshEligibility(db, config, nodeIds),
    failedVerificationOffences(db, config, nowMs, nodeIds),
  ])) as D1Result<{ id: string; node_id: string; failure: string }>[];
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
export async function issueRandomChallenges(
  db: Db,
  config: Config,
  nowMs: number,
  limit: number,
): Promise<{ issued: number; queries: number }> {
  if (config.VERIFY_RANDOM_BPS === 0) return { issued: 0, queries: 0 };
  const picked = await randomEligibleNodes(db, config.VERIFY_RANDOM_BPS, limit);
  const rows = picked.map((n) => {
    const gpus = (JSON.parse(n.gpus) as { model: string; count: number; simulated: number }[]).map((g) => ({
      ...g,
      simulated: g.simulated === 1,
    }));
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
  await insertRandomChallenges(db, rows, nowMs, nowMs + config.VERIFY_CHALLENGE_TTL_S * 1000);
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
export function registrationVerificationStatements(
  db: Db,
  config: Config,
  nodeId: string,
  inventory: string,
  nowMs: number,
): D1PreparedStatement[] {
  return [...registrationStatements(db, config, nodeId, inventory, nowMs), refreshEligibility(db, config, [nodeId])];
}

/** After the registration batch: an unverified node gets a registration challenge (once). */
export async function afterNodeRegistered(db: Db, config: Config, nodeId: string, nowMs: number): Promise<void> {
  const node = await nodeVerification(db, nodeId);
  if (!node || node.verifiedAt !== null) return;
  if (!(await openChallenge(db, nodeId, nowMs))) await issueChallenge(db, config, nodeId, 'registration', nowMs);
}
