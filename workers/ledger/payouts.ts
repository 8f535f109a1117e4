import { and, eq, inArray } from 'drizzle-orm';
import { payouts } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError, notFound } from '../errors.ts';
import { randomId } from '../lib/ids.ts';
import { SYSTEM_ACCOUNTS } from './ledger-accounts.ts';
import { postTransaction, type PostedTransaction } from './ledger.repo.ts';

// Withdrawals and their payouts, on the ledger side. The life of a payout:
//
//   requestWithdrawal   user → system:payouts_pending   (withdrawal), payout row `queued`
//   (settlement)        queued → batched, into a payout_batches row, paid on chain
//   completePayout      batched → paid;  system:payouts_pending → system:treasury   (payout)
//   cancelPayout        queued → cancelled; system:payouts_pending → user           (refund)
//
// Status changes are compare-and-swap UPDATEs; the ledger transaction after each has a key
// derived from the payout id, so a retry after a crash between the two finishes the job and
// never moves money twice. Only a `queued` payout can be cancelled, only a `batched` one paid.

export type PayoutRow = typeof payouts.$inferSelect;

export interface WithdrawalRequest {
  accountId: string;
  amount: number;
  /** The wallet (owner address) that receives the tokens. */
  destination: string;
  idempotencyKey: string;
}

export async function requestWithdrawal(
  db: Db,
  request: WithdrawalRequest,
): Promise<{ payout: PayoutRow; transaction: PostedTransaction; replayed: boolean }> {
  const payoutId = randomId('po');
  const transaction = await postTransaction(
    db,
    {
      kind: 'withdrawal',
      idempotencyKey: request.idempotencyKey,
      entries: [
        { account: request.accountId, amount: -request.amount },
        { account: SYSTEM_ACCOUNTS.payoutsPending, amount: request.amount },
      ],
      meta: { destination: request.destination },
    },
    {
      with: (txId, at) => [
        db.insert(payouts).values({
          id: payoutId,
          accountId: request.accountId,
          destination: request.destination,
          amount: request.amount,
          status: 'queued',
          ledgerTxId: txId,
          createdAt: at,
          updatedAt: at,
        }),
      ],
    },
  );
  const payout = await db.select().from(payouts).where(eq(payouts.ledgerTxId, transaction.id)).get();
  if (!payout) throw new Error(`ledger: withdrawal ${transaction.id} has no payout row`);
  return { payout, transaction, replayed: transaction.replayed };
}

export async function getPayout(db: Db, id: string): Promise<PayoutRow | undefined> {
  return db.select().from(payouts).where(eq(payouts.id, id)).get();
}

/** The payout is final on chain: its tokens leave the ledger through the treasury. */
export async function completePayout(db: Db, payoutId: string, nowMs = Date.now()): Promise<PostedTransaction> {
  const payout = await transition(db, payoutId, ['batched'], 'paid', nowMs);
  return postTransaction(db, {
    kind: 'payout',
    idempotencyKey: `payout:${payout.id}:paid`,
    entries: [
      { account: SYSTEM_ACCOUNTS.payoutsPending, amount: -payout.amount },
      { account: SYSTEM_ACCOUNTS.treasury, amount: payout.amount },
    ],
    ref: `payout:${payout.id}`,
  });
}

/** A queued payout that will not be paid (bad recipient, operator decision): the funds go back. */
export async function cancelPayout(db: Db, payoutId: string, reason: string, nowMs = Date.now()): Promise<PostedTransaction> {
  const payout = await transition(db, payoutId, ['queued'], 'cancelled', nowMs);
  return postTransaction(db, {
    kind: 'refund',
    idempotencyKey: `payout:${payout.id}:cancelled`,
    entries: [
      { account: SYSTEM_ACCOUNTS.payoutsPending, amount: -payout.amount },
      { account: payout.accountId, amount: payout.amount },
    ],
    ref: `payout:${payout.id}`,
    memo: reason.slice(0, 200),
  });
}

async function transition(db: Db, id: string, from: PayoutRow['status'][], to: PayoutRow['status'], nowMs: number): Promise<PayoutRow> {
  const [moved] = await db
    .update(payouts)
    .set({ status: to, updatedAt: nowMs })
    .where(and(eq(payouts.id, id), inArray(payouts.status, from)))
    .returning();
  if (moved) return moved;
  const current = await getPayout(db, id);
  if (!current) throw notFound('Payout');
  // Already there: a retry after the status change, which must still post its transaction.
  if (current.status === to) return current;
  throw new AppError(409, 'payout_state', `Payout ${id} is ${current.status}; it cannot become ${to}.`);
}
