import { ALERT_KINDS, type AlertKind } from '../../db/schema/alerts.ts';
import { isRenterKind, privateChatId, type ChatPrefs, type ParsedAlertEvent } from './alert-event.ts';
import type { Db } from '../app-env.ts';

export interface Recipient {
  chatId: string;
  prefs: ChatPrefs;
}

/**
 * The chats an event reaches, with their preferences: subscribers of the node, "all my nodes"
 * subscriptions of the node's owner (nodes.owner is the owner's wallet), and every subscription
 * of the event's account. One statement; a chat appears once however many ways it matches.
 */
export async function recipientsOf(db: Db, event: ParsedAlertEvent): Promise<Recipient[]> {
  if (isRenterKind(event.kind)) return renterRecipients(db, event);
  const { results } = await db.$client
    .prepare(
      `SELECT s.chat_id, p.muted_kinds, p.quiet_start_min, p.quiet_end_min, p.time_zone
       FROM alert_subscriptions s LEFT JOIN alert_prefs p ON p.chat_id = s.chat_id
       WHERE s.scope = ?1
          OR (s.scope = '*' AND s.account_id IN (SELECT a.id FROM nodes n JOIN accounts a ON a.wallet = n.owner WHERE n.id = ?1))
          OR s.account_id = ?2
       GROUP BY s.chat_id`,
    )
    .bind(event.nodeId ?? null, event.accountId ?? null)
    .all<{
      chat_id: string;
      muted_kinds: string | null;
      quiet_start_min: number | null;
      quiet_end_min: number | null;
      time_zone: string | null;
    }>();
  return results.map(recipientOf);
}

type PrefsRow = {
  chat_id: string;
  muted_kinds: string | null;
  quiet_start_min: number | null;
  quiet_end_min: number | null;
  time_zone: string | null;
};

/**
 * A renter's own news goes to the private chat of every chat user linked to the account (and to
 * the one chat user an event names), each with that chat's preferences.
 */
async function renterRecipients(db: Db, event: ParsedAlertEvent): Promise<Recipient[]> {
  const { results: links } = await db.$client
    .prepare('SELECT platform, platform_user_id FROM account_links WHERE account_id = ?')
    .bind(event.accountId ?? null)
    .all<{ platform: 'telegram' | 'discord'; platform_user_id: string }>();
  const chats = new Set(links.map((l) => privateChatId(l.platform, l.platform_user_id)));
  if (event.chatUser) chats.add(privateChatId(event.chatUser.platform, event.chatUser.userId));
  if (chats.size === 0) return [];
  const { results } = await db.$client
    .prepare(
      `SELECT c.value AS chat_id, p.muted_kinds, p.quiet_start_min, p.quiet_end_min, p.time_zone
       FROM json_each(?) c LEFT JOIN alert_prefs p ON p.chat_id = c.value`,
    )
    .bind(JSON.stringify([...chats]))
    .all<PrefsRow>();
  return results.map(recipientOf);
}

function recipientOf(r: PrefsRow): Recipient {
  return {
    chatId: r.chat_id,
    prefs: {
      mutedKinds: parseKinds(r.muted_kinds),
      quietStartMin: r.quiet_start_min,
      quietEndMin: r.quiet_end_min,
      timeZone: r.time_zone ?? 'UTC',
    },
  };
}

export function parseKinds(json: string | null): AlertKind[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((k): k is AlertKind => (ALERT_KINDS as readonly unknown[]).includes(k)) : [];
  } catch {
    return [];
  }
}

/** Node names for the message text, in one statement. */
export async function nodeNames(db: Db, nodeIds: string[]): Promise<Map<string, string>> {
  if (nodeIds.length === 0) return new Map();
  const { results } = await db.$client
    .prepare('SELECT id, name FROM nodes WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify([...new Set(nodeIds)]))
    .all<{ id: string; name: string }>();
  return new Map(results.map((r) => [r.id, r.name]));
}
