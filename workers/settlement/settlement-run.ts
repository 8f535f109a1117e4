import { dbOf } from '../app-env.ts';
import type { Env } from '../env.ts';
import { scanOutstandingReferences } from './deposit-scan.ts';
import { runPayouts } from './payout-run.ts';
import { loadSettlement } from './settlement-env.ts';

/**
 * One settlement pass: deposits first (credits make balances withdrawable), then payouts. Each
 * half fails on its own; a wrong cluster is logged as such and stops both, nothing recorded.
 * Idle (no open reference, no queued payout, no open batch) it makes no RPC call at all.
 */
export async function runSettlement(env: Env, scheduledTime: number): Promise<void> {
  const s = await loadSettlement(env);
  const db = dbOf(env);
  try {
    const deposits = await scanOutstandingReferences(db, s, scheduledTime, s.config.deposits.scanReferencesPerRun);
    if (deposits.scanned > 0) console.log('settlement: deposits', JSON.stringify(deposits));
  } catch (error) {
    console.error('settlement: deposit pass failed', error);
  }
  try {
    const payouts = await runPayouts(db, s, scheduledTime);
    if (payouts.stepped > 0 || payouts.batchesCreated > 0) console.log('settlement: payouts', JSON.stringify(payouts));
  } catch (error) {
    console.error('settlement: payout pass failed', error);
  }
}
