import { eq, sql } from 'drizzle-orm';
import { deposits } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { decodeBase58 } from '../../protocol/base58.ts';
import { SYSTEM_ACCOUNTS } from './ledger-accounts.ts';
import { violatedConstraint } from './ledger-errors.ts';
import { postTransaction, type PostedTransaction } from './ledger.repo.ts';

// The ledger side of deposits: settlement (workers/settlement) finds and judges on-chain
// transactions; these functions record its final decisions. A signature is credited at most
// once, twice over: the ledger idempotency key `deposit:<signature>` and the primary key of
// `deposits`, written in the same batch as the credit.

export interface DepositCredit {
  /** The Solana transaction signature (base58 of 64 bytes). */
  signature: string;
  accountId: string;
  /** Base units that arrived at the treasury token account. */
  amount: number | bigint;
  /** The deposit reference key the transaction was found under. */
  reference?: string | null;
  slot?: number | null;
  /** Chain details kept on the `deposits` row (not part of the ledger transaction's parameters). */
  payer?: string | null;
  sourceOwner?: string | null;
  blockTime?: number | null;
}

export interface DepositCreditResult {
  /** False when this signature was credited before; `transaction` is then that first credit. */
  credited: boolean;
  transaction: PostedTransaction;
}

export async function creditDeposit(db: Db, deposit: DepositCredit, nowMs = Date.now()): Promise<DepositCreditResult> {
  if (!isSignature(deposit.signature)) throw new AppError(400, 'invalid_deposit', 'A deposit signature is base58 of 64 bytes.');
  const amount = BigInt(deposit.amount);
  if (amount <= 0n || amount > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AppError(400, 'invalid_deposit', 'A deposit amount is a positive safe integer of base units.');
  }
  const reference = deposit.reference ?? null;
  try {
    const transaction = await postTransaction(
      db,
      {
        kind: 'deposit',
        idempotencyKey: `deposit:${deposit.signature}`,
        entries: [
          { account: SYSTEM_ACCOUNTS.treasury, amount: -amount },
          { account: deposit.accountId, amount },
        ],
        ref: `deposit:${deposit.signature}`,
        meta: { reference },
      },
      {
        now: nowMs,
        with: (txId, at) => [
          db.insert(deposits).values({
            signature: deposit.signature,
            reference,
            accountId: deposit.accountId,
            status: 'credited',
            amount: Number(amount),
            ledgerTxId: txId,
            slot: deposit.slot ?? null,
            payer: deposit.payer ?? null,
            sourceOwner: deposit.sourceOwner ?? null,
            blockTime: deposit.blockTime ?? null,
            decidedAt: at,
          }),
        ],
      },
    );
    return { credited: !transaction.replayed, transaction };
  } catch (error) {
    if (violatedConstraint(error) === 'deposit_signature') {
      throw new AppError(409, 'deposit_already_decided', 'This deposit signature was already decided as not creditable.', error);
    }
    throw error;
  }
}

export interface IgnoredDeposit {
  signature: string;
  reference?: string | null;
  /** The settlement's final DepositRejection (failed_tx, wrong_mint, short_amount …). */
  reason: string;
  amount?: number | bigint | null;
  slot?: number | null;
  /** The account the reference was handed to, so the depositor can see what happened. */
  accountId?: string | null;
  /** Settlement's explanation of the reason, for an operator. */
  detail?: string | null;
}

/** Records a final "not creditable" decision; false when the signature was already decided. */
export async function recordIgnoredDeposit(db: Db, deposit: IgnoredDeposit, nowMs = Date.now()): Promise<boolean> {
  const rows = await db
    .insert(deposits)
    .values({
      signature: deposit.signature,
      reference: deposit.reference ?? null,
      accountId: deposit.accountId ?? null,
      status: 'ignored',
      reason: deposit.reason,
      detail: deposit.detail?.slice(0, 500) ?? null,
      amount: deposit.amount === undefined || deposit.amount === null ? null : Number(deposit.amount),
      slot: deposit.slot ?? null,
      decidedAt: nowMs,
    })
    .onConflictDoNothing()
    .returning({ signature: deposits.signature });
  return rows.length === 1;
}

/** Signatures already decided for good under a reference: the scanner's `skip` set. */
export async function decidedSignatures(db: Db, reference: string): Promise<Set<string>> {
  const rows = await db.select({ signature: deposits.signature }).from(deposits).where(eq(deposits.reference, reference));
  return new Set(rows.map((r) => r.signature));
}

/**
 * Which of `signatures` are decided for good, under any reference, with the reference each was
 * decided under. A transaction may name several references and is decided once, under the first
 * that found it; the scanner of any other one must see it as decided too, not try again.
 */
export async function decidedAmong(db: Db, signatures: readonly string[]): Promise<Map<string, string | null>> {
  if (signatures.length === 0) return new Map();
  // One JSON parameter, expanded by json_each: a listing can be longer than D1's 100 bound parameters.
  const rows = await db
    .select({ signature: deposits.signature, reference: deposits.reference })
    .from(deposits)
    .where(sql`${deposits.signature} IN (SELECT value FROM json_each(${JSON.stringify(signatures)}))`);
  return new Map(rows.map((r) => [r.signature, r.reference]));
}

function isSignature(text: string): boolean {
  return typeof text === 'string' && decodeBase58(text)?.length === 64;
}
