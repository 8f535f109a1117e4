import { dbOf } from '../app-env.ts';
import type { Env } from '../env.ts';
import { alertEventSchema, type ChatAlert, type ChatPrefs, type ParsedAlertEvent } from './alert-event.ts';
import { alertChatFor } from './alert-chat.do.ts';
import { nodeNames, recipientsOf } from './recipients.repo.ts';

/**
 * The queue consumer. Each event is recorded once in `alert_events` (its id is the key), its
 * recipients are found, and each chat's AlertChat object receives all of the batch's alerts for
 * it in one call. A message is acknowledged only when every chat it goes to holds it; otherwise
 * it is retried, and the objects ignore what they already have. Malformed messages are logged
 * and dropped: retrying cannot fix them.
 */
export async function handleAlertBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = dbOf(env);
  const d1 = db.$client;
  const now = Date.now();
  const work: { message: Message<unknown>; event: ParsedAlertEvent }[] = [];
  for (const message of batch.messages) {
    const parsed = alertEventSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error('malformed alert dropped', parsed.error.issues[0]?.message, JSON.stringify(message.body).slice(0, 200));
      message.ack();
      continue;
    }
    work.push({ message, event: parsed.data });
  }
  if (work.length === 0) return;

  const fresh = await recordEvents(
    d1,
    work.map((w) => w.event),
    now,
  );
  const names = await nodeNames(
    db,
    work.flatMap((w) => (w.event.nodeId ? [w.event.nodeId] : [])),
  );
  const perChat = new Map<string, { prefs: ChatPrefs; alerts: ChatAlert[]; messages: Set<Message<unknown>> }>();
  const counts = new Map<string, number>();
  for (const { message, event } of work) {
    if (!fresh.has(event.eventId)) {
      message.ack(); // already delivered to every recipient by an earlier run
      continue;
    }
    const recipients = await recipientsOf(db, event);
    let reached = 0;
    for (const r of recipients) {
      if (r.prefs.mutedKinds.includes(event.kind)) continue;
      const entry = perChat.get(r.chatId) ?? { prefs: r.prefs, alerts: [], messages: new Set() };
      entry.alerts.push({
        eventId: event.eventId,
        kind: event.kind,
        nodeId: event.nodeId ?? null,
        nodeName: event.nodeId ? (names.get(event.nodeId) ?? null) : null,
        at: event.at,
        data: event.data,
      });
      entry.messages.add(message);
      perChat.set(r.chatId, entry);
      reached++;
    }
    counts.set(event.eventId, reached);
  }

  const failed = new Set<Message<unknown>>();
  await Promise.all(
    [...perChat].map(async ([chatId, entry]) => {
      try {
        await alertChatFor(env, chatId).enqueue(chatId, entry.alerts, entry.prefs);
      } catch (error) {
        console.error(`alert hand-off to chat ${chatId} failed`, error);
        for (const m of entry.messages) failed.add(m);
      }
    }),
  );

  const done = work.filter((w) => fresh.has(w.event.eventId) && !failed.has(w.message));
  if (done.length > 0) {
    await d1
      .prepare(
        `UPDATE alert_events SET fanned_out_at = ?1, recipients = v.n
       FROM (SELECT value ->> 'id' AS id, value ->> 'n' AS n FROM json_each(?2)) AS v
       WHERE alert_events.event_id = v.id`,
      )
      .bind(now, JSON.stringify(done.map((w) => ({ id: w.event.eventId, n: counts.get(w.event.eventId) ?? 0 }))))
      .run();
  }
  for (const w of work) {
    if (!fresh.has(w.event.eventId)) continue;
    if (failed.has(w.message)) w.message.retry({ delaySeconds: Math.min(300, 2 ** Math.min(8, w.message.attempts)) });
    else w.message.ack();
  }
}

/** Inserts unseen events; returns the ids still to fan out (new, or seen but never finished). */
async function recordEvents(db: D1Database, events: ParsedAlertEvent[], now: number): Promise<Set<string>> {
  const rows = events.map((e) => ({
    id: e.eventId,
    kind: e.kind,
    nodeId: e.nodeId ?? null,
    accountId: e.accountId ?? null,
    at: e.at,
    data: JSON.stringify(e.data),
  }));
  const [, pending] = await db.batch<{ event_id: string }>([
    db
      .prepare(
        `INSERT INTO alert_events (event_id, kind, node_id, account_id, at, data, received_at)
         SELECT value ->> 'id', value ->> 'kind', value ->> 'nodeId', value ->> 'accountId', value ->> 'at', value ->> 'data', ?2
         FROM json_each(?1) WHERE true
         ON CONFLICT (event_id) DO NOTHING`,
      )
      .bind(JSON.stringify(rows), now),
    db
      .prepare("SELECT event_id FROM alert_events WHERE event_id IN (SELECT value ->> 'id' FROM json_each(?1)) AND fanned_out_at IS NULL")
      .bind(JSON.stringify(rows)),
  ]);
  return new Set(pending!.results.map((r) => r.event_id));
}
