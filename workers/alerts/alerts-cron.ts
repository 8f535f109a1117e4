import { pruneTelegramState } from '../../bots/telegram/update-claims.ts';
import type { Env } from '../env.ts';
import { pumpNodeAlerts } from './node-event-pump.ts';

/**
 * Cron, after the shard sweep: node transitions become alerts, and the Telegram bot's update
 * claims and expired flows are pruned. Failures are logged, not thrown: each part resumes next
 * minute (the pump from its cursor).
 */
export async function runAlertsCron(env: Env, nowMs: number): Promise<void> {
  const [pump, prune] = await Promise.allSettled([pumpNodeAlerts(env, nowMs), pruneTelegramState(env.DB, nowMs)]);
  if (pump.status === 'rejected') console.error('node alert pump failed', pump.reason);
  if (prune.status === 'rejected') console.error('telegram state pruning failed', prune.reason);
}
