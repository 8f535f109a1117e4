import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { expect } from 'vitest';
import * as schema from '../../../db/schema.ts';
import type { Db } from '../../../workers/app-env.ts';
import { findOrCreateWalletAccount } from '../../../workers/accounts/accounts.repo.ts';
import { SYSTEM_ACCOUNTS } from '../../../workers/ledger/ledger-accounts.ts';
import { postTransaction } from '../../../workers/ledger/ledger.repo.ts';
import { reconcileLedger, type ReconcileReport } from '../../../workers/ledger/reconcile.ts';
import { encodeBase58 } from '../../../protocol/base58.ts';

export const testDb = (): Db => drizzle(env.DB, { schema });

/** Runs the reconciliation and fails the test with the broken checks and their samples. */
export async function expectLedgerReconciles(db: Db = testDb()): Promise<ReconcileReport> {
  const report = await reconcileLedger(db);
  const broken = report.checks.filter((c) => !c.ok);
  expect(broken, `ledger does not reconcile: ${JSON.stringify(broken, null, 2)}`).toEqual([]);
  expect(report.ok).toBe(true);
  return report;
}

export const randomWallet = () => encodeBase58(crypto.getRandomValues(new Uint8Array(32)));
export const randomSignature = () => encodeBase58(crypto.getRandomValues(new Uint8Array(64)));

/** A fresh user account, funded by a mint when `balance` is given. */
export async function newFundedAccount(balance = 0, db: Db = testDb()): Promise<string> {
  const account = await findOrCreateWalletAccount(db, randomWallet());
  if (balance > 0) {
    await postTransaction(db, {
      kind: 'mint',
      idempotencyKey: `test-fund:${account.id}`,
      entries: [
        { account: SYSTEM_ACCOUNTS.emission, amount: -balance },
        { account: account.id, amount: balance },
      ],
    });
  }
  return account.id;
}

/**
 * Test-only money: a mint posted through the ledger itself (the faucet route exists only in
 * development). `key` makes it idempotent like any ledger transaction.
 */
export async function mintTo(
  accountId: string,
  baseUnits: number,
  key = `test-mint:${crypto.randomUUID()}`,
  db: Db = testDb(),
): Promise<void> {
  await postTransaction(db, {
    kind: 'mint',
    idempotencyKey: key,
    entries: [
      { account: SYSTEM_ACCOUNTS.emission, amount: -baseUnits },
      { account: accountId, amount: baseUnits },
    ],
    memo: 'test mint',
  });
}

export async function balanceOf(accountId: string): Promise<number> {
  const row = await env.DB.prepare('SELECT balance FROM accounts WHERE id = ?').bind(accountId).first<{ balance: number }>();
  if (!row) throw new Error(`no account ${accountId}`);
  return row.balance;
}

/** The status and code an AppError-throwing call rejects with; fails when it does not reject. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    return { status: (error as { status: number }).status, code: (error as { code: string }).code };
  }
  throw new Error('expected a rejection');
}
