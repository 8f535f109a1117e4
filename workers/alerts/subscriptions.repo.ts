import type { AlertKind } from '../../db/schema/alerts.ts';
import { DEFAULT_PREFS, type ChatPrefs } from './alert-event.ts';
import { parseKinds } from './recipients.repo.ts';
import type { Db } from '../app-env.ts';

/** '*' follows every node of the account, including nodes registered later. */
export const ALL_NODES = '*';

export interface Subscription {
  scope: string;
  nodeName: string | null;
}

export async function subscribe(db: Db, chatId: string, accountId: string, scope: string, nowMs: number): Promise<void> {
  await db.$client
    .prepare(
      `INSERT INTO alert_subscriptions (chat_id, scope, account_id, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (chat_id, scope) DO UPDATE SET account_id = excluded.account_id`,
    )
    .bind(chatId, scope, accountId, nowMs)
    .run();
}

/** Removes one scope, or every subscription of the chat when scope is null. */
export async function unsubscribe(db: Db, chatId: string, scope: string | null): Promise<number> {
  const result = await db.$client
    .prepare('DELETE FROM alert_subscriptions WHERE chat_id = ?1 AND (?2 IS NULL OR scope = ?2)')
    .bind(chatId, scope)
    .run();
  return result.meta.changes ?? 0;
}

export async function subscriptionsOf(db: Db, chatId: string): Promise<Subscription[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT s.scope, n.name AS node_name FROM alert_subscriptions s LEFT JOIN nodes n ON n.id = s.scope
       WHERE s.chat_id = ? ORDER BY s.scope = '*' DESC, n.name`,
    )
    .bind(chatId)
    .all<{ scope: string; node_name: string | null }>();
  return results.map((r) => ({ scope: r.scope, nodeName: r.node_name }));
}

export async function prefsOf(db: Db, chatId: string): Promise<ChatPrefs> {
  const row = await db.$client
    .prepare('SELECT muted_kinds, quiet_start_min, quiet_end_min, time_zone FROM alert_prefs WHERE chat_id = ?')
    .bind(chatId)
    .first<{ muted_kinds: string; quiet_start_min: number | null; quiet_end_min: number | null; time_zone: string }>();
  if (!row) return DEFAULT_PREFS;
  return {
    mutedKinds: parseKinds(row.muted_kinds),
    quietStartMin: row.quiet_start_min,
    quietEndMin: row.quiet_end_min,
    timeZone: row.time_zone,
  };
}

export async function savePrefs(db: Db, chatId: string, prefs: ChatPrefs, nowMs: number): Promise<void> {
  await db.$client
    .prepare(
      `INSERT INTO alert_prefs (chat_id, muted_kinds, quiet_start_min, quiet_end_min, time_zone, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (chat_id) DO UPDATE SET muted_kinds = ?2, quiet_start_min = ?3, quiet_end_min = ?4, time_zone = ?5, updated_at = ?6`,
    )
    .bind(chatId, JSON.stringify(prefs.mutedKinds), prefs.quietStartMin, prefs.quietEndMin, prefs.timeZone, nowMs)
    .run();
}

export function withKindMuted(prefs: ChatPrefs, kind: AlertKind, muted: boolean): ChatPrefs {
  const set = new Set(prefs.mutedKinds);
  if (muted) set.add(kind);
  else set.delete(kind);
  return { ...prefs, mutedKinds: [...set].sort() };
}
