import type { Db } from '../../workers/app-env.ts';

/** Telegram stops re-sending an update long before this; older claims are pruned by the cron. */
export const UPDATE_CLAIM_TTL_MS = 24 * 3600_000;

/**
 * True for the first request that claims this update id, false for every repeat (Telegram
 * retries until it gets a 2xx, so the same update can arrive several times, even concurrently).
 */
export async function claimUpdate(db: Db, updateId: number, nowMs: number): Promise<boolean> {
  const row = await db.$client
    .prepare('INSERT INTO telegram_updates (update_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING 1 AS claimed')
    .bind(updateId, nowMs)
    .first<{ claimed: number }>();
  return row !== null;
}

/** Gives an update back when handling failed before any reply, so Telegram's retry is handled. */
export async function releaseUpdate(db: Db, updateId: number): Promise<void> {
  await db.$client.prepare('DELETE FROM telegram_updates WHERE update_id = ?').bind(updateId).run();
}

export async function pruneTelegramState(db: D1Database, nowMs: number): Promise<void> {
  await db.batch([
    db.prepare('DELETE FROM telegram_updates WHERE received_at < ?').bind(nowMs - UPDATE_CLAIM_TTL_MS),
    db.prepare('DELETE FROM telegram_flows WHERE expires_at < ?').bind(nowMs),
  ]);
}
