import type { Db } from '../app-env.ts';

// What each node's jobs served and paid in an epoch: the work reward's input. The jobs domain
// owns the numbers (workers/jobs): a job's `billed_gpu_seconds` is what its signed receipt and
// the control plane's own clock agreed on, and `fee` the protocol's share of what the renter
// paid for them, both counted in the epoch the job finished in. The work reward is weighted by
// the fees, not the seconds: seconds cost an operator renting their own node next to nothing.

export interface WorkServed {
  nodeId: string;
  gpuSeconds: number;
  /** Base units of protocol fees the node's jobs paid. */
  fees: number;
}

export type WorkSource = (db: Db, window: { startMs: number; endMs: number }) => Promise<WorkServed[]>;

export const workServedInEpoch: WorkSource = async (db, window) => {
  const rows = await db.$client
    .prepare(
      `SELECT node_id AS nodeId, SUM(billed_gpu_seconds) AS gpuSeconds, COALESCE(SUM(fee), 0) AS fees FROM jobs
       WHERE status = 'succeeded' AND node_id IS NOT NULL AND billed_gpu_seconds > 0
         AND finished_at >= ?1 AND finished_at < ?2
       GROUP BY node_id`,
    )
    .bind(window.startMs, window.endMs)
    .all<WorkServed>();
  return rows.results;
};
