-- Hand-written (drizzle-kit generate --custom): the system accounts of staking and rewards.
-- system:staked holds every bonded and unbonding stake; system:reward_pool holds an epoch's
-- minted rewards until its credit chunks are posted (it is empty again when the epoch closes);
-- system:community is the community treasury: its share of fees and slashed tokens.
INSERT INTO `accounts` (`id`, `kind`, `wallet`, `balance`, `created_at`, `updated_at`) VALUES
  ('system:staked', 'system', NULL, 0, 0, 0),
  ('system:reward_pool', 'system', NULL, 0, 0, 0),
  ('system:community', 'system', NULL, 0, 0, 0);
