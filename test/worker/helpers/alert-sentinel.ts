import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { alertChatFor, type ChatDeliveryStatus } from '../../../workers/alerts/alert-chat.do.ts';
import { emitAlert } from '../../../workers/alerts/emit-alert.ts';
import { eventually } from './telegram.ts';

let seq = 0;

/**
 * Returns once the alert pipeline is done with every alert emitted before the call, so a test
 * can then assert that something was NOT sent (a repeat, an alert that should not exist) on a
 * positive signal instead of after a sleep. It emits a sentinel alert to the same chat through
 * the same queue and waits until the chat's AlertChat has sent it. Nothing emitted earlier can
 * still be on its way then, because:
 * - the local queue (miniflare's broker) is first in, first out, and hands the consumer one batch
 *   at a time, the next only once the consumer has returned (while fewer than the consumer's
 *   max_batch_size, 50, wait: these tests emit a handful);
 * - the consumer (workers/alerts/alert-fanout.ts) returns only after each chat's AlertChat holds
 *   the batch's alerts for it, handed over in one call in batch order; a repeat it drops is
 *   dropped before then;
 * - the AlertChat sends its pending alerts oldest first, so what reached it before the sentinel
 *   went out in the sentinel's message or an earlier one. `pending` is 0 afterwards (checked).
 * The emitters the callers exercise all emit before they answer (a route, a Durable Object call,
 * the cron), so "emitted before the call" is "done before the call".
 *
 * The sentinel is a `job_failed` alert addressed to the chat's account, which reaches every chat
 * that account subscribed: "❌ Job <sentinelJobId> failed on your account at HH:MM UTC." It may
 * share a message with other alerts, so callers count the lines they care about.
 */
export async function alertsSettled(chatId: number): Promise<{ sentinelJobId: string; status: ChatDeliveryStatus }> {
  const sub = await env.DB.prepare('SELECT account_id FROM alert_subscriptions WHERE chat_id = ? LIMIT 1')
    .bind(String(chatId))
    .first<{ account_id: string }>();
  if (!sub) throw new Error(`chat ${chatId} has no alert subscription to send a sentinel through`);
  const sentinelJobId = `sentinel-${Date.now()}-${++seq}`;
  const eventId = `test:sentinel:${sentinelJobId}`;
  await emitAlert(env, { eventId, kind: 'job_failed', accountId: sub.account_id, at: Date.now(), data: { jobId: sentinelJobId } });
  const chat = alertChatFor(env, String(chatId));
  await eventually(async () => {
    const state = await runInDurableObject(
      chat,
      (_, ctx) => ctx.storage.sql.exec<{ state: string }>('SELECT state FROM alerts WHERE event_id = ?', eventId).toArray()[0]?.state,
    );
    expect(state, 'the sentinel alert was sent').toBe('sent');
  });
  const status = await chat.status();
  expect(status.pending, 'alerts still pending after the sentinel went out').toBe(0);
  return { sentinelJobId, status };
}
