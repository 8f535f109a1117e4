import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

// Staking, verification, epoch rewards and slashing. Every record is described in
// workers/staking/README.md. Amounts are integers in base units; times are Unix milliseconds.
// The tokens themselves sit in ledger accounts (system:staked, system:reward_pool …); these
// tables say whose they are and why they moved.

/** Bonded stake of one account on one node (the operator's own or a delegation). */
export const stakes = sqliteTable(
  'stakes',
  {
    accountId: text('account_id').notNull(),
    nodeId: text('node_id').notNull(),
    amount: integer('amount').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.nodeId] }),
    index('stakes_node_idx').on(t.nodeId),
    check('stakes_amount_non_negative', sql`${t.amount} >= 0`),
  ],
);

/** Stake on its way out: still slashable, no longer earning or voting; released at `releaseAt`. */
export const unbondings = sqliteTable(
  'unbondings',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    accountId: text('account_id').notNull(),
    nodeId: text('node_id').notNull(),
    amount: integer('amount').notNull(),
    requestedAt: integer('requested_at').notNull(),
    releaseAt: integer('release_at').notNull(),
    status: text('status', { enum: ['unbonding', 'released'] })
      .notNull()
      .default('unbonding'),
    releasedAt: integer('released_at'),
    /** The `unstake` ledger transaction that returned it. */
    ledgerTxId: text('ledger_tx_id'),
  },
  (t) => [
    index('unbondings_status_release_idx').on(t.status, t.releaseAt),
    index('unbondings_node_idx').on(t.nodeId, t.status),
    index('unbondings_account_idx').on(t.accountId, t.status),
    check('unbondings_amount_non_negative', sql`${t.amount} >= 0`),
  ],
);

/** Per-node economics that are not part of the public registry row. */
export const nodeStaking = sqliteTable('node_staking', {
  nodeId: text('node_id').primaryKey(),
  commissionBps: integer('commission_bps').notNull(),
  /** A commission change waits for the next epoch. */
  nextCommissionBps: integer('next_commission_bps'),
  nextCommissionEpoch: integer('next_commission_epoch'),
  /** nodes.online_ms at the last epoch snapshot: the next epoch's uptime is measured from here. */
  rewardOnlineMs: integer('reward_online_ms').notNull().default(0),
  /** SHA-256 of the GPU inventory that last passed verification; a different inventory is unverified. */
  verifiedInventory: text('verified_inventory'),
  updatedAt: integer('updated_at').notNull(),
});

export const EPOCH_STEPS = ['snapshot', 'compute', 'slash', 'post', 'fees', 'release', 'challenges', 'done'] as const;
export type EpochStep = (typeof EPOCH_STEPS)[number];

/** One row per epoch that began closing; `step`/`cursor` make the close resumable. */
export const epochs = sqliteTable('epochs', {
  epoch: integer('epoch').primaryKey(),
  status: text('status', { enum: ['closing', 'closed'] }).notNull(),
  step: text('step', { enum: EPOCH_STEPS }).notNull(),
  cursor: integer('cursor').notNull().default(0),
  startMs: integer('start_ms').notNull(),
  endMs: integer('end_ms').notNull(),
  /** The schedule's emission for this epoch, the carry from earlier epochs, and what was minted. */
  emission: integer('emission').notNull().default(0),
  carryIn: integer('carry_in').notNull().default(0),
  minted: integer('minted').notNull().default(0),
  carryOut: integer('carry_out').notNull().default(0),
  capacityPool: integer('capacity_pool').notNull().default(0),
  workPool: integer('work_pool').notNull().default(0),
  /** system:fees balance at the snapshot, then split between burn and the community treasury. */
  fees: integer('fees').notNull().default(0),
  burned: integer('burned').notNull().default(0),
  /**
   * Governance's `work_reward_fee_multiple_bps` at the snapshot: the work pool paid out is at
   * most this multiple of the fees the epoch's work brought in. Null for epochs closed before
   * work was weighted by fees.
   */
  workFeeMultipleBps: integer('work_fee_multiple_bps'),
  nodes: integer('nodes').notNull().default(0),
  creditChunks: integer('credit_chunks').notNull().default(0),
  /** D1 statements spent and cron invocations used, for the record and the bench. */
  queries: integer('queries').notNull().default(0),
  runs: integer('runs').notNull().default(0),
  startedAt: integer('started_at').notNull(),
  closedAt: integer('closed_at'),
});

/** The frozen inputs of an epoch per eligible node, then its results. */
export const epochNodes = sqliteTable(
  'epoch_nodes',
  {
    epoch: integer('epoch').notNull(),
    nodeId: text('node_id').notNull(),
    operatorAccount: text('operator_account'),
    uptimeMs: integer('uptime_ms').notNull(),
    /** Σ GPUs × catalogue reward weight, in thousandths. */
    weightMilli: integer('weight_milli').notNull(),
    geoCell: text('geo_cell').notNull(),
    gpuSeconds: integer('gpu_seconds').notNull().default(0),
    /** Protocol fees the node's jobs finished in the epoch paid: the work reward's weight. */
    workFees: integer('work_fees').notNull().default(0),
    commissionBps: integer('commission_bps').notNull(),
    regionBps: integer('region_bps').notNull().default(10_000),
    capacityReward: integer('capacity_reward').notNull().default(0),
    workReward: integer('work_reward').notNull().default(0),
    slashedReward: integer('slashed_reward').notNull().default(0),
    /** What the stakers shared: capacity + work − slashed. */
    netReward: integer('net_reward').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.epoch, t.nodeId] }), index('epoch_nodes_node_idx').on(t.nodeId, t.epoch)],
);

