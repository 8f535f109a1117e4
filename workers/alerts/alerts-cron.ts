import { dbOf } from '../app-env.ts';
import type { Env } from '../env.ts';
import type { Ports } from '../ports.ts';
import { pumpNodeAlerts } from './node-event-pump.ts';
import { pumpRecordAlerts } from './record-pumps.ts';

/**
 * Cron, after the shard sweep: node transitions, applied slashes and paid payouts become alerts,
 * and the Telegram bot's update claims and expired flows are pruned (through the port the entry
 * point wires). Failures are logged, not thrown: each part resumes next minute (the pumps from
 * their cursors).
 */
export async function runAlertsCron(env: Env, nowMs: number, ports: Pick<Ports, 'pruneChatState'>): Promise<void> {
  const [pump, records, prune] = await Promise.allSettled([
    pumpNodeAlerts(env, nowMs),
    pumpRecordAlerts(env, nowMs),
    ports.pruneChatState(dbOf(env), nowMs),
  ]);
  if (pump.status === 'rejected') console.error('node alert pump failed', pump.reason);
  if (records.status === 'rejected') console.error('slash/payout alert pump failed', records.reason);
  if (prune.status === 'rejected') console.error('telegram state pruning failed', prune.reason);
}
