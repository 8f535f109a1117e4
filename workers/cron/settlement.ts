import type { Env } from '../env.ts';
import { missingSettlementNames } from '../settlement/settlement-env.ts';
import { runSettlement } from '../settlement/settlement-run.ts';

/**
 * Scheduled entry for Solana settlement (workers/settlement/README.md). Without its
 * configuration the step is skipped with one log line, so a deployment without a treasury still
 * runs every other cron step; a failure is logged so the steps after it still run.
 */
export async function runSettlementCron(env: Env, scheduledTime: number): Promise<void> {
  const missing = missingSettlementNames(env);
  if (missing.length > 0) {
    console.log(`settlement: skipped, ${missing.join(', ')} not set`);
    return;
  }
  try {
    await runSettlement(env, scheduledTime);
  } catch (error) {
    console.error('settlement cron failed', error);
  }
}