/** Bonded stake at the snapshot: who shares a node's reward. */
export const epochStakes = sqliteTable(
  'epoch_stakes',
  {
    epoch: integer('epoch').notNull(),
    nodeId: text('node_id').notNull(),
    accountId: text('account_id').notNull(),
    amount: integer('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.epoch, t.nodeId, t.accountId] })],
);

/** Each account's reward from each node in an epoch. */
export const rewardShares = sqliteTable(
  'reward_shares',
  {
    epoch: integer('epoch').notNull(),
    nodeId: text('node_id').notNull(),
    accountId: text('account_id').notNull(),
    role: text('role', { enum: ['operator', 'delegator'] }).notNull(),
    amount: integer('amount').notNull(),
    /** The part of `amount` that is commission (operators only). */
    commission: integer('commission').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.epoch, t.nodeId, t.accountId] }), index('reward_shares_account_idx').on(t.accountId, t.epoch)],
);

/** One credit per account per epoch, grouped into chunks: one bulk ledger transaction per chunk. */
export const epochCredits = sqliteTable(
  'epoch_credits',
  {
    epoch: integer('epoch').notNull(),
    accountId: text('account_id').notNull(),
    chunk: integer('chunk').notNull(),
    amount: integer('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.epoch, t.accountId] }), index('epoch_credits_chunk_idx').on(t.epoch, t.chunk)],
);

export const CHALLENGE_STATUSES = ['issued', 'delivered', 'passed', 'failed'] as const;

/** Hardware verification challenges (workers/verification/README.md). */
export const challenges = sqliteTable(
  'challenges',
  {
    id: text('id').primaryKey(),
    nodeId: text('node_id').notNull(),
    reason: text('reason', { enum: ['registration', 'random', 'retry'] }).notNull(),
    /** Hex of 32 random bytes: seeds every matrix. */
    seed: text('seed').notNull(),
    n: integer('n').notNull(),
    products: integer('products').notNull(),
    /** JSON array of the row indices the control plane will check; never sent to the node. */
    sample: text('sample').notNull(),
    /** The GPU inventory claimed when it was issued (JSON) and whether it was simulated. */
    claimed: text('claimed').notNull(),
    simulated: integer('simulated', { mode: 'boolean' }).notNull(),
    /** From delivery, in ms. */
    deadlineMs: integer('deadline_ms').notNull(),
    status: text('status', { enum: CHALLENGE_STATUSES }).notNull().default('issued'),
    issuedAt: integer('issued_at').notNull(),
    deliveredAt: integer('delivered_at'),
    answeredAt: integer('answered_at'),
    expiresAt: integer('expires_at').notNull(),
    failure: text('failure'),
  },
  (t) => [index('challenges_node_idx').on(t.nodeId, t.status), index('challenges_status_expiry_idx').on(t.status, t.expiresAt)],
);

export const OFFENCES = ['failed_verification', 'abandoned_job', 'contradictory_reports'] as const;
export type Offence = (typeof OFFENCES)[number];

/** An offence and what it cost; applied at the next epoch close, rewards first, then stake. */
export const slashes = sqliteTable(
  'slashes',
  {
    id: text('id').primaryKey(),
    nodeId: text('node_id').notNull(),
    offence: text('offence', { enum: OFFENCES }).notNull(),
    /** One offence is slashed once: `verify:<node>:<window>`, `job:<id>:abandoned` … */
    dedupeKey: text('dedupe_key').notNull().unique(),
    /** Base units the offence costs. */
    amount: integer('amount').notNull(),
    /** JSON: what proves it (failed challenge ids, the two signed reports …). */
    evidence: text('evidence').notNull(),
    status: text('status', { enum: ['pending', 'applied'] })
      .notNull()
      .default('pending'),
    /** The epoch whose close applies it. */
    epoch: integer('epoch'),
    fromReward: integer('from_reward').notNull().default(0),
    fromStake: integer('from_stake').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    appliedAt: integer('applied_at'),
  },
  (t) => [index('slashes_node_idx').on(t.nodeId, t.createdAt), index('slashes_status_idx').on(t.status, t.epoch)],
);

/** Whose stake a slash took, and from which state. */
export const slashShares = sqliteTable(
  'slash_shares',
  {
    slashId: text('slash_id').notNull(),
    accountId: text('account_id').notNull(),
    source: text('source', { enum: ['bonded', 'unbonding'] }).notNull(),
    /** unbondings.id for `unbonding`, 0 for `bonded`. */
    unbondingId: integer('unbonding_id').notNull().default(0),
    amount: integer('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.slashId, t.accountId, t.source, t.unbondingId] })],
);
