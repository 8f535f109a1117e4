import { isAddress } from '@solana/kit';

// Pure batch planning. A payout batch is one transaction signed by the treasury: N
// `transferChecked` (treasury token account → recipient's associated token account), each
// preceded by `createAssociatedTokenIdempotent` when the recipient has no token account yet.
// Legacy by default: it needs no on-chain table. A v0 transaction whose accounts (our mint, the
// treasury's token account, each recipient's token account) come from the treasury's address
// lookup table names each recipient in 1 byte instead of 32: 57 recipients per transaction
// instead of 20. The table has to be created and extended first (transactions, and rent held
// until it is closed), so `chooseLookupTable` takes it only where it saves transactions.

/** Solana's packet limit for a serialized transaction (1280 − 48 bytes of headers). */
export const MAX_TRANSACTION_BYTES = 1232;

export interface PayoutRequest {
  /** The ledger's payout id; never sent on chain. */
  id: string;
  /** The recipient's wallet (owner) address; tokens go to its associated token account. */
  recipientOwner: string;
  /** Base units of our mint. */
  amount: bigint;
  /** The recipient has no token account for our mint: create it (the treasury pays its rent). */
  createRecipientAta?: boolean;
}

export interface PayoutTxOptions {
  /** Adds SetComputeUnitLimit + SetComputeUnitPrice (52 bytes: one recipient fewer per batch). */
  priorityFee?: boolean;
  /**
   * A v0 transaction whose mint, treasury token account and recipients' token accounts are all
   * in one lookup table (how settlement builds them: it signs only once the table holds them).
   */
  lookupTable?: boolean;
}

export type PayoutRejection = 'invalid_recipient' | 'invalid_amount';

export interface PayoutPlan {
  batches: PayoutRequest[][];
  rejected: { payout: PayoutRequest; reason: PayoutRejection }[];
}

const U64_MAX = 2n ** 64n - 1n;

/**
 * Groups payouts, in queue order, into as few transactions as fit: each batch holds at most
 * `maxPerTx` payouts and serializes to at most MAX_TRANSACTION_BYTES (computed exactly, see
 * `estimatePayoutTxSize`). Measured capacity (test/bench/settlement): 20 recipients with
 * existing token accounts, 10 when every one needs its account created, 19 / 9 with a priority fee.
 */
export function planPayoutBatches(payouts: readonly PayoutRequest[], maxPerTx: number, options: PayoutTxOptions = {}): PayoutPlan {
  if (!Number.isInteger(maxPerTx) || maxPerTx < 1) throw new RangeError('maxPerTx must be a positive integer');
  const plan: PayoutPlan = { batches: [], rejected: [] };
  let current: PayoutRequest[] = [];
  for (const payout of payouts) {
    if (!isAddress(payout.recipientOwner)) {
      plan.rejected.push({ payout, reason: 'invalid_recipient' });
      continue;
    }
    if (payout.amount <= 0n || payout.amount > U64_MAX) {
      plan.rejected.push({ payout, reason: 'invalid_amount' });
      continue;
    }
    const candidate = [...current, payout];
    if (current.length > 0 && (candidate.length > maxPerTx || estimatePayoutTxSize(candidate, options) > MAX_TRANSACTION_BYTES)) {
      plan.batches.push(current);
      current = [payout];
    } else {
      current = candidate;
    }
  }
  if (current.length > 0) plan.batches.push(current);
  return plan;
}

/**
 * The exact wire size of the legacy transaction `buildPayoutTransaction` makes for these payouts
 * (a test holds the two together). Recipients are keyed by owner, so two payouts to one wallet
 * share an account key and one account creation.
 */
export function estimatePayoutTxSize(payouts: readonly PayoutRequest[], options: PayoutTxOptions = {}): number {
  const owners = new Set(payouts.map((p) => p.recipientOwner));
  const creating = new Set(payouts.filter((p) => p.createRecipientAta).map((p) => p.recipientOwner));
  const table = options.lookupTable === true;
  // treasury (fee payer, signer), treasury token account, mint, token program; with a table only
  // the signer and the programs stay static (programs cannot be looked up).
  let keys = table ? 2 : 4 + owners.size;
  let instructionBytes = payouts.length * instructionSize(4, 10); // source, mint, destination, authority; u8 + u64 + u8
  if (creating.size > 0) {
    keys += 2 + creating.size; // system program, associated token program, each new account's owner
    instructionBytes += creating.size * instructionSize(6, 1); // payer, ata, owner, mint, system, token; u8
  }
  let instructions = payouts.length + creating.size;
  if (options.priorityFee) {
    keys += 1; // compute budget program
    instructionBytes += instructionSize(0, 5) + instructionSize(0, 9);
    instructions += 2;
  }
  const signatures = compactU16Size(1) + 64;
  let message = 3 + compactU16Size(keys) + 32 * keys + 32 + compactU16Size(instructions) + instructionBytes;
  if (table) {
    // Version prefix, one table lookup: its address, the writable indexes (treasury token account
    // and each recipient's), the read-only ones (the mint).
    const writable = 1 + owners.size;
    message += 1 + compactU16Size(1) + 32 + compactU16Size(writable) + writable + compactU16Size(1) + 1;
  }
  return signatures + message;
}

export interface LookupTableChoice {
  /** Legacy transactions the payouts need. */
  legacyTransactions: number;
  /** v0 transactions with the table. */
  v0Transactions: number;
  use: boolean;
}

/**
 * Whether a set of payouts (recipients with token accounts, no failures) goes in v0 transactions
 * with the treasury's lookup table. Yes only when that needs fewer payout transactions than
 * legacy, i.e. more than one legacy transaction's worth (over 20): for a batch that fits one
 * legacy transaction the table saves nothing and would delay it by an extension. The extension
 * (one transaction per 28 new addresses) is paid once per recipient: a recipient who withdraws
 * again costs 1 byte from then on, and the rent is a deposit the treasury gets back on closing.
 */
export function chooseLookupTable(
  payouts: readonly PayoutRequest[],
  maxPerTx: number,
  maxPerV0Tx: number,
  options: PayoutTxOptions = {},
): LookupTableChoice {
  const legacyTransactions = planPayoutBatches(payouts, maxPerTx, { ...options, lookupTable: false }).batches.length;
  const v0Transactions = planPayoutBatches(payouts, maxPerV0Tx, { ...options, lookupTable: true }).batches.length;
  return { legacyTransactions, v0Transactions, use: legacyTransactions > 1 && v0Transactions < legacyTransactions };
}

function instructionSize(accounts: number, dataBytes: number): number {
  return 1 + compactU16Size(accounts) + accounts + compactU16Size(dataBytes) + dataBytes;
}

function compactU16Size(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
}
