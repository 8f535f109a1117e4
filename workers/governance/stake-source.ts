// The one place governance reads staking's tables (db/schema/staking.ts). Voting power is bonded
// stake: rows of `stakes`, summed over every node an account backs (its own and delegations).
// Stake in `unbondings` no longer votes. Kept as SQL text so the snapshot is one INSERT … SELECT.

/** (account_id, power) for every account with bonded stake. */
export const BONDED_STAKE_BY_ACCOUNT = `SELECT account_id, SUM(amount) AS power FROM stakes GROUP BY account_id HAVING SUM(amount) > 0`;

/** One account's bonded stake; binds ?1 = account id. */
export const BONDED_STAKE_OF_ACCOUNT = `SELECT COALESCE(SUM(amount), 0) FROM stakes WHERE account_id = ?1`;
