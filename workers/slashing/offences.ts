import { eq } from 'drizzle-orm';
import { nodeGpus, slashes, type Offence } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { randomId } from '../lib/ids.ts';

// Recording offences. A slash is recorded at once (pending, with its evidence) and applied by
// the next epoch close (apply-slash.ts): rewards first, then stake. The dedupe key makes one
// offence one slash however many times it is reported.

const baseUnits = (config: Config, tokens: number) => tokens * 10 ** config.TOKEN_DECIMALS;

export function offenceTokensPerGpu(config: Config, offence: Offence): number {
  switch (offence) {
    case 'failed_verification':
      return config.SLASH_FAILED_VERIFICATION_TOKENS;
    case 'abandoned_job':
      return config.SLASH_ABANDONED_JOB_TOKENS;
    case 'contradictory_reports':
      return config.SLASH_CONTRADICTORY_REPORTS_TOKENS;
  }
}

export interface OffenceReport {
  nodeId: string;
  offence: Offence;
  /** `job:<id>:abandoned`, `reports:<hash>` …: the same offence reported twice is one slash. */
  dedupeKey: string;
  evidence: Record<string, unknown>;
}

/**
 * The write of an offence as one statement, for a caller that must record it in the same D1 batch
 * as the change that proves it (jobs: the close of an abandoned job). The amount is per GPU of
 * the node, computed in SQL; the dedupe key makes a repeat change nothing.
 */
export function offenceStatement(db: Db, config: Config, report: OffenceReport, nowMs = Date.now()): D1PreparedStatement {
  return db.$client
    .prepare(
      `INSERT INTO slashes (id, node_id, offence, dedupe_key, amount, evidence, status, from_reward, from_stake, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5 * COALESCE((SELECT SUM(count) FROM node_gpus WHERE node_id = ?2), 0), ?6, 'pending', 0, 0, ?7
       ON CONFLICT (dedupe_key) DO NOTHING`,
    )
    .bind(
      randomId('sl'),
      report.nodeId,
      report.offence,
      report.dedupeKey,
      baseUnits(config, offenceTokensPerGpu(config, report.offence)),
      JSON.stringify(report.evidence),
      nowMs,
    );
}

/** For other domains and the admin route. Returns the slash, new or not. */
export async function recordOffence(db: Db, config: Config, report: OffenceReport, nowMs = Date.now()) {
  const gpus = await db.select({ count: nodeGpus.count }).from(nodeGpus).where(eq(nodeGpus.nodeId, report.nodeId));
  if (gpus.length === 0) throw new AppError(404, 'node_not_found', 'There is no node with this id.');
  await offenceStatement(db, config, report, nowMs).run();
  const row = await db.select().from(slashes).where(eq(slashes.dedupeKey, report.dedupeKey)).get();
  if (row!.nodeId !== report.nodeId || row!.offence !== report.offence) {
    throw new AppError(409, 'offence_conflict', 'This dedupe key already names another offence.');
  }
  return row!;
}

/** The dedupe key of an abandoned job: one offence per job, however often it is reported. */
export const abandonedJobKey = (jobId: string) => `job:${jobId}:abandoned`;

/**
 * Set-based: every given node with at least VERIFY_FAILURE_THRESHOLD failed challenges in the
 * last VERIFY_FAILURE_WINDOW_S gets one `failed_verification` slash per window, with the failed
 * challenges as evidence. Runs in the same batch as the failure it follows.
 */
export function failedVerificationOffences(db: Db, config: Config, nowMs: number, nodeIds: readonly string[]): D1PreparedStatement {
  const windowMs = config.VERIFY_FAILURE_WINDOW_S * 1000;
  return db.$client
    .prepare(
      `INSERT INTO slashes (id, node_id, offence, dedupe_key, amount, evidence, status, from_reward, from_stake, created_at)
       SELECT 'sl_' || lower(hex(randomblob(16))), c.node_id, 'failed_verification',
              'verify:' || c.node_id || ':' || ?3,
              ?4 * COALESCE((SELECT SUM(count) FROM node_gpus WHERE node_id = c.node_id), 0),
              json_object('failedChallenges', json_group_array(json_object('id', c.id, 'failure', c.failure, 'at', c.answered_at)),
                          'threshold', ?5, 'windowSeconds', ?6),
              'pending', 0, 0, ?2
       FROM challenges c
       WHERE c.node_id IN (SELECT value FROM json_each(?1)) AND c.status = 'failed' AND c.answered_at > ?2 - ?7
       GROUP BY c.node_id HAVING count(*) >= ?5
       ON CONFLICT (dedupe_key) DO NOTHING`,
    )
    .bind(
      JSON.stringify(nodeIds),
      nowMs,
      Math.floor(nowMs / windowMs),
      baseUnits(config, config.SLASH_FAILED_VERIFICATION_TOKENS),
      config.VERIFY_FAILURE_THRESHOLD,
      config.VERIFY_FAILURE_WINDOW_S,
      windowMs,
    );
}
