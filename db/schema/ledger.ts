import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, unique, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { accounts } from './accounts.ts';

// The double-entry ledger and the settlement tables that hang off it. Every storage record is
// described in workers/ledger/README.md. Amounts are integers in base units of the token.

export const TRANSACTION_KINDS = [
  'deposit', // system:treasury → user, once per on-chain signature
  'withdrawal', // user → system:payouts_pending, with a queued payout
  'payout', // system:payouts_pending → system:treasury, when the payout is final on chain
  'escrow_hold', // renter → escrow:<jobId>
  'capture', // escrow:<jobId> → operator (and fee accounts)
  'refund', // escrow:<jobId> (or payouts_pending) → the user it came from
  'fee', // anyone → system:fees
  'burn', // → system:burn; lowers supply
  'mint', // system:emission → anyone; raises supply (emission, rewards minted, faucet)
  'reward',
  'stake',
  'unstake',
  'slash',
  'grant',
] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** Append-only (triggers refuse UPDATE and DELETE). A correction is a new transaction. */
export const ledgerTransactions = sqliteTable(
  'ledger_transactions',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: TRANSACTION_KINDS }).notNull(),
    /** Namespaced by the caller (`deposit:<signature>`, `withdrawal:<account>:<header>` …). */
    idempotencyKey: text('idempotency_key').notNull().unique(),
    /** SHA-256 of the canonical parameters: a retry must carry the same ones. */
    paramsHash: text('params_hash').notNull(),
    memo: text('memo'),
    /** What the transaction is about, for lookups: `job:<id>`, `payout:<id>`, `epoch:<n>` … */
    ref: text('ref'),
    /** JSON object of caller details, part of the params hash. */
    meta: text('meta'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('ledger_transactions_ref_idx').on(t.ref), index('ledger_transactions_kind_idx').on(t.kind, t.createdAt)],
);

/** Append-only. One entry per account per transaction; the entries of a transaction sum to zero. */
export const ledgerEntries = sqliteTable(
  'ledger_entries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    txId: text('tx_id')
      .notNull()
      .references(() => ledgerTransactions.id),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    /** Signed: + credits the account, − debits it. */
    amount: integer('amount').notNull(),
    balanceAfter: integer('balance_after').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    unique('ledger_entries_tx_account_unique').on(t.txId, t.accountId),
    index('ledger_entries_account_idx').on(t.accountId, t.id),
    check('ledger_entries_amount_non_zero', sql`${t.amount} <> 0`),
  ],
);

/**
 * One row per on-chain transaction the deposit scanner decided for good. The signature is the
 * primary key: a deposit is credited at most once, whatever races.
 */
export const deposits = sqliteTable(
  'deposits',
  {
    signature: text('signature').primaryKey(),
    reference: text('reference'),
    accountId: text('account_id').references(() => accounts.id),
    status: text('status', { enum: ['credited', 'ignored'] }).notNull(),
    amount: integer('amount'),
    /** For `ignored`: the settlement's DepositRejection. */
    reason: text('reason'),
    ledgerTxId: text('ledger_tx_id').references(() => ledgerTransactions.id),
    slot: integer('slot'),
    /** The fee payer (first signer) of the transaction. */
    payer: text('payer'),
    /** Owner of the token account our mint left, when exactly one did (for refunds). */
    sourceOwner: text('source_owner'),
    blockTime: integer('block_time'),
    /** For `ignored`: settlement's one-line explanation of the reason. */
    detail: text('detail'),
    decidedAt: integer('decided_at').notNull(),
  },
  (t) => [index('deposits_account_idx').on(t.accountId, t.decidedAt), index('deposits_reference_idx').on(t.reference)],
);

