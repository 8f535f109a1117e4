import type { TransactionKind } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { accountClass, SYSTEM_ACCOUNTS } from './ledger-accounts.ts';
import { IDEMPOTENCY_KEY_PATTERN } from './postings.ts';

// One ledger transaction with thousands of entries, for epoch closes: many user accounts
// credited (or debited) against one system account. postTransaction keeps a transaction to
// MAX_ENTRIES because it plans every entry in JS; here the entries travel as one JSON parameter
// and the counter entry is computed in SQL as minus the sum of the rows just inserted, so the
// transaction balances by construction. The same guards hold: the transaction row's UNIQUE
// idempotency key aborts a second run, the known-account trigger and the balance CHECK abort the
// batch, and only user accounts can be on the many side. Reconciliation sees ordinary entries.

export interface BulkTransaction {
  kind: Extract<TransactionKind, 'reward' | 'unstake'>;
  idempotencyKey: string;
  /** The one system account on the other side of every entry. */
  counterAccount: string;
  /** User accounts, each once, amounts non-zero safe integers (+ credit, − debit). */
  entries: readonly { account: string; amount: number }[];
  ref?: string;
  memo?: string;
}

export const MAX_BULK_ENTRIES = 20_000;
const BOUNDARIES = new Set<string>([SYSTEM_ACCOUNTS.emission, SYSTEM_ACCOUNTS.burn, SYSTEM_ACCOUNTS.treasury]);

export function checkBulkTransaction(tx: BulkTransaction): string | null {
  if (!IDEMPOTENCY_KEY_PATTERN.test(tx.idempotencyKey)) return 'bad idempotency key';
  if (accountClass(tx.counterAccount) !== 'system' || BOUNDARIES.has(tx.counterAccount))
    return 'the counter account must be an internal system account';
  if (tx.entries.length === 0 || tx.entries.length > MAX_BULK_ENTRIES) return `1–${MAX_BULK_ENTRIES} entries`;
  const seen = new Set<string>();
  let sum = 0;
  for (const e of tx.entries) {
    if (accountClass(e.account) !== 'user') return `${e.account} is not a user account`;
    if (seen.has(e.account)) return `${e.account} appears twice`;
    if (!Number.isSafeInteger(e.amount) || e.amount === 0) return `${e.account}: amounts are non-zero safe integers`;
    seen.add(e.account);
    sum += e.amount;
    if (!Number.isSafeInteger(sum)) return 'the sum is too large';
  }
  return null;
}

/** The statements of one bulk transaction, to run in the caller's batch (with its own rows). */
export async function bulkTransactionStatements(db: Db, tx: BulkTransaction, txId: string, nowMs: number): Promise<D1PreparedStatement[]> {
  const problem = checkBulkTransaction(tx);
  if (problem) throw new Error(`bulk ledger transaction ${tx.idempotencyKey}: ${problem}`);
  const rows = JSON.stringify(tx.entries.map((e) => [e.account, e.amount]));
  const canonical = JSON.stringify(['bulk', tx.kind, tx.counterAccount, rows, tx.memo ?? null, tx.ref ?? null]);
  const paramsHash = await sha256Hex(new TextEncoder().encode(canonical));
  return [
    db.$client
      .prepare(
        `INSERT INTO ledger_transactions (id, kind, idempotency_key, params_hash, memo, ref, meta, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)`,
      )
      .bind(txId, tx.kind, tx.idempotencyKey, paramsHash, tx.memo ?? null, tx.ref ?? null, nowMs),
    // Each account once per transaction: the balance read is the one before this entry.
    db.$client
      .prepare(
        `INSERT INTO ledger_entries (tx_id, account_id, amount, balance_after, created_at)
         SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'),
                (SELECT balance FROM accounts WHERE id = json_extract(value, '$[0]')) + json_extract(value, '$[1]'), ?2
         FROM json_each(?3) ORDER BY key`,
      )
      .bind(txId, nowMs, rows),
    db.$client
      .prepare(
        `INSERT INTO ledger_entries (tx_id, account_id, amount, balance_after, created_at)
         SELECT ?1, ?3, -SUM(amount), (SELECT balance FROM accounts WHERE id = ?3) - SUM(amount), ?2
         FROM ledger_entries WHERE tx_id = ?1`,
      )
      .bind(txId, nowMs, tx.counterAccount),
  ];
}
