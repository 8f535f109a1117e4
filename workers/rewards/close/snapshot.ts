import { SYSTEM_ACCOUNTS } from '../../ledger/ledger-accounts.ts';
import type { Config } from '../../config.ts';
import { getParams } from '../../governance/params.repo.ts';
import { epochBounds, epochMs } from '../../lib/epoch-clock.ts';
import { GPU_CATALOG } from '../../../protocol/gpu-catalog.ts';
import { epochPools } from '../epoch-rewards.ts';
import { epochEmission, epochsPerYear } from '../emission.ts';
import { workServedInEpoch } from '../work-served.ts';
import type { CloseOptions, Exec } from './close-exec.ts';
import { messages } from './close-steps.ts';

// Step `snapshot`, one batch: the epochs row (its PRIMARY KEY lets only one close begin, and it
// keeps the governed work-fee multiple), eligible nodes' uptime, GPU weight, work and the fees it
// paid frozen into epoch_nodes, bonded stake into epoch_stakes, pending slashes claimed,
// commission changes applied. The row is written at `compute`: it never rests at `snapshot`.

const CATALOG_WEIGHTS = JSON.stringify(Object.fromEntries(GPU_CATALOG.map((g) => [g.name, Math.round(g.rewardWeight * 1000)])));

export async function snapshot(exec: Exec, config: Config, options: CloseOptions, epoch: number, carryIn: bigint): Promise<void> {
  const { startMs, endMs } = epochBounds(config, epoch);
  exec.charge(1);
  const work = (await (options.workSource ?? workServedInEpoch)(exec.db, { startMs, endMs })).filter((w) => w.gpuSeconds > 0 || w.fees > 0);
  exec.charge(1);
  const workFeeMultipleBps = (await getParams(exec.db, config, options.nowMs)).work_reward_fee_multiple_bps;
  const schedule = {
    total: BigInt(config.EMISSION_TOTAL_TOKENS) * 10n ** BigInt(config.TOKEN_DECIMALS),
    releaseBps: config.EMISSION_YEARLY_RELEASE_BPS,
    epochsPerYear: epochsPerYear(config.EPOCH_SECONDS),
  };
  const emission = epochEmission(schedule, epoch);
  const pools = epochPools(emission, carryIn, config.REWARD_WORK_SHARE_BPS);
  const db = exec.db.$client;
  const now = options.nowMs;
  const chunk = config.CLOSE_CHUNK_ROWS;
  const workUpdates: D1PreparedStatement[] = [];
  for (let i = 0; i < work.length; i += chunk) {
    workUpdates.push(
      db
        .prepare(
          // Only nodes already in the snapshot (eligible ones) take work; upsert for the same reason as in compute.
          `INSERT INTO epoch_nodes (epoch, node_id, uptime_ms, weight_milli, geo_cell, commission_bps, gpu_seconds, work_fees)
           SELECT ?1, value ->> 'n', 0, 0, '', 0, value ->> 's', value ->> 'f' FROM json_each(?2)
           WHERE EXISTS (SELECT 1 FROM epoch_nodes e WHERE e.epoch = ?1 AND e.node_id = value ->> 'n')
           ON CONFLICT (epoch, node_id) DO UPDATE SET gpu_seconds = excluded.gpu_seconds, work_fees = excluded.work_fees`,
        )
        .bind(epoch, JSON.stringify(work.slice(i, i + chunk).map((w) => ({ n: w.nodeId, s: w.gpuSeconds, f: w.fees })))),
    );
  }
  try {
    await exec.batch([
      db
        .prepare(
          `INSERT INTO epochs (epoch, status, step, cursor, start_ms, end_ms, emission, carry_in, capacity_pool, work_pool, fees, started_at, work_fee_multiple_bps)
           VALUES (?1, 'closing', 'compute', 0, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT balance FROM accounts WHERE id = ?8), ?9, ?10)`,
        )
        .bind(
          epoch,
          startMs,
          endMs,
          Number(emission),
          Number(carryIn),
          Number(pools.capacityPool),
          Number(pools.workPool),
          SYSTEM_ACCOUNTS.fees,
          now,
          workFeeMultipleBps,
        ),
      db
        .prepare(
          `INSERT INTO node_staking (node_id, commission_bps, reward_online_ms, updated_at) SELECT id, ?1, 0, ?2 FROM nodes WHERE true ON CONFLICT (node_id) DO NOTHING`,
        )
        .bind(config.COMMISSION_DEFAULT_BPS, now),
      db
        .prepare(
          `UPDATE node_staking SET commission_bps = next_commission_bps, next_commission_bps = NULL, next_commission_epoch = NULL, updated_at = ?2
           WHERE next_commission_epoch <= ?1`,
        )
        .bind(epoch, now),
      // An eligible node's owner without an account gets one, so its rewards have somewhere to go.
      db
        .prepare(
          `INSERT INTO accounts (id, kind, wallet, balance, created_at, updated_at)
           SELECT 'acc_' || lower(hex(randomblob(16))), 'user', owner, 0, ?1, ?1 FROM (SELECT DISTINCT owner FROM nodes WHERE eligible = 1)
           WHERE true ON CONFLICT DO NOTHING`,
        )
        .bind(now),
      db
        .prepare(
          `INSERT INTO epoch_nodes (epoch, node_id, operator_account, uptime_ms, weight_milli, geo_cell, commission_bps)
           SELECT ?1, n.id, a.id, min(?2, max(0, n.online_ms - ns.reward_online_ms)),
                  COALESCE((SELECT SUM(g.count * w.value) FROM node_gpus g JOIN json_each(?3) w ON w.key = g.canonical_model WHERE g.node_id = n.id), 0),
                  n.geo_cell, ns.commission_bps
           FROM nodes n JOIN node_staking ns ON ns.node_id = n.id JOIN accounts a ON a.wallet = n.owner
           WHERE n.eligible = 1`,
        )
        .bind(epoch, epochMs(config), CATALOG_WEIGHTS),
      // Uptime while not eligible does not pile up for later: every node's baseline moves.
      db.prepare(
        `UPDATE node_staking SET reward_online_ms = n.online_ms FROM nodes n
         WHERE n.id = node_staking.node_id AND node_staking.reward_online_ms <> n.online_ms`,
      ),
      ...workUpdates,
      db
        .prepare(
          `INSERT INTO epoch_stakes (epoch, node_id, account_id, amount)
           SELECT ?1, s.node_id, s.account_id, s.amount FROM epoch_nodes en JOIN stakes s ON s.node_id = en.node_id
           WHERE en.epoch = ?1 AND s.amount > 0`,
        )
        .bind(epoch),
      db.prepare(`UPDATE slashes SET epoch = ?1 WHERE status = 'pending' AND epoch IS NULL`).bind(epoch),
      db.prepare('UPDATE epochs SET nodes = (SELECT count(*) FROM epoch_nodes WHERE epoch = ?1) WHERE epoch = ?1').bind(epoch),
    ]);
  } catch (error) {
    // Another invocation began this epoch first: its snapshot stands, ours is rolled back.
    if (!/UNIQUE constraint failed: epochs\.epoch/.test(messages(error))) throw error;
  }
}
