import { dbOf } from '../app-env.ts';
import type { Env } from '../env.ts';
import type { AlertEvent } from './alert-event.ts';
import { emitAlerts } from './emit-alert.ts';

const CURSOR = 'node_events';
const PAGE = 500;
const MAX_PAGES = 20;
/** On the very first run, transitions older than this are history, not news. */
const FIRST_RUN_LOOKBACK_MS = 10 * 60_000;

/**
 * Turns `node_events` (offline / online transitions, flushed by the shards within about a second)
 * into alerts. Runs on the cron after the sweep. Only events of nodes somebody follows are read.
 * The cursor moves after the queue has accepted the page, so a crash re-emits (and the consumer
 * drops the repeats by event id) rather than losing anything.
 */
export async function pumpNodeAlerts(env: Env, nowMs: number): Promise<{ emitted: number }> {
  const d1 = dbOf(env).$client;
  let cursor = await readCursor(d1, nowMs);
  let emitted = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    // The upper bound first: an event written while this page is read waits for the next run.
    const upper = (await d1.prepare('SELECT coalesce(max(id), 0) AS id FROM node_events').first<{ id: number }>())?.id ?? 0;
    if (upper <= cursor) break;
    const { results } = await d1
      .prepare(
        `SELECT e.id, e.node_id, e.kind, e.at, e.detail FROM node_events e
       WHERE e.id > ?1 AND e.id <= ?3 AND e.kind IN ('offline', 'online')
         AND (EXISTS (SELECT 1 FROM alert_subscriptions s WHERE s.scope = e.node_id)
              OR EXISTS (SELECT 1 FROM nodes n JOIN accounts a ON a.wallet = n.owner
                         JOIN alert_subscriptions s ON s.account_id = a.id AND s.scope = '*' WHERE n.id = e.node_id))
       ORDER BY e.id LIMIT ?2`,
      )
      .bind(cursor, PAGE, upper)
      .all<{ id: number; node_id: string; kind: 'offline' | 'online'; at: number; detail: string }>();
    const events: AlertEvent[] = results.map((r) => {
      const data = safeJson(r.detail);
      // The sweep notices a silent node up to a minute late; the operator wants when it stopped,
      // which is its last heartbeat (the shard records it with the transition).
      const stoppedAt = r.kind === 'offline' && typeof data.lastSeenAt === 'number' && data.lastSeenAt <= r.at ? data.lastSeenAt : r.at;
      return {
        eventId: `node_event:${r.id}`,
        kind: r.kind === 'offline' ? 'node_offline' : 'node_online',
        nodeId: r.node_id,
        at: stoppedAt,
        data,
      };
    });
    if (events.length > 0) await emitAlerts(env, events);
    emitted += events.length;
    // A full page stops at its last row; a short page has seen everything up to the bound.
    const next = results.length === PAGE ? results.at(-1)!.id : upper;
    if (next !== cursor) await writeCursor(d1, next, nowMs);
    cursor = next;
    if (results.length < PAGE) break;
  }
  return { emitted };
}

async function readCursor(db: D1Database, nowMs: number): Promise<number> {
  const row = await db.prepare('SELECT value FROM alert_cursors WHERE name = ?').bind(CURSOR).first<{ value: number }>();
  if (row) return row.value;
  const start = await db
    .prepare('SELECT coalesce(max(id), 0) AS id FROM node_events WHERE at < ?')
    .bind(nowMs - FIRST_RUN_LOOKBACK_MS)
    .first<{ id: number }>();
  return start?.id ?? 0;
}

async function writeCursor(db: D1Database, value: number, nowMs: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO alert_cursors (name, value, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (name) DO UPDATE SET value = max(value, ?2), updated_at = ?3`,
    )
    .bind(CURSOR, value, nowMs)
    .run();
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
