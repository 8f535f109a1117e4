import { and, desc, eq, lt } from 'drizzle-orm';
import { accounts, ledgerEntries, ledgerTransactions, type TransactionKind } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { randomId } from '../lib/ids.ts';
import { runBatch, type BatchStatement } from './d1-batch.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { accountNotFound, idempotencyConflict, insufficientFunds, invalidTransaction, violatedConstraint } from './ledger-errors.ts';
import { planTransaction, type TransactionInput, type TransactionPlan } from './postings.ts';

export interface PostedEntry {
  id: number;
  account: string;
  amount: number;
  balanceAfter: number;
}

export interface PostedTransaction {
  id: string;
  kind: TransactionKind;
  idempotencyKey: string;
  memo: string | null;
  ref: string | null;
  meta: Record<string, unknown> | null;
  createdAt: number;
  entries: PostedEntry[];
  /** True when an earlier call with this key made the transaction and this one only read it. */
  replayed: boolean;
  /** What the `with` statements returned, in their order (absent on a replay: they did not run). */
  withResults?: D1Result[];
}

export interface PostOptions {
  /**
   * Rows that belong to the same change (a payout, a deposit record). They run in the same batch
   * after the entries: if any of them fails, nothing of the transaction is kept. They do not run
   * when the key was already used (the first call ran them).
   */
  with?: (txId: string, createdAt: number) => BatchStatement[];
  now?: number;
}

/**
 * Posts one balanced transaction as one D1 batch (one SQLite transaction):
 *   1. the transaction row — its UNIQUE idempotency key aborts a second run of the same key;
 *   2. escrow accounts it names, created when missing;
 *   3. all entries in one INSERT … SELECT json_each; a trigger applies each to its account's
 *      balance, and the CHECK on accounts.balance aborts the batch before anything goes negative;
 *   4. the caller's `with` rows.
 * On a used key it returns the first transaction when the parameters hash the same, and throws
 * 409 `idempotency_conflict` when they do not. Throws 402 `insufficient_funds`, 404
 * `account_not_found`, 400 `invalid_transaction`; in every failure case nothing was written.
 */
export async function postTransaction(db: Db, input: TransactionInput, options: PostOptions = {}): Promise<PostedTransaction> {
  const planned = planTransaction(input);
  if (!planned.ok) throw invalidTransaction(planned.reason, planned.detail);
  const plan = planned.plan;
  const paramsHash = await sha256Hex(new TextEncoder().encode(plan.canonical));
  const id = randomId('tx');
  const now = options.now ?? Date.now();
  try {
    const [, , inserted, ...withResults] = await runBatch(db, [
      db.insert(ledgerTransactions).values({
        id,
        kind: plan.kind,
        idempotencyKey: plan.idempotencyKey,
        paramsHash,
        memo: plan.memo,
        ref: plan.ref,
        meta: plan.meta,
        createdAt: now,
      }),
      createEscrowAccounts(db, plan, now),
      insertEntries(db, id, plan, now),
      ...(options.with?.(id, now) ?? []),
    ]);
    return {
      id,
      kind: plan.kind,
      idempotencyKey: plan.idempotencyKey,
      memo: plan.memo,
      ref: plan.ref,
      meta: plan.meta === null ? null : (JSON.parse(plan.meta) as Record<string, unknown>),
      createdAt: now,
      entries: (inserted!.results as EntryRow[]).map(entryView).sort((a, b) => a.id - b.id),
      replayed: false,
      withResults,
    };
  } catch (error) {
    switch (violatedConstraint(error)) {
      case 'idempotency_key':
        return replay(db, plan, paramsHash);
      case 'non_negative_balance':
        throw insufficientFunds();
      case 'unknown_account':
        throw accountNotFound();
      default:
        throw error;
    }
  }
}

interface EntryRow {
  id: number;
  account_id: string;
  amount: number;
  balance_after: number;
}

const entryView = (r: EntryRow): PostedEntry => ({ id: r.id, account: r.account_id, amount: r.amount, balanceAfter: r.balance_after });

