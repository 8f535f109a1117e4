import type { Db } from '../app-env.ts';
import { runBatch } from './d1-batch.ts';
import { SYSTEM_ACCOUNTS } from './ledger-accounts.ts';

// Proves the ledger's invariants with set-based SQL (one pass over entries per check, no
// per-row round trips). All checks run in one D1 batch, i.e. against one consistent snapshot.

export type CheckName =
  | 'transactions_balance'
  | 'balances_match_entries'
  | 'no_negative_balances'
  | 'supply_matches_mint_and_burn'
  | 'payouts_pending_matches_open_payouts';

export interface ReconcileCheck {
  name: CheckName;
  ok: boolean;
  /** How many rows break the invariant. */
  violations: number;
  /** Up to SAMPLE_LIMIT of them, amounts in base units. */
  samples: Record<string, unknown>[];
}

export interface ReconcileReport {
  ok: boolean;
  checkedAt: number;
  checks: ReconcileCheck[];
  /** Base units. `supply` = Σ balances of every account but system:emission and system:burn. */
  totals: { transactions: number; entries: number; supply: number; minted: number; burned: number };
}

const SAMPLE_LIMIT = 20;
const EMISSION = SYSTEM_ACCOUNTS.emission;
const BURN = SYSTEM_ACCOUNTS.burn;
const PAYOUTS_PENDING = SYSTEM_ACCOUNTS.payoutsPending;

type Row = Record<string, unknown> & { violations?: number };

export async function reconcileLedger(db: Db, nowMs = Date.now()): Promise<ReconcileReport> {
  const results = await runBatch(db, [
    // Every transaction has at least two entries and they sum to zero.
    db.$client
      .prepare(`
      SELECT t.id AS txId, t.kind, COALESCE(SUM(e.amount), 0) AS total, COUNT(e.id) AS entries, COUNT(*) OVER () AS violations
      FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.tx_id = t.id
      GROUP BY t.id HAVING total <> 0 OR entries < 2
      LIMIT ?1`)
      .bind(SAMPLE_LIMIT),
    // Every stored balance equals the sum of its account's entries.
    db.$client
      .prepare(`
      SELECT a.id AS accountId, a.balance, COALESCE(s.total, 0) AS replayed, COUNT(*) OVER () AS violations
      FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id
      WHERE a.balance <> COALESCE(s.total, 0)
      LIMIT ?1`)
      .bind(SAMPLE_LIMIT),
    // Only the ledger's boundaries (kind 'external') may be below zero.
    db.$client
      .prepare(`
      SELECT id AS accountId, kind, balance, COUNT(*) OVER () AS violations
      FROM accounts WHERE kind <> 'external' AND balance < 0
      LIMIT ?1`)
      .bind(SAMPLE_LIMIT),
    // Supply moves only with mint (emission) and burn entries.
    db.$client
      .prepare(`
      SELECT
        (SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE id NOT IN (?1, ?2)) AS supply,
        (SELECT COALESCE(SUM(balance), 0) FROM accounts) AS total,
        (SELECT COALESCE(-SUM(e.amount), 0) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
           WHERE e.account_id = ?1 AND t.kind = 'mint') AS minted,
        (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
           WHERE e.account_id = ?2 AND t.kind = 'burn') AS burned,
        (SELECT COUNT(*) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
           WHERE (e.account_id = ?1 AND t.kind <> 'mint') OR (e.account_id = ?2 AND t.kind <> 'burn')) AS outside,
        (SELECT COUNT(*) FROM ledger_transactions) AS transactions,
        (SELECT COUNT(*) FROM ledger_entries) AS entries`)
      .bind(EMISSION, BURN),
    // Withdrawals not yet paid on chain: exactly the payouts still queued or batched.
    db.$client
      .prepare(`
      SELECT
        (SELECT COALESCE(balance, 0) FROM accounts WHERE id = ?1) AS pending,
        (SELECT COALESCE(SUM(amount), 0) FROM payouts WHERE status IN ('queued', 'batched')) AS open,
        (SELECT COUNT(*) FROM payouts WHERE status IN ('queued', 'batched')) AS openPayouts`)
      .bind(PAYOUTS_PENDING),
  ]);
  const [unbalanced, drifted, negative] = results.slice(0, 3).map((r) => r.results as Row[]) as [Row[], Row[], Row[]];
  const s = results[3]!.results[0] as {
    supply: number;
    minted: number;
    burned: number;
    outside: number;
    total: number;
    transactions: number;
    entries: number;
  };

  const p = results[4]!.results[0] as { pending: number | null; open: number; openPayouts: number };
  const pending = p.pending ?? 0;

  const supplyViolations = (s.supply === s.minted - s.burned ? 0 : 1) + (s.total === 0 ? 0 : 1) + s.outside;
  const checks: ReconcileCheck[] = [
    fromRows('transactions_balance', unbalanced),
    fromRows('balances_match_entries', drifted),
    fromRows('no_negative_balances', negative),
    {
      name: 'supply_matches_mint_and_burn',
      ok: supplyViolations === 0,
      violations: supplyViolations,
      samples:
        supplyViolations === 0
          ? []
          : [{ supply: s.supply, minted: s.minted, burned: s.burned, sumOfAllBalances: s.total, entriesOutsideMintAndBurn: s.outside }],
    },
    {
      name: 'payouts_pending_matches_open_payouts',
      ok: pending === p.open,
      violations: pending === p.open ? 0 : 1,
      samples:
        pending === p.open
          ? []
          : [{ payoutsPending: pending, openPayouts: p.openPayouts, openAmount: p.open, difference: pending - p.open }],
    },
  ];
  return {
    ok: checks.every((c) => c.ok),
    checkedAt: nowMs,
    checks,
    totals: { transactions: s.transactions, entries: s.entries, supply: s.supply, minted: s.minted, burned: s.burned },
  };
}

function fromRows(name: CheckName, rows: Row[]): ReconcileCheck {
  const violations = rows[0]?.violations ?? 0;
  return { name, ok: violations === 0, violations, samples: rows.map(({ violations: _v, ...rest }) => rest) };
}
