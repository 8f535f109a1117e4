import { AppError } from '../errors.ts';
import type { PlanFailure } from './postings.ts';

// The ledger's guards live in SQL (UNIQUE, CHECK, triggers): a violated guard aborts the D1
// batch, and the error message says which guard it was. This maps those messages back to
// meaning; anything else is not ours to interpret and is rethrown.

export type LedgerConstraint = 'idempotency_key' | 'non_negative_balance' | 'unknown_account' | 'deposit_signature';

const PATTERNS: [LedgerConstraint, RegExp][] = [
  ['idempotency_key', /UNIQUE constraint failed: ledger_transactions\.idempotency_key/],
  ['non_negative_balance', /CHECK constraint failed: accounts_balance_non_negative/],
  ['unknown_account', /ledger_unknown_account/],
  ['deposit_signature', /UNIQUE constraint failed: deposits\.signature/],
];

/** Which ledger guard an error from a D1 batch tripped, looking through wrapped causes. */
export function violatedConstraint(error: unknown): LedgerConstraint | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    for (const [name, pattern] of PATTERNS) if (pattern.test(e.message)) return name;
  }
  return null;
}

export const insufficientFunds = () =>
  new AppError(402, 'insufficient_funds', 'The balance is too low for this transaction; nothing was moved.');

export const accountNotFound = () => new AppError(404, 'account_not_found', 'An account named in this transaction does not exist.');

export const idempotencyConflict = () =>
  new AppError(
    409,
    'idempotency_conflict',
    'This idempotency key was already used with different parameters; use a new key for a new request.',
  );

export function invalidTransaction(reason: PlanFailure, detail: string): AppError {
  return new AppError(400, 'invalid_transaction', `The ledger transaction is not valid (${reason}): ${detail}.`);
}
