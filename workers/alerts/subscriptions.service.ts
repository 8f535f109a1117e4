import type { Db } from '../app-env.ts';
import type { Env } from '../env.ts';
import { ownedNode, ownedNodeCount, type OwnedNode } from '../nodes/nodes.service.ts';
import type { ChatPrefs } from './alert-event.ts';
import { alertChatFor } from './alert-chat.do.ts';
import {
  ALL_NODES,
  prefsOf,
  savePrefs,
  subscribe,
  subscriptionsOf,
  unsubscribe,
  withKindMuted,
  type Subscription,
} from './subscriptions.repo.ts';

// What a chat may do with its alerts (Telegram's /alerts): follow the account's nodes, stop, and
// choose what it hears and when. Operators follow only nodes their linked wallet owns.

export { ALL_NODES, withKindMuted, type Subscription };

export async function chatAlertSettings(db: Db, chatId: string): Promise<{ subscriptions: Subscription[]; prefs: ChatPrefs }> {
  const [subscriptions, prefs] = await Promise.all([subscriptionsOf(db, chatId), prefsOf(db, chatId)]);
  return { subscriptions, prefs };
}

export function chatPrefs(db: Db, chatId: string): Promise<ChatPrefs> {
  return prefsOf(db, chatId);
}

/**
 * Follows one node the account owns (by id or name), or with no `nodeRef` all of its nodes,
 * including those it registers later. `{ node: null }` when it owns no node by that name.
 */
export async function followNodes(
  db: Db,
  chatId: string,
  accountId: string,
  nodeRef: string | null,
  nowMs: number,
): Promise<{ node: OwnedNode | null; ownedCount?: number }> {
  if (nodeRef) {
    const node = await ownedNode(db, accountId, nodeRef);
    if (node) await subscribe(db, chatId, accountId, node.id, nowMs);
    return { node };
  }
  await subscribe(db, chatId, accountId, ALL_NODES, nowMs);
  return { node: null, ownedCount: await ownedNodeCount(db, accountId) };
}

/**
 * Stops following one owned node, or with no `nodeRef` everything the chat follows. `found` is
 * false (and nothing changes) when the account owns no node by that name.
 */
export async function unfollowNodes(
  db: Db,
  chatId: string,
  accountId: string,
  nodeRef: string | null,
): Promise<{ found: boolean; node: OwnedNode | null; removed: number }> {
  const node = nodeRef ? await ownedNode(db, accountId, nodeRef) : null;
  if (nodeRef && !node) return { found: false, node: null, removed: 0 };
  return { found: true, node, removed: await unsubscribe(db, chatId, node ? node.id : null) };
}

/** D1 is the record; the chat's delivery object is told at once, so waiting alerts follow too. */
export async function setChatPrefs(db: Db, env: Env, chatId: string, prefs: ChatPrefs, nowMs: number): Promise<void> {
  await savePrefs(db, chatId, prefs, nowMs);
  await alertChatFor(env, chatId).setPrefs(chatId, prefs);
}
