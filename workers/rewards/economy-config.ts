import * as z from 'zod';

// Configuration of the network's economy: epochs, emission, rewards, staking, verification and
// slashing (workers/staking/README.md explains each). Spread into the Worker's one config schema
// (workers/config.ts); every key has a default, so none needs a deploy-time value.

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const economyConfigShape = {
  /** Length of a reward epoch. Epoch n covers [genesis + n·len, genesis + (n+1)·len). */
  EPOCH_SECONDS: int(60, 7 * 86_400, 3600),
  /** Start of epoch 0 and of the emission schedule (2026-01-01T00:00:00Z). */
  EPOCH_GENESIS_MS: int(0, 8_640_000_000_000_000, 1_767_225_600_000),
  /** Whole tokens released by emission over the network's whole life. */
  EMISSION_TOTAL_TOKENS: int(0, 9_000_000_000, 300_000_000),
  /** Each year releases this share of what is still unreleased (basis points): a decaying schedule. */
  EMISSION_YEARLY_RELEASE_BPS: int(1, 10_000, 2000),
  /** Share of each epoch's emission paid for served work; the rest pays for capacity. */
  REWARD_WORK_SHARE_BPS: int(0, 10_000, 3000),
  /**
   * An epoch's work rewards are at most this multiple of the protocol fees its jobs paid
   * (10 000 = 1×), the default of governance's `work_reward_fee_multiple_bps`. At or below 1×
   * renting your own node never earns more in work rewards than it costs in fees.
   */
  WORK_REWARD_FEE_MULTIPLE_BPS: int(0, 10_000, 10_000),
  /** A cell with at most one eligible node gets the full bonus; at this many nodes the bonus is gone. */
  REGION_TARGET_NODES: int(1, 100_000, 10),
  REGION_MAX_BONUS_BPS: int(0, 100_000, 10_000),
  /** Whole tokens of bonded stake per GPU a node needs to be eligible for jobs and rewards; at least 1, so every eligible node has something a slash can take. */
  MIN_STAKE_PER_GPU_TOKENS: int(1, 1_000_000, 200),
  UNBONDING_SECONDS: int(0, 365 * 86_400, 7 * 86_400),
  COMMISSION_MAX_BPS: int(0, 10_000, 2000),
  COMMISSION_DEFAULT_BPS: int(0, 10_000, 1000),
  /** Share of the protocol's fees burned at each epoch close; the rest goes to the community treasury. */
  FEE_BURN_BPS: int(0, 10_000, 5000),
  /** Whole tokens per GPU taken for each offence. */
  SLASH_FAILED_VERIFICATION_TOKENS: int(0, 1_000_000_000, 20),
  SLASH_ABANDONED_JOB_TOKENS: int(0, 1_000_000_000, 50),
  SLASH_CONTRADICTORY_REPORTS_TOKENS: int(0, 1_000_000_000, 200),
  /** Failed verifications within the window that make an offence. */
  VERIFY_FAILURE_THRESHOLD: int(1, 1000, 3),
  VERIFY_FAILURE_WINDOW_S: int(60, 90 * 86_400, 86_400),
  /** The challenge: `products` seeded int8 n×n matrix products; the answer is one digest per row. */
  VERIFY_MATRIX_N: int(16, 4096, 1024),
  VERIFY_PRODUCTS: int(1, 1024, 16),
  /** Rows the control plane recomputes, chosen secretly when the challenge is issued. */
  VERIFY_SAMPLE_ROWS: int(1, 64, 4),
  /** Int8 throughput of one weight-1 GPU (RTX 4090) the deadline assumes, in GOP/s. */
  VERIFY_REFERENCE_GOPS: int(1, 100_000_000, 100_000),
  /** Fixed allowance for container start and the round trip, on top of the compute time. */
  VERIFY_OVERHEAD_MS: int(0, 600_000, 20_000),
  VERIFY_SIMULATED_N: int(16, 512, 64),
  VERIFY_SIMULATED_DEADLINE_MS: int(1000, 3_600_000, 120_000),
  /** An issued challenge not answered within this is a failure. */
  VERIFY_CHALLENGE_TTL_S: int(60, 7 * 86_400, 3600),
  /** Share of eligible nodes challenged again at random at each epoch close. */
  VERIFY_RANDOM_BPS: int(0, 10_000, 500),
  /** D1 statements one cron invocation may spend on closing epochs (the platform allows 1,000). */
  CLOSE_QUERY_BUDGET: int(20, 950, 400),
  /** Rows per set-based statement and ledger entries per bulk transaction. */
  CLOSE_CHUNK_ROWS: int(10, 20_000, 5000),
};
