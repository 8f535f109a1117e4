import { dbOf } from '../app-env.ts';
import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { closeDueEpochs } from '../rewards/close-epoch.ts';

/**
 * Every cron tick: progress the oldest epoch that has ended but is not closed, within this
 * invocation's D1 budget. A tick with nothing due costs one query.
 */
export async function closeEpochs(env: Env, nowMs: number) {
  const db = dbOf(env);
  try {
    return await closeDueEpochs(db, getConfig(env), { nowMs, alerts: env });
  } catch (error) {
    // The next tick resumes from the last committed step.
    console.error('epoch close failed', error);
    return null;
  }
}
