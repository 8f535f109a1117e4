import { alertEventSchema, type AlertEvent } from './alert-event.ts';

/**
 * What emitting needs: the Worker env's `ALERT_QUEUE` binding. Written structurally (the Env has
 * it) so worker code that emits also typechecks on the Node side, where the Workers types are not loaded.
 */
export interface AlertQueueEnv {
  ALERT_QUEUE: {
    send(body: unknown, options?: { contentType?: 'json' }): Promise<unknown>;
    sendBatch(messages: Iterable<{ body: unknown; contentType?: 'json' }>): Promise<unknown>;
  };
}

/**
 * The one call other features make: `await emitAlert(env, { eventId, kind, nodeId, at, data })`.
 * The queue delivers at least once; the consumer drops repeats of an event id, so emitters may
 * retry freely. Call it after the change it reports is committed.
 */
export async function emitAlert(env: AlertQueueEnv, event: AlertEvent): Promise<void> {
  await env.ALERT_QUEUE.send(alertEventSchema.parse(event), { contentType: 'json' });
}

/** Many at once (a sweep, an epoch's payouts): batches of 100, the queue's per-call limit. */
export async function emitAlerts(env: AlertQueueEnv, events: AlertEvent[]): Promise<void> {
  const parsed = events.map((e) => alertEventSchema.parse(e));
  for (let i = 0; i < parsed.length; i += 100) {
    await env.ALERT_QUEUE.sendBatch(parsed.slice(i, i + 100).map((body) => ({ body, contentType: 'json' as const })));
  }
}
