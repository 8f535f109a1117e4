import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';

// `nodes.eligible` is the one flag quotes and jobs read: verified, enough bonded stake per GPU,
// not suspended, and not simulated outside development. `nodes.stake_total` is the bonded stake.
// Every change of stake or verification runs this statement in the same batch as the change.
//
// The minimum stake per GPU is governance's `min_stake_per_gpu` (workers/governance/param-defs.ts),
// MIN_STAKE_PER_GPU_TOKENS until a proposal changes it. It is read from the parameter store inside
// the statement, not from getParams' isolate cache: the flag is stored, so it must be computed
// with the value in force when it is written. Executing a change of the parameter refreshes every
// node (workers/governance/governance-tick.ts).

/** The configured default; the value in force is the `min_stake_per_gpu` parameter. */
export function defaultMinStakePerGpu(config: Config): number {
  return config.MIN_STAKE_PER_GPU_TOKENS * 10 ** config.TOKEN_DECIMALS;
}

const MIN_STAKE_PER_GPU = `COALESCE((SELECT CAST(value AS INTEGER) FROM params WHERE name = 'min_stake_per_gpu'), ?2)`;

/** For the given nodes, or every node when `nodeIds` is null (after a configuration change). */
export function refreshEligibility(db: Db, config: Config, nodeIds: readonly string[] | null): D1PreparedStatement {
  const where = nodeIds === null ? '' : 'WHERE id IN (SELECT value FROM json_each(?3))';
  const statement = db.$client.prepare(
    `UPDATE nodes SET
       stake_total = COALESCE((SELECT SUM(amount) FROM stakes WHERE node_id = nodes.id), 0),
       eligible = (verified_at IS NOT NULL AND suspended = 0 AND (simulated = 0 OR ?1)
         AND COALESCE((SELECT SUM(count) FROM node_gpus WHERE node_id = nodes.id), 0) > 0
         AND COALESCE((SELECT SUM(amount) FROM stakes WHERE node_id = nodes.id), 0)
             >= ${MIN_STAKE_PER_GPU} * COALESCE((SELECT SUM(count) FROM node_gpus WHERE node_id = nodes.id), 0))
     ${where}`,
  );
  const dev = config.isDevelopment ? 1 : 0;
  const perGpu = defaultMinStakePerGpu(config);
  return nodeIds === null ? statement.bind(dev, perGpu) : statement.bind(dev, perGpu, JSON.stringify(nodeIds));
}
