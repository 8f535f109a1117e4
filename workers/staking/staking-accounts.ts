// System accounts of staking and rewards, seeded by db/migrations/0007_staking_accounts.sql and 0010_staking_unbonding_account.sql.
export const STAKING_ACCOUNTS = {
  /** Every bonded and unbonding stake. */
  staked: 'system:staked',
  /** Unstaked and waiting out the unbonding period: still slashable, earns nothing. */
  unbonding: 'system:unbonding',
  /** An epoch's minted rewards between the mint and the credit chunks; empty between closes. */
  rewardPool: 'system:reward_pool',
  /** Community treasury: its share of fees, and slashed tokens. */
  community: 'system:community',
} as const;
