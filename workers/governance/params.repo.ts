import { params as paramsTable } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { boundsContextOf, checkParamValue, defaultParams, isParamName, type Params } from './param-defs.ts';

// The parameter store, read through a short per-isolate cache: every request may call
// `getParams` freely (one D1 read per isolate per PARAMS_CACHE_S). An executed `param` proposal
// clears the cache of the isolate that ran it; other isolates see the change within the TTL.

interface CacheEntry {
  params: Params;
  expiresAt: number;
}

// Keyed by the D1 binding so separate databases (tests, previews) never share an entry.
const cache = new WeakMap<object, CacheEntry>();

export function governanceDefaults(config: Config) {
  return {
    votingPeriodS: config.GOVERNANCE_VOTING_PERIOD_S,
    quorumBps: config.GOVERNANCE_QUORUM_BPS,
    thresholdBps: config.GOVERNANCE_THRESHOLD_BPS,
    timelockS: config.GOVERNANCE_TIMELOCK_S,
    proposalMinStake: config.GOVERNANCE_PROPOSAL_MIN_STAKE * 10 ** config.TOKEN_DECIMALS,
    // Jobs and staking read these through getParams; their configuration is only the default.
    protocolFeeBps: Math.min(config.JOB_FEE_BPS, 3000),
    minStakePerGpu: config.MIN_STAKE_PER_GPU_TOKENS * 10 ** config.TOKEN_DECIMALS,
    unbondingDays: config.UNBONDING_SECONDS / 86_400,
    commissionCapBps: config.COMMISSION_MAX_BPS,
    workRewardFeeMultipleBps: config.WORK_REWARD_FEE_MULTIPLE_BPS,
  };
}

/** Every whitelisted parameter: the stored value where governance set one, its default otherwise. */
export async function getParams(db: Db, config: Config, nowMs = Date.now()): Promise<Params> {
  const hit = cache.get(db.$client);
  if (hit && hit.expiresAt > nowMs) return hit.params;
  const params = await readParams(db, config);
  cache.set(db.$client, { params, expiresAt: nowMs + config.PARAMS_CACHE_S * 1000 });
  return params;
}

export function invalidateParams(db: Db): void {
  cache.delete(db.$client);
}

/** Uncached; also what the admin and HTTP views use to show where a value came from. */
export async function readParams(db: Db, config: Config): Promise<Params> {
  const bounds = boundsContextOf(config);
  const params = defaultParams(governanceDefaults(config), bounds);
  for (const row of await storedParams(db)) {
    if (!isParamName(row.name)) continue; // a name dropped from the whitelist: ignored, kept for history
    const checked = checkParamValue(row.name, JSON.parse(row.value), bounds);
    if (checked.ok) params[row.name] = checked.value;
    else console.error('params: stored value out of bounds, using the default', row.name, row.value);
  }
  return params;
}

export async function storedParams(db: Db) {
  return db.select().from(paramsTable);
}
