import { canonicalGpuModel } from '../../protocol/gpu-catalog.ts';
import { dbOf } from '../app-env.ts';
import type { Env } from '../env.ts';
import type { AlertEvent } from './alert-event.ts';
import { emitAlerts } from './emit-alert.ts';

// The renter's side of a job, read from what the jobs domain already records: its start and its
// end from `job_transitions` (written by the status trigger in the same batch as the change and
// its settlement, so the amounts are final when the row is), and "ending soon" from the running
// jobs' own end times. Only accounts someone linked a chat to are read: API-only renters have no
// chat to tell. Each event id names the happening, so a re-run or a crash between emit and
// cursor write alerts once (the consumer drops repeats).

const CURSOR = 'job_transitions';
const PAGE = 500;
const MAX_PAGES = 10;
const FIRST_RUN_LOOKBACK_MS = 10 * 60_000;
/** The "ends soon" notice comes this long before the end, or a third of the rental if that is shorter. */
export const ENDING_NOTICE_MS = 10 * 60_000;

export async function pumpRenterAlerts(env: Env, nowMs: number): Promise<{ emitted: number }> {
  const transitions = await pumpJobTransitions(env, nowMs);
  const ending = await emitEndingSoon(env, nowMs);
  const rentals = await emitRentalsEnding(env, nowMs);
  return { emitted: transitions + ending + rentals };
}

interface TransitionRow {
  id: number;
  job_id: string;
  to_status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';
  reason: string;
  node_id: string | null;
  at: number;
  account_id: string;
  gpu_count: number;
  allocation: string | null;
  started_at: number | null;
  duration_s: number;
  captured: number | null;
  refunded: number | null;
  billed_gpu_seconds: number | null;
  exit_code: number | null;
}

async function pumpJobTransitions(env: Env, nowMs: number): Promise<number> {
  const d1 = dbOf(env).$client;
  let cursor = await readCursor(d1, nowMs);
  let emitted = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    // The upper bound first: a row written while this page is read waits for the next run.
    const upper = (await d1.prepare('SELECT coalesce(max(id), 0) AS id FROM job_transitions').first<{ id: number }>())?.id ?? 0;
    if (upper <= cursor) break;
    const { results } = await d1
      .prepare(
        `SELECT t.id, t.job_id, t.to_status, t.reason, t.node_id, t.at, j.account_id, j.gpu_count, j.allocation, j.started_at,
              j.duration_s, j.captured, j.refunded, j.billed_gpu_seconds, j.exit_code
       FROM job_transitions t JOIN jobs j ON j.id = t.job_id
       WHERE t.id > ?1 AND t.id <= ?3 AND t.to_status IN ('running', 'succeeded', 'failed', 'cancelled', 'expired')
         AND EXISTS (SELECT 1 FROM account_links l WHERE l.account_id = j.account_id)
       ORDER BY t.id LIMIT ?2`,
      )
      .bind(cursor, PAGE, upper)
      .all<TransitionRow>();
    const events = results.map(eventOf);
    if (events.length > 0) await emitAlerts(env, events);
    emitted += events.length;
    const next = results.length === PAGE ? results.at(-1)!.id : upper;
    if (next !== cursor) await writeCursor(d1, next, nowMs);
    cursor = next;
    if (results.length < PAGE) break;
  }
  return emitted;
}

function eventOf(r: TransitionRow): AlertEvent {
  const base = { accountId: r.account_id, at: r.at, ...(r.node_id ? { nodeId: r.node_id } : {}) };
  if (r.to_status === 'running') {
    const startedAt = r.started_at ?? r.at;
    return {
      ...base,
      eventId: `job_started:${r.job_id}`,
      kind: 'job_started',
      data: { jobId: r.job_id, gpus: gpusText(r), endsAt: startedAt + r.duration_s * 1000 },
    };
  }
  return {
    ...base,
    eventId: `job_finished:${r.job_id}`,
    kind: 'job_finished',
    data: {
      jobId: r.job_id,
      status: r.to_status,
      reason: r.reason,
      charged: r.captured ?? 0,
      refunded: r.refunded ?? 0,
      ...(r.exit_code !== null ? { exitCode: r.exit_code } : {}),
      ...(r.billed_gpu_seconds ? { ranS: Math.round(r.billed_gpu_seconds / Math.max(1, r.gpu_count)) } : {}),
    },
  };
}