/** Reference keys handed to depositors (Solana Pay style); the scanner lists transactions by them. */
export const depositReferences = sqliteTable(
  'deposit_references',
  {
    reference: text('reference').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    expectedAmount: integer('expected_amount'),
    status: text('status', { enum: ['open', 'used', 'expired'] })
      .notNull()
      .default('open'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
    /** The newest signature of the last complete scan: the next scan's `until`. */
    scannedUntil: text('scanned_until'),
    /**
     * A gap being closed: a scan that listed more signatures than it may took the newest ones;
     * `gap_newest` (its newest) becomes `scanned_until` once everything between is decided, and
     * `gap_before` is the oldest listed so far (the next scan pages back from it). Without this a
     * reference spammed with dust would show only its newest signatures, forever.
     */
    gapNewest: text('gap_newest'),
    gapBefore: text('gap_before'),
    scannedAt: integer('scanned_at'),
  },
  (t) => [index('deposit_references_account_idx').on(t.accountId), index('deposit_references_status_idx').on(t.status, t.scannedAt)],
);

export const PAYOUT_STATUSES = ['queued', 'batched', 'paid', 'cancelled'] as const;

/** A withdrawal waiting to be paid on chain; its tokens sit in system:payouts_pending meanwhile. */
export const payouts = sqliteTable(
  'payouts',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    /** The recipient's wallet (owner) address. */
    destination: text('destination').notNull(),
    amount: integer('amount').notNull(),
    status: text('status', { enum: PAYOUT_STATUSES }).notNull().default('queued'),
    batchId: text('batch_id').references(() => payoutBatches.id),
    /** Set when batched: the recipient had no token account, so the batch creates it (and pays its rent). */
    createRecipientAta: integer('create_recipient_ata', { mode: 'boolean' }).notNull().default(false),
    /**
     * Base units charged for creating the recipient's token account (its rent, quoted before the
     * withdrawal): 0 when the account existed at request time. Held in system:payouts_pending with
     * `amount` until paid (then → system:fees) or cancelled (then back to the account).
     */
    fee: integer('fee').notNull().default(0),
    /** Batches this payout was in that failed; from 1 it is paid alone, and refunded after a few solo failures. */
    failures: integer('failures').notNull().default(0),
    /** The `withdrawal` transaction that moved the funds to system:payouts_pending. */
    ledgerTxId: text('ledger_tx_id')
      .notNull()
      .unique()
      .references(() => ledgerTransactions.id),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('payouts_status_idx').on(t.status, t.createdAt),
    index('payouts_account_idx').on(t.accountId, t.createdAt),
    index('payouts_batch_idx').on(t.batchId),
    check('payouts_amount_positive', sql`${t.amount} > 0`),
  ],
);

/** One Solana transaction's worth of payouts; columns follow settlement's PayoutBatchRecord. */
export const payoutBatches = sqliteTable(
  'payout_batches',
  {
    id: text('id').primaryKey(),
    state: text('state', { enum: ['queued', 'signed', 'sent', 'paid', 'failed'] })
      .notNull()
      .default('queued'),
    /** Transactions signed so far; the compare-and-swap version. */
    attempt: integer('attempt').notNull().default(0),
    signature: text('signature'),
    /** Base64 wire bytes, stored before the first broadcast. */
    wireTransaction: text('wire_transaction'),
    blockhash: text('blockhash'),
    lastValidBlockHeight: integer('last_valid_block_height'),
    landedSlot: integer('landed_slot'),
    failureReason: text('failure_reason'),
    /** Planned for a v0 transaction with the treasury's address lookup table (more payouts than a legacy one holds). */
    usesLookupTable: integer('uses_lookup_table', { mode: 'boolean' }).notNull().default(false),
    /** The lookup table the current transaction uses (null: legacy); a table is not deactivated while an open batch names it. */
    lookupTable: text('lookup_table'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('payout_batches_state_idx').on(t.state), uniqueIndex('payout_batches_signature_unique').on(t.signature)],
);

/**
 * The treasury's address lookup tables (workers/settlement/lookup-table-step.ts). At most one is
 * `active` (used for new v0 payouts and extended); a full one is `retired`, then deactivated and
 * closed once no open batch uses it; `closed` also marks one whose creation never landed. Each
 * table transaction is stored in `pending` (signatures, wire bytes, lastValidBlockHeight) before it
 * is broadcast, and nothing else is signed for the table until all of them are finalized or
 * provably dead; `version` is the compare-and-swap guard.
 */
export const payoutLookupTables = sqliteTable(
  'payout_lookup_tables',
  {
    id: text('id').primaryKey(),
    address: text('address').notNull().unique(),
    recentSlot: integer('recent_slot').notNull(),
    status: text('status', { enum: ['active', 'retired', 'closed'] })
      .notNull()
      .default('active'),
    version: integer('version').notNull().default(0),
    /** JSON `{ kind, lastValidBlockHeight, transactions: [{ signature, wire }] }` or null. */
    pending: text('pending'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('payout_lookup_tables_status_idx').on(t.status),
    uniqueIndex('payout_lookup_tables_one_active').on(t.status).where(sql`${t.status} = 'active'`),
  ],
);

/** Audit: one row per transaction ever signed for a batch (settlement stores it with the `signed` state). */
export const payoutBatchAttempts = sqliteTable(
  'payout_batch_attempts',
  {
    batchId: text('batch_id')
      .notNull()
      .references(() => payoutBatches.id),
    attempt: integer('attempt').notNull(),
    signature: text('signature').notNull().unique(),
    blockhash: text('blockhash').notNull(),
    lastValidBlockHeight: integer('last_valid_block_height').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.attempt] })],
);
