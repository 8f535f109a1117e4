import { TRANSACTION_KINDS, type TransactionKind } from '../../db/schema/ledger.ts';
import { accountClass, SYSTEM_ACCOUNTS } from './ledger-accounts.ts';

// Pure planning of one ledger transaction: validation, merging, the canonical form that the
// idempotency hash is taken of. No I/O; ledger.repo.ts turns a plan into one D1 batch.

export interface EntryInput {
  account: string;
  /** Base units, signed: + credits the account, − debits it. */
  amount: number | bigint;
}

export type MetaValue = string | number | boolean | null;

export interface TransactionInput {
  kind: TransactionKind;
  /** Namespaced by the caller, e.g. `deposit:<signature>`, `job:<id>:capture`. */
  idempotencyKey: string;
  entries: readonly EntryInput[];
  memo?: string;
  /** What the transaction is about, for lookups: `job:<id>`, `payout:<id>`, `epoch:<n>`. */
  ref?: string;
  /** Caller details that belong to the request (a withdrawal's destination …); hashed with the rest. */
  meta?: Readonly<Record<string, MetaValue>>;
}

export interface PlannedEntry {
  account: string;
  amount: number;
}

export interface TransactionPlan {
  kind: TransactionKind;
  idempotencyKey: string;
  /** One per account, sorted by account id, none zero, summing to zero. */
  entries: PlannedEntry[];
  memo: string | null;
  ref: string | null;
  /** Canonical JSON (sorted keys) or null. */
  meta: string | null;
  /** Escrow accounts the batch creates when missing. */
  escrowAccounts: string[];
  /** The canonical parameters; a retry under the same key must produce the same string. */
  canonical: string;
}

export type PlanFailure =
  | 'bad_kind'
  | 'bad_idempotency_key'
  | 'bad_amount'
  | 'bad_account'
  | 'too_few_entries'
  | 'too_many_entries'
  | 'unbalanced'
  | 'restricted_account'
  | 'bad_memo'
  | 'bad_ref'
  | 'bad_meta';

export type PlanResult = { ok: true; plan: TransactionPlan } | { ok: false; reason: PlanFailure; detail: string };

export const MAX_ENTRIES = 500;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Who may touch the supply and the chain boundary. Supply changes only through `mint` (debits
 * emission) and `burn` (credits burn); the treasury moves only with deposits and payouts.
 */
function restriction(kind: TransactionKind, account: string, amount: number): string | null {
  switch (account) {
    case SYSTEM_ACCOUNTS.emission:
      return kind === 'mint' && amount < 0 ? null : 'system:emission is debited by mint transactions only';
    case SYSTEM_ACCOUNTS.burn:
      return kind === 'burn' && amount > 0 ? null : 'system:burn is credited by burn transactions only';
    case SYSTEM_ACCOUNTS.treasury:
      if (kind === 'deposit' && amount < 0) return null;
      if (kind === 'payout' && amount > 0) return null;
      return 'system:treasury moves with deposits (debit) and payouts (credit) only';
    default:
      return null;
  }
}

export function planTransaction(input: TransactionInput): PlanResult {
  const fail = (reason: PlanFailure, detail: string): PlanResult => ({ ok: false, reason, detail });
  if (!(TRANSACTION_KINDS as readonly string[]).includes(input.kind)) return fail('bad_kind', `unknown kind ${String(input.kind)}`);
  if (typeof input.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(input.idempotencyKey)) {
    return fail('bad_idempotency_key', 'the idempotency key must be 1–255 printable ASCII characters');
  }
  if (input.entries.length > MAX_ENTRIES) return fail('too_many_entries', `at most ${MAX_ENTRIES} entries`);
  if (input.memo !== undefined && (typeof input.memo !== 'string' || input.memo.length > 500))
    return fail('bad_memo', 'memo: at most 500 characters');
  if (input.ref !== undefined && (typeof input.ref !== 'string' || input.ref.length === 0 || input.ref.length > 200)) {
    return fail('bad_ref', 'ref: 1–200 characters');
  }

  const byAccount = new Map<string, bigint>();
  for (const entry of input.entries) {
    if (accountClass(entry.account) === null) return fail('bad_account', `${JSON.stringify(entry.account)} is not a ledger account id`);
    const amount = toBigInt(entry.amount);
    if (amount === null || amount === 0n) return fail('bad_amount', `${entry.account}: amounts are non-zero safe integers`);
    byAccount.set(entry.account, (byAccount.get(entry.account) ?? 0n) + amount);
  }
  let sum = 0n;
  const entries: PlannedEntry[] = [];
  for (const [account, amount] of [...byAccount].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (amount === 0n) continue;
    if (amount > MAX_SAFE || amount < -MAX_SAFE) return fail('bad_amount', `${account}: the net amount is too large`);
    sum += amount;
    entries.push({ account, amount: Number(amount) });
  }
  if (entries.length < 2) return fail('too_few_entries', 'a transaction moves value between at least two accounts');
  if (sum !== 0n) return fail('unbalanced', `the entries sum to ${sum}, not 0`);
  for (const e of entries) {
    const why = restriction(input.kind, e.account, e.amount);
    if (why) return fail('restricted_account', why);
  }
  if (input.kind === 'mint' && !byAccount.has(SYSTEM_ACCOUNTS.emission)) return fail('restricted_account', 'a mint debits system:emission');
  if (input.kind === 'burn' && !byAccount.has(SYSTEM_ACCOUNTS.burn)) return fail('restricted_account', 'a burn credits system:burn');

  let meta: string | null = null;
  if (input.meta !== undefined) {
    const keys = Object.keys(input.meta).sort();
    if (keys.length > 32 || keys.some((k) => !isMetaValue(input.meta![k]))) return fail('bad_meta', 'meta: at most 32 scalar values');
    meta = JSON.stringify(Object.fromEntries(keys.map((k) => [k, input.meta![k]])));
    if (meta.length > 2000) return fail('bad_meta', 'meta: at most 2000 characters of JSON');
  }
  const memo = input.memo ?? null;
  const ref = input.ref ?? null;
  const plan: TransactionPlan = {
    kind: input.kind,
    idempotencyKey: input.idempotencyKey,
    entries,
    memo,
    ref,
    meta,
    escrowAccounts: entries.filter((e) => accountClass(e.account) === 'escrow').map((e) => e.account),
    canonical: JSON.stringify([input.kind, entries.map((e) => [e.account, e.amount]), memo, ref, meta]),
  };
  return { ok: true, plan };
}

function toBigInt(value: number | bigint): bigint | null {
  if (typeof value === 'bigint') return value;
  return Number.isSafeInteger(value) ? BigInt(value) : null;
}

function isMetaValue(v: unknown): boolean {
  return (
    v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 500)
  );
}
