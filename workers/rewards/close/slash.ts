import { applySlash } from '../../slashing/apply-slash.ts';
import { allocateRewardTake } from '../../slashing/slash-plan.ts';
import type { CloseStep } from './close-exec.ts';
import { advance, guarded } from './close-steps.ts';

// Step `slash`: each slash claimed by the snapshot, from the node's reward first, then its stake
// (workers/slashing/apply-slash.ts), 50 nodes a round; moves on once none is pending.

export const slash: CloseStep = async (exec, config, options, row) => {
  const db = exec.db.$client;
  const rows = await exec.all<{ id: string; node_id: string; amount: number; status: string; slashed: number }>(
    db
      .prepare(
        `SELECT s.id, s.node_id, s.amount, s.status, COALESCE(en.slashed_reward, 0) AS slashed
         FROM slashes s LEFT JOIN epoch_nodes en ON en.epoch = s.epoch AND en.node_id = s.node_id
         WHERE s.epoch = ?1 AND s.node_id IN (SELECT node_id FROM slashes WHERE epoch = ?1 AND status = 'pending' ORDER BY node_id LIMIT 50)
         ORDER BY s.node_id, s.created_at, s.id`,
      )
      .bind(row.epoch),
  );
  if (rows.length === 0) {
    await guarded(exec.batch(advance(exec, row)));
    return;
  }
  const byNode = new Map<string, typeof rows>();
  for (const r of rows) byNode.set(r.node_id, [...(byNode.get(r.node_id) ?? []), r]);
  for (const [nodeId, list] of byNode) {
    const fromReward = allocateRewardTake(
      list.map((s) => ({ id: s.id, amount: BigInt(s.amount) })),
      BigInt(list[0]!.slashed),
    );
    for (const s of list.filter((x) => x.status === 'pending')) {
      exec.charge(13);
      await applySlash(exec.db, config, { id: s.id, nodeId, amount: s.amount }, fromReward.get(s.id) ?? 0n, row.epoch, options.nowMs);
    }
  }
};