function createEscrowAccounts(db: Db, plan: TransactionPlan, now: number): D1PreparedStatement {
  // Always one statement (possibly over an empty list) so the batch's shape does not vary.
  return db.$client
    .prepare(
      `INSERT INTO accounts (id, kind, wallet, balance, created_at, updated_at)
       SELECT value, 'escrow', NULL, 0, ?1, ?1 FROM json_each(?2) WHERE true
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(now, JSON.stringify(plan.escrowAccounts));
}

function insertEntries(db: Db, txId: string, plan: TransactionPlan, now: number): D1PreparedStatement {
  // Each account appears once per transaction, so the balance read for balance_after is the
  // balance before this entry, whatever order SQLite inserts the rows in.
  const rows = JSON.stringify(plan.entries.map((e) => [e.account, e.amount]));
  return db.$client
    .prepare(
      `INSERT INTO ledger_entries (tx_id, account_id, amount, balance_after, created_at)
       SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'),
              (SELECT balance FROM accounts WHERE id = json_extract(value, '$[0]')) + json_extract(value, '$[1]'), ?2
       FROM json_each(?3) ORDER BY key
       RETURNING id, account_id, amount, balance_after`,
    )
    .bind(txId, now, rows);
}

async function replay(db: Db, plan: TransactionPlan, paramsHash: string): Promise<PostedTransaction> {
  const row = await db.select().from(ledgerTransactions).where(eq(ledgerTransactions.idempotencyKey, plan.idempotencyKey)).get();
  // The UNIQUE violation means the row was committed before our batch ran; D1 serializes writes.
  if (!row) throw new Error(`ledger: idempotency key ${plan.idempotencyKey} collided but no transaction holds it`);
  if (row.paramsHash !== paramsHash) throw idempotencyConflict();
  return { ...(await withEntries(db, row)), replayed: true };
}

type TransactionRow = typeof ledgerTransactions.$inferSelect;

async function withEntries(db: Db, row: TransactionRow): Promise<PostedTransaction> {
  const entries = await db
    .select({
      id: ledgerEntries.id,
      account: ledgerEntries.accountId,
      amount: ledgerEntries.amount,
      balanceAfter: ledgerEntries.balanceAfter,
    })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.txId, row.id))
    .orderBy(ledgerEntries.id);
  return {
    id: row.id,
    kind: row.kind,
    idempotencyKey: row.idempotencyKey,
    memo: row.memo,
    ref: row.ref,
    meta: row.meta === null ? null : (JSON.parse(row.meta) as Record<string, unknown>),
    createdAt: row.createdAt,
    entries,
    replayed: false,
  };
}

export async function getTransaction(db: Db, id: string): Promise<PostedTransaction | null> {
  const row = await db.select().from(ledgerTransactions).where(eq(ledgerTransactions.id, id)).get();
  return row ? withEntries(db, row) : null;
}

export async function getTransactionByKey(db: Db, idempotencyKey: string): Promise<PostedTransaction | null> {
  const row = await db.select().from(ledgerTransactions).where(eq(ledgerTransactions.idempotencyKey, idempotencyKey)).get();
  return row ? withEntries(db, row) : null;
}

/** The balance in base units, or null when there is no such account. */
export async function getBalance(db: Db, accountId: string): Promise<number | null> {
  const row = await db.select({ balance: accounts.balance }).from(accounts).where(eq(accounts.id, accountId)).get();
  return row ? row.balance : null;
}

export interface StatementLine {
  id: number;
  txId: string;
  kind: TransactionKind;
  amount: number;
  balanceAfter: number;
  memo: string | null;
  ref: string | null;
  createdAt: number;
}

/** An account's entries, newest first; keyset pagination on the entry id. */
export async function listEntries(db: Db, accountId: string, page: { beforeId?: number; limit: number }): Promise<StatementLine[]> {
  return db
    .select({
      id: ledgerEntries.id,
      txId: ledgerEntries.txId,
      kind: ledgerTransactions.kind,
      amount: ledgerEntries.amount,
      balanceAfter: ledgerEntries.balanceAfter,
      memo: ledgerTransactions.memo,
      ref: ledgerTransactions.ref,
      createdAt: ledgerEntries.createdAt,
    })
    .from(ledgerEntries)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerEntries.txId))
    .where(and(eq(ledgerEntries.accountId, accountId), page.beforeId === undefined ? undefined : lt(ledgerEntries.id, page.beforeId)))
    .orderBy(desc(ledgerEntries.id))
    .limit(page.limit);
}
