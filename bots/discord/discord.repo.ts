// The Discord bot's own table, and the only code that touches it: `discord_interactions`, one
// claim per interaction id, so a replayed interaction is refused. Domain data is never read
// here: the bot reaches it through ctx.ops (bots/core/bot-ops.ts).
import type { Db } from '../../workers/app-env.ts';

/** A replay older than this fails Discord's signature timestamp check anyway (5 minutes). */
export const INTERACTION_CLAIM_TTL_MS = 24 * 3600_000;

/** True for the first request that claims this interaction id, false for a replay. */
export async function claimInteraction(db: Db, interactionId: string, nowMs: number): Promise<boolean> {
  const claim = await db.$client
    .prepare('INSERT INTO discord_interactions (id, received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING')
    .bind(interactionId, nowMs)
    .run();
  return claim.meta.changes === 1;
}

/** Claims older than a day go (the minute cron, through the chat-state port: bots/ports.ts). */
export async function pruneDiscordState(db: Db, nowMs: number): Promise<void> {
  await db.$client
    .prepare('DELETE FROM discord_interactions WHERE received_at < ?1')
    .bind(nowMs - INTERACTION_CLAIM_TTL_MS)
    .run();
}
