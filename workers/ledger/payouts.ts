import { and, eq, inArray } from 'drizzle-orm';
import { payouts } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError, notFound } from '../errors.ts';
import { randomId } from '../lib/ids.ts';
import { assertChanged, assertionFailed } from './sql-assert.ts';
import { SYSTEM_ACCOUNTS } from './ledger-accounts.ts';
import { postTransaction, type PostedTransaction } from './ledger.repo.ts';
import type { EntryInput, TransactionInput } from './postings.ts';

// Withdrawals and their payouts, on the ledger side. The life of a payout:
//
//   requestWithdrawal   user → system:payouts_pending   (withdrawal, `amount`), payout row `queued`
//   (settlement)        queued → batched, into a payout_batches row; `amount − fee` paid on chain
//   completePayout      batched → paid;  system:payouts_pending → system:treasury (amount − fee)
//                                         and → system:fees (fee: the recipient's token-account rent)
//   cancelPayout        queued → cancelled; system:payouts_pending → user (amount)  (refund)
//
// A status change and its ledger posting are ONE D1 batch: the posting, then a compare-and-swap
// UPDATE of the status, then an assertion that the UPDATE changed the row (else the batch, posting
// included, rolls back). Nothing can fall between the two, so system:payouts_pending always equals
// the sum of the open (queued or batched) payouts — reconciliation checks exactly that. The posting's
// key is derived from the payout id, so a retry never moves money twice. Only a `queued` payout can
// be cancelled, only a `batched` one paid.

export type PayoutRow = typeof payouts.$inferSelect;

export interface WithdrawalRequest {
  accountId: string;
  /** Leaves the balance; `amount − fee` is what the recipient receives. */
  amount: number;
  /** Kept for creating the recipient's token account (its rent), 0 when it has one. */
  fee?: number;
  /** The wallet (owner address) that receives the tokens. */
  destination: string;
  idempotencyKey: string;
}

export async function requestWithdrawal(
  db: Db,
  request: WithdrawalRequest,
): Promise<{ payout: PayoutRow; transaction: PostedTransaction; replayed: boolean }> {
  const payoutId = randomId('po');
  const fee = request.fee ?? 0;
  if (!Number.isSafeInteger(fee) || fee < 0 || fee >= request.amount) {
    throw new AppError(400, 'invalid_request', 'The fee must be a whole number of base units below the amount.');
  }
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
          fee,
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

/** The payout is final on chain: what was sent leaves the ledger through the treasury, the rent fee becomes income. */
export async function completePayout(db: Db, payoutId: string, nowMs = Date.now()): Promise<PostedTransaction> {
  const payout = await getPayout(db, payoutId);
  if (!payout) throw notFound('Payout');
  const entries: EntryInput[] = [
    { account: SYSTEM_ACCOUNTS.payoutsPending, amount: -payout.amount },
    { account: SYSTEM_ACCOUNTS.treasury, amount: payout.amount - payout.fee },
  ];
  if (payout.fee > 0) entries.push({ account: SYSTEM_ACCOUNTS.fees, amount: payout.fee });
  return postWithTransition(db, payout, ['batched'], 'paid', nowMs, {
    kind: 'payout',
    idempotencyKey: `payout:${payout.id}:paid`,
    entries,
    ref: `payout:${payout.id}`,
  });
}

/** A queued payout that will not be paid (bad recipient, operator decision): all of it goes back, fee included. */
export async function cancelPayout(db: Db, payoutId: string, reason: string, nowMs = Date.now()): Promise<PostedTransaction> {
  const payout = await getPayout(db, payoutId);
  if (!payout) throw notFound('Payout');
  return postWithTransition(db, payout, ['queued'], 'cancelled', nowMs, {
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

/**
 * The posting and the status change in one batch. The UPDATE also accepts a payout already at
 * `to`: a row left there without its posting (by the code before this one) still gets it. When the
 * posting exists, its key makes the whole batch a replay that changes nothing.
 */
async function postWithTransition(
  db: Db,
  payout: PayoutRow,
  from: PayoutRow['status'][],
  to: PayoutRow['status'],
  nowMs: number,
  input: TransactionInput,
): Promise<PostedTransaction> {
  // Read first so a wrong state is named as such (the posting could fail on its own first, e.g. as
  // insufficient funds); the assertion in the batch is what holds against a concurrent change.
  if (![...from, to].includes(payout.status)) throw wrongState(payout, to);
  try {
    return await postTransaction(db, input, {
      now: nowMs,
      with: () => [
        db
          .update(payouts)
          .set({ status: to, updatedAt: nowMs })
          .where(and(eq(payouts.id, payout.id), inArray(payouts.status, [...from, to]))),
        assertChanged(db.$client, 'payout_state'),
      ],
    });
  } catch (error) {
    if (assertionFailed(error) !== 'payout_state') throw error;
    throw wrongState((await getPayout(db, payout.id)) ?? payout, to);
  }
}

const wrongState = (payout: PayoutRow, to: PayoutRow['status']) =>
  new AppError(409, 'payout_state', `Payout ${payout.id} is ${payout.status}; it cannot become ${to}.`);