/** "2× RTX 4090" from the allocation (`[[model, count], …]`), or the count alone. */
function gpusText(r: Pick<TransitionRow, 'allocation' | 'gpu_count'>): string {
  try {
    const groups = JSON.parse(r.allocation ?? '[]') as [string, number][];
    // The node reports its own model string ("NVIDIA GeForce RTX 4090"); the renter picked the catalogue's name.
    if (groups.length > 0) return groups.map(([model, count]) => `${count}× ${canonicalGpuModel(model)?.name ?? model}`).join(' + ');
  } catch {
    // fall through to the count
  }
  return `${r.gpu_count} GPU${r.gpu_count === 1 ? '' : 's'}`;
}

/** When the "ends soon" notice is due for a rental of this length ending at `endsAt`. */
export function endingNoticeAt(endsAt: number, durationS: number): number {
  return endsAt - Math.min(ENDING_NOTICE_MS, Math.floor((durationS * 1000) / 3));
}

/**
 * Running jobs of linked accounts whose notice is due and whose end has not passed. Stateless:
 * every run in the window emits the same event id (the end time is in it), the consumer keeps one.
 */
async function emitEndingSoon(env: Env, nowMs: number): Promise<number> {
  const d1 = dbOf(env).$client;
  const { results } = await d1
    .prepare(
      `SELECT j.id, j.account_id, j.node_id, j.started_at, j.duration_s FROM jobs j
     WHERE j.status = 'running' AND j.started_at IS NOT NULL
       AND j.started_at + j.duration_s * 1000 > ?1 AND j.started_at + j.duration_s * 1000 - ?2 <= ?1
       AND EXISTS (SELECT 1 FROM account_links l WHERE l.account_id = j.account_id)
     LIMIT 1000`,
    )
    .bind(nowMs, ENDING_NOTICE_MS)
    .all<{ id: string; account_id: string; node_id: string | null; started_at: number; duration_s: number }>();
  const events: AlertEvent[] = results.flatMap((j) => {
    const endsAt = j.started_at + j.duration_s * 1000;
    if (endingNoticeAt(endsAt, j.duration_s) > nowMs) return [];
    return [
      {
        eventId: `job_ending:${j.id}:${endsAt}`,
        kind: 'job_ending' as const,
        accountId: j.account_id,
        ...(j.node_id ? { nodeId: j.node_id } : {}),
        at: nowMs,
        data: { jobId: j.id, endsAt },
      },
    ];
  });
  if (events.length > 0) await emitAlerts(env, events);
  return events.length;
}

/**
 * Template rentals (endpoints with `stop_at`, workers/templates) of linked accounts whose notice is
 * due, by the jobs' rule (the rental's length is from its creation to its end). Stateless as above:
 * the event id names the end, so an extension (a later `stop_at`) gets its own notice in time.
 */
async function emitRentalsEnding(env: Env, nowMs: number): Promise<number> {
  const d1 = dbOf(env).$client;
  const { results } = await d1
    .prepare(
      `SELECT e.id, e.account_id, e.name, e.created_at, e.stop_at,
              (SELECT coalesce(sum(r.billed_amount), 0) FROM endpoint_replicas r WHERE r.endpoint_id = e.id) AS cost
       FROM endpoints e
       WHERE e.status = 'active' AND e.stop_at IS NOT NULL AND e.stop_at > ?1 AND e.stop_at - ?2 <= ?1
         AND EXISTS (SELECT 1 FROM account_links l WHERE l.account_id = e.account_id)
       LIMIT 1000`,
    )
    .bind(nowMs, ENDING_NOTICE_MS)
    .all<{ id: string; account_id: string; name: string; created_at: number; stop_at: number; cost: number }>();
  const events: AlertEvent[] = results.flatMap((e) => {
    if (endingNoticeAt(e.stop_at, Math.floor((e.stop_at - e.created_at) / 1000)) > nowMs) return [];
    return [
      {
        eventId: `rental_ending:${e.id}:${e.stop_at}`,
        kind: 'rental_ending' as const,
        accountId: e.account_id,
        at: nowMs,
        data: { endpointId: e.id, name: e.name, endsAt: e.stop_at, cost: String(e.cost) },
      },
    ];
  });
  if (events.length > 0) await emitAlerts(env, events);
  return events.length;
}

async function readCursor(db: D1Database, nowMs: number): Promise<number> {
  const row = await db.prepare('SELECT value FROM alert_cursors WHERE name = ?').bind(CURSOR).first<{ value: number }>();
  if (row) return row.value;
  const start = await db
    .prepare('SELECT coalesce(max(id), 0) AS id FROM job_transitions WHERE at < ?')
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
