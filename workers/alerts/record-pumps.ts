import { dbOf } from '../app-env.ts';
import type { Env } from '../env.ts';
import type { AlertEvent } from './alert-event.ts';
import { emitAlerts } from './emit-alert.ts';
import { pumpRenterAlerts } from './renter-pumps.ts';

// Alerts read from records other features already keep, so they need no call of ours: applied
// slashes (`slashes.applied_at`), paid payouts (`payouts.status = 'paid'`) and refunded ones
// (`payouts.status = 'cancelled'`, the reason in the refund's memo), and credited deposits. Each pump keeps a
// timestamp cursor and re-reads its last millisecond (`>=`), so rows committed in the same
// millisecond are never skipped; the repeats are dropped by event id.

/** Rows per pump per run; far more than one millisecond ever holds, so the cursor always moves. */
const PAGE = 2000;

interface Pump {
  name: string;
  /** Rows at or after the cursor, oldest first, with `t` the timestamp the cursor follows. */
  sql: string;
  toEvent(row: Record<string, unknown>): AlertEvent;
}

const PUMPS: Pump[] = [
  {
    name: 'slashes',
    sql: `SELECT s.id, s.node_id, s.amount, s.offence, s.applied_at AS t FROM slashes s
          WHERE s.status = 'applied' AND s.applied_at >= ?1 ORDER BY s.applied_at, s.id LIMIT ?2`,
    toEvent: (r) => ({
      eventId: `slash:${String(r.id)}`,
      kind: 'slashed',
      nodeId: String(r.node_id),
      at: Number(r.t),
      data: { amount: Number(r.amount), reason: String(r.offence).replace(/_/g, ' ') },
    }),
  },
  {
    name: 'payouts',
    // The signature is the batch's: the one Solana transaction that paid it. The amount is what it sent (less the rent fee).
    sql: `SELECT p.id, p.account_id, p.amount - p.fee AS amount, b.signature, p.updated_at AS t FROM payouts p LEFT JOIN payout_batches b ON b.id = p.batch_id
          WHERE p.status = 'paid' AND p.updated_at >= ?1 ORDER BY p.updated_at, p.id LIMIT ?2`,
    toEvent: (r) => ({
      eventId: `payout:${String(r.id)}`,
      kind: 'reward_paid',
      accountId: String(r.account_id),
      at: Number(r.t),
      data: { amount: Number(r.amount), ...(r.signature ? { signature: String(r.signature) } : {}) },
    }),
  },
  {
    name: 'payout_refunds',
    // Settlement cancelled it (unpayable recipient): the whole amount went back to the balance.
    sql: `SELECT p.id, p.account_id, p.amount, t.memo AS reason, p.updated_at AS t FROM payouts p
          LEFT JOIN ledger_transactions t ON t.idempotency_key = 'payout:' || p.id || ':cancelled'
          WHERE p.status = 'cancelled' AND p.updated_at >= ?1 ORDER BY p.updated_at, p.id LIMIT ?2`,
    toEvent: (r) => ({
      eventId: `payout_refunded:${String(r.id)}`,
      kind: 'payout_refunded',
      accountId: String(r.account_id),
      at: Number(r.t),
      data: { amount: Number(r.amount), ...(r.reason ? { reason: String(r.reason) } : {}) },
    }),
  },
  {
    name: 'deposits',
    // A credited deposit, told to the chats linked to the account it was credited to.
    sql: `SELECT d.signature, d.account_id, d.amount, d.decided_at AS t FROM deposits d
          WHERE d.status = 'credited' AND d.decided_at >= ?1 AND d.account_id IN (SELECT account_id FROM account_links)
          ORDER BY d.decided_at, d.signature LIMIT ?2`,
    toEvent: (r) => ({
      eventId: `deposit:${String(r.signature)}`,
      kind: 'deposit_credited',
      accountId: String(r.account_id),
      at: Number(r.t),
      data: { amount: Number(r.amount), signature: String(r.signature) },
    }),
  },
];

export async function pumpRecordAlerts(env: Env, nowMs: number): Promise<{ emitted: number }> {
  const d1 = dbOf(env).$client;
  let emitted = 0;
  for (const pump of PUMPS) {
    const cursorRow = await d1.prepare('SELECT value FROM alert_cursors WHERE name = ?').bind(pump.name).first<{ value: number }>();
    // First run: only what happened in the last ten minutes is news.
    const cursor = cursorRow?.value ?? nowMs - 10 * 60_000;
    const { results } = await d1.prepare(pump.sql).bind(cursor, PAGE).all<Record<string, unknown>>();
    if (results.length > 0) await emitAlerts(env, results.map(pump.toEvent));
    emitted += results.length;
    const next = results.length > 0 ? Number(results.at(-1)!.t) : cursor;
    await d1
      .prepare(
        `INSERT INTO alert_cursors (name, value, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (name) DO UPDATE SET value = max(value, ?2), updated_at = ?3`,
      )
      .bind(pump.name, next, nowMs)
      .run();
  }
  // The renters' job starts, ends and "ends soon" (renter-pumps.ts), read from the jobs' records too.
  emitted += (await pumpRenterAlerts(env, nowMs)).emitted;
  return { emitted };
}
