import { formatAmount } from '../lib/amounts.ts';
import type { PayoutRow } from './payouts.ts';
import type { StatementLine } from './ledger.repo.ts';

// Wire shapes of ledger objects: amounts as decimal strings in whole tokens (PROTOCOL.md), times ISO.

export function entryView(line: StatementLine, decimals: number) {
  return {
    id: String(line.id),
    transactionId: line.txId,
    kind: line.kind,
    amount: formatAmount(line.amount, decimals),
    balanceAfter: formatAmount(line.balanceAfter, decimals),
    memo: line.memo,
    ref: line.ref,
    createdAt: new Date(line.createdAt).toISOString(),
  };
}

export function payoutView(p: PayoutRow, decimals: number) {
  return {
    id: p.id,
    /** Left the balance. */
    amount: formatAmount(p.amount, decimals),
    /** Kept for creating the recipient's token account (its rent); 0 when it had one. */
    fee: formatAmount(p.fee, decimals),
    /** What the recipient receives on chain. */
    netAmount: formatAmount(p.amount - p.fee, decimals),
    destination: p.destination,
    status: p.status,
    transactionId: p.ledgerTxId,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}
