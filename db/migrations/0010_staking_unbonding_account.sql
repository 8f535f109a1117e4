-- Hand-written (drizzle-kit generate --custom): stake on its way out (unstaked, not yet released)
-- leaves system:staked for system:unbonding, so every staking step is a ledger transaction.
INSERT INTO `accounts` (`id`, `kind`, `wallet`, `balance`, `created_at`, `updated_at`) VALUES
  ('system:unbonding', 'system', NULL, 0, 0, 0);
