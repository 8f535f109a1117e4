import { SYSTEM_ACCOUNTS } from '../../ledger/ledger-accounts.ts';
import { epochMs } from '../../lib/epoch-clock.ts';
import { STAKING_ACCOUNTS } from '../../staking/staking-accounts.ts';
import { computeEpochRewards, type RewardNode } from '../epoch-rewards.ts';
import type { CloseStep } from './close-exec.ts';
import { advance, guarded, guardedPost } from './close-steps.ts';

// Step `compute`: reads the frozen inputs, runs the pure arithmetic (epoch-rewards.ts), writes
// the results, then mints the epoch's rewards into system:reward_pool (`epoch:<n>:mint`) in the
// batch that moves the epoch on.

export const compute: CloseStep = async (exec, config, _options, row) => {
  const db = exec.db.$client;
  const read = config.CLOSE_CHUNK_ROWS * 4;
  const nodes: (RewardNode & { slashDue: bigint })[] = [];
  for (let after = ''; ; ) {
    const page = await exec.all<{
      node_id: string;
      operator_account: string;
      uptime_ms: number;
      weight_milli: number;
      geo_cell: string;
      gpu_seconds: number;
      work_fees: number;
      commission_bps: number;
    }>(
      db
        .prepare(
          `SELECT node_id, operator_account, uptime_ms, weight_milli, geo_cell, gpu_seconds, work_fees, commission_bps FROM epoch_nodes
           WHERE epoch = ?1 AND node_id > ?2 ORDER BY node_id LIMIT ?3`,
        )
        .bind(row.epoch, after, read),
    );
    for (const r of page) {
      nodes.push({
        nodeId: r.node_id,
        operatorAccount: r.operator_account,
        uptimeMs: r.uptime_ms,
        weightMilli: r.weight_milli,
        geoCell: r.geo_cell,
        gpuSeconds: r.gpu_seconds,
        workFees: r.work_fees,
        commissionBps: r.commission_bps,
        slashDue: 0n,
      });
    }
    if (page.length < read) break;
    after = page.at(-1)!.node_id;
  }
  const stakes: { nodeId: string; accountId: string; amount: bigint }[] = [];
  for (let after = JSON.stringify(['', '']); ; ) {
    const [n, a] = JSON.parse(after) as [string, string];
    const page = await exec.all<{ node_id: string; account_id: string; amount: number }>(
      db
        .prepare(
          `SELECT node_id, account_id, amount FROM epoch_stakes WHERE epoch = ?1 AND (node_id, account_id) > (?2, ?3)
           ORDER BY node_id, account_id LIMIT ?4`,
        )
        .bind(row.epoch, n, a, read),
    );
    for (const r of page) stakes.push({ nodeId: r.node_id, accountId: r.account_id, amount: BigInt(r.amount) });
    if (page.length < read) break;
    after = JSON.stringify([page.at(-1)!.node_id, page.at(-1)!.account_id]);
  }
  const dues = await exec.all<{ node_id: string; due: number }>(
    db.prepare(`SELECT node_id, SUM(amount) AS due FROM slashes WHERE epoch = ?1 AND status = 'pending' GROUP BY node_id`).bind(row.epoch),
  );
  const dueByNode = new Map(dues.map((d) => [d.node_id, BigInt(d.due)]));
  for (const n of nodes) n.slashDue = dueByNode.get(n.nodeId) ?? 0n;

  const result = computeEpochRewards(
    {
      capacityPool: BigInt(row.capacityPool),
      workPool: BigInt(row.workPool),
      epochMs: epochMs(config),
      regionTargetNodes: config.REGION_TARGET_NODES,
      regionMaxBonusBps: config.REGION_MAX_BONUS_BPS,
      // Frozen at the snapshot; an epoch snapshotted before the column existed uses the configured default.
      workFeeMultipleBps: row.workFeeMultipleBps ?? config.WORK_REWARD_FEE_MULTIPLE_BPS,
    },
    nodes,
    stakes,
  );

  const chunk = config.CLOSE_CHUNK_ROWS;
  const writes: D1PreparedStatement[] = [];
  for (let i = 0; i < result.nodes.length; i += chunk) {
    const rows = result.nodes
      .slice(i, i + chunk)
      .map((r) => [r.nodeId, r.regionBps, Number(r.capacityReward), Number(r.workReward), Number(r.slashedReward), Number(r.netReward)]);
    writes.push(
      db
        .prepare(
          // An upsert driven by the JSON rows (one primary-key probe each); an UPDATE … FROM
          // json_each lets SQLite scan the table once per row, quadratic at this size.
          `INSERT INTO epoch_nodes (epoch, node_id, uptime_ms, weight_milli, geo_cell, commission_bps,
             region_bps, capacity_reward, work_reward, slashed_reward, net_reward)
           SELECT ?1, value ->> '$[0]', 0, 0, '', 0, value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', value ->> '$[4]', value ->> '$[5]'
           FROM json_each(?2) WHERE true
           ON CONFLICT (epoch, node_id) DO UPDATE SET region_bps = excluded.region_bps, capacity_reward = excluded.capacity_reward,
             work_reward = excluded.work_reward, slashed_reward = excluded.slashed_reward, net_reward = excluded.net_reward`,
        )
        .bind(row.epoch, JSON.stringify(rows)),
    );
  }
  for (let i = 0; i < result.shares.length; i += chunk) {
    const rows = result.shares.slice(i, i + chunk).map((s) => [s.nodeId, s.accountId, s.role, Number(s.amount), Number(s.commission)]);
    writes.push(
      db
        .prepare(
          `INSERT OR REPLACE INTO reward_shares (epoch, node_id, account_id, role, amount, commission)
           SELECT ?1, value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', value ->> '$[4]' FROM json_each(?2)`,
        )
        .bind(row.epoch, JSON.stringify(rows)),
    );
  }
  const creditChunks = Math.ceil(result.credits.length / chunk);
  for (let c = 0; c < creditChunks; c++) {
    const rows = result.credits.slice(c * chunk, (c + 1) * chunk).map((x) => [x.accountId, Number(x.amount)]);
    writes.push(
      db
        .prepare(
          `INSERT OR REPLACE INTO epoch_credits (epoch, account_id, chunk, amount)
           SELECT ?1, value ->> '$[0]', ?2, value ->> '$[1]' FROM json_each(?3)`,
        )
        .bind(row.epoch, c, JSON.stringify(rows)),
    );
  }
  exec.need(writes.length + 6);
  // Idempotent writes (same frozen inputs, same results); a crash here is repaired by a rerun.
  for (let i = 0; i < writes.length; i += 8) await exec.batch(writes.slice(i, i + 8));

  const finish = advance(exec, row, ', minted = ?6, carry_out = ?7, credit_chunks = ?8', [
    Number(result.minted),
    Number(result.carry),
    creditChunks,
  ]);
  if (result.minted === 0n) {
    await guarded(exec.batch(finish));
    return;
  }
  exec.charge(3 + finish.length);
  await guardedPost(
    exec.db,
    {
      kind: 'mint',
      idempotencyKey: `epoch:${row.epoch}:mint`,
      entries: [
        { account: SYSTEM_ACCOUNTS.emission, amount: -result.minted },
        { account: STAKING_ACCOUNTS.rewardPool, amount: result.minted },
      ],
      ref: `epoch:${row.epoch}`,
      memo: 'epoch rewards',
    },
    { with: () => finish },
  );
};
