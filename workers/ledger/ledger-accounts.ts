// How ledger accounts are named. Every account is a row of `accounts` (db/schema/accounts.ts):
//
//   acc_<32 hex>          a user, signed in with a Solana wallet (kind 'user')
//   system:<name>         the protocol's own accounts, seeded by migration (kind 'system'/'external')
//   escrow:<jobId>        one per job, created by the first `escrow_hold` that names it (kind 'escrow')
//
// Only `external` accounts may go negative: they are where tokens enter and leave the ledger.

export const SYSTEM_ACCOUNTS = {
  /** external. Tokens that came in from the chain (deposits, −) and went out to it (payouts, +). */
  treasury: 'system:treasury',
  /** external. Where minted tokens come from; −balance = everything ever minted. */
  emission: 'system:emission',
  /** Burned tokens; only `burn` transactions credit it and nothing ever debits it. */
  burn: 'system:burn',
  /** The protocol's fee income, until it is burned or spent. */
  fees: 'system:fees',
  /** Withdrawals waiting for their on-chain payout. */
  payoutsPending: 'system:payouts_pending',
} as const;

export type SystemAccount = (typeof SYSTEM_ACCOUNTS)[keyof typeof SYSTEM_ACCOUNTS];

const USER_ID = /^acc_[0-9a-f]{32}$/;
const SYSTEM_ID = /^system:[a-z_]{1,48}$/;
const ESCROW_ID = /^escrow:[A-Za-z0-9_-]{1,64}$/;

export type AccountClass = 'user' | 'system' | 'escrow';

/** Which class an account id belongs to by its shape, or null when it is no ledger account id. */
export function accountClass(id: string): AccountClass | null {
  if (USER_ID.test(id)) return 'user';
  if (SYSTEM_ID.test(id)) return 'system';
  if (ESCROW_ID.test(id)) return 'escrow';
  return null;
}

export const isUserAccountId = (id: string) => USER_ID.test(id);

/** The escrow account holding a job's payment from hold until capture or refund. */
export function escrowAccount(jobId: string): string {
  const id = `escrow:${jobId}`;
  if (!ESCROW_ID.test(id)) throw new RangeError(`job id ${JSON.stringify(jobId)} cannot name an escrow account`);
  return id;
}
