import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { governanceTick } from '../governance/governance-tick.ts';

/** Scheduled entry for governance; failures are logged so the other cron steps still run. */
export async function runGovernanceCron(env: Env, scheduledTime: number, ctx: ExecutionContext): Promise<void> {
  try {
    const db = drizzle(env.DB, { schema }) as Db;
    await governanceTick({ db, config: getConfig(env), env, defer: (p) => ctx.waitUntil(p) }, scheduledTime);
    // Interaction claims older than a day can go: a replay that old fails the timestamp check.
    await env.DB.prepare('DELETE FROM discord_interactions WHERE received_at < ?1').bind(scheduledTime - 86_400_000).run();
  } catch (error) {
    console.error('governance cron failed', error);
  }
}
