import type { Db } from '../app-env.ts';
import { emitAlert, type AlertQueueEnv } from '../alerts/emit-alert.ts';
import type { Config } from '../config.ts';

// The operator's `stake_low` alert: a change took a node's bonded stake from at least the minimum
// (governance's `min_stake_per_gpu`, MIN_STAKE_PER_GPU_TOKENS until a proposal changes it, × its
// GPUs; read in SQL as eligibility.ts does) to below it. Only that crossing alerts, never a change
// that stays above or stays below. The probe runs inside the change's own batch, after the stake
// rows moved and before `refreshEligibility` rewrites `nodes.stake_total`, so it compares the
// committed before and after of this very change: concurrent changes cannot both claim a crossing.

export interface StakeLow {
  nodeId: string;
  /** Bonded stake after the change, base units. */
  stake: number;
  /** min × GPUs, base units. */
  minimum: number;
}

/** Place in the batch after the `stakes` update and before `refreshEligibility`. Returns the crossing row, or none. */
export function stakeLowProbe(db: Db, config: Config, nodeId: string): D1PreparedStatement {
  return db.$client
    .prepare(
      `SELECT n.id AS nodeId, s.after AS stake, m.perGpu * g.gpus AS minimum, 'stake_low' AS probe
       FROM nodes n,
            (SELECT COALESCE(SUM(amount), 0) AS after FROM stakes WHERE node_id = ?1) s,
            (SELECT COALESCE(SUM(count), 0) AS gpus FROM node_gpus WHERE node_id = ?1) g,
            (SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM params WHERE name = 'min_stake_per_gpu'), ?2) AS perGpu) m
       WHERE n.id = ?1 AND g.gpus > 0 AND n.stake_total >= m.perGpu * g.gpus AND s.after < m.perGpu * g.gpus`,
    )
    .bind(nodeId, config.MIN_STAKE_PER_GPU_TOKENS * 10 ** config.TOKEN_DECIMALS);
}

/** The crossing among a batch's results (the probe's rows carry `probe = 'stake_low'`). */
export function stakeLowOf(results: readonly D1Result[] | undefined): StakeLow | null {
  for (const r of results ?? []) {
    const row = (r.results as Record<string, unknown>[] | undefined)?.find((x) => x.probe === 'stake_low');
    if (row) return { nodeId: String(row.nodeId), stake: Number(row.stake), minimum: Number(row.minimum) };
  }
  return null;
}

/**
 * After the change committed. `changeId` names the change (its ledger transaction), so the event
 * id is unique per node and crossing and a retry of the same emit alerts once.
 */
export async function emitStakeLow(alerts: AlertQueueEnv, low: StakeLow, changeId: string, atMs: number): Promise<void> {
  await emitAlert(alerts, {
    eventId: `stake_low:${low.nodeId}:${changeId}`,
    kind: 'stake_low',
    nodeId: low.nodeId,
    at: atMs,
    data: { stake: low.stake, minimum: low.minimum },
  }).catch((error) => console.error('stake_low alert not emitted', error));
}
