import { and, desc, eq, isNull, lt, ne, or } from 'drizzle-orm';
import { endpointReplicas, endpoints } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { TTFB_COLUMNS } from '../gateway/traffic-stats.ts';

export type EndpointRow = typeof endpoints.$inferSelect;
export type NewEndpoint = typeof endpoints.$inferInsert;

/** A live replica with its node's location (`replicaSetOf`). */
export interface ReplicaWithNode {
  id: string;
  nodeId: string;
  state: string;
  reason: string | null;
  generation: number;
  pricePerGpuHour: number;
  gpuCount: number;
  placedAt: number;
  readySince: number | null;
  billedAmount: number;
  lat: number | null;
  lon: number | null;
  country: string | null;
}

/** Sums of the gateway's endpoint_traffic rows over a window: requests, errors and the TTFB buckets in TTFB_COLUMNS order. */
export interface TrafficSums {
  requests: number;
  errors: number;
  buckets: number[];
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  return db.select().from(endpoints).where(eq(endpoints.id, id)).get();
}

export async function getEndpointByIdempotencyKey(db: Db, key: string): Promise<EndpointRow | undefined> {
  return db.select().from(endpoints).where(eq(endpoints.idempotencyKey, key)).get();
}

/** One page of an account's endpoints (deleted ones left out), newest first, keyset on (created_at, id). */
export async function endpointsOfAccount(
  db: Db,
  accountId: string,
  options: { before?: { createdAt: number; id: string }; limit: number },
): Promise<EndpointRow[]> {
  const b = options.before;
  return db
    .select()
    .from(endpoints)
    .where(
      and(
        eq(endpoints.accountId, accountId),
        ne(endpoints.status, 'deleted'),
        b ? or(lt(endpoints.createdAt, b.createdAt), and(eq(endpoints.createdAt, b.createdAt), lt(endpoints.id, b.id))) : undefined,
      ),
    )
    .orderBy(desc(endpoints.createdAt), desc(endpoints.id))
    .limit(options.limit)
    .all();
}

export async function replicasOf(db: Db, endpointId: string, includeStopped = false) {
  return db
    .select()
    .from(endpointReplicas)
    .where(and(eq(endpointReplicas.endpointId, endpointId), includeStopped ? undefined : isNull(endpointReplicas.stoppedAt)))
    .orderBy(endpointReplicas.placedAt, endpointReplicas.id)
    .all();
}

/**
 * Endpoints the cron looks after: active ones, and any other with a live replica, money left in its
 * hold, or a `rental_ended` alert still owed (`end_alert_due`, tend.ts).
 */
export async function endpointsToTend(db: Db, limit: number): Promise<EndpointRow[]> {
  const rows = await db.$client
    .prepare(
      `SELECT id FROM endpoints e WHERE e.status = 'active'
         OR EXISTS (SELECT 1 FROM endpoint_replicas r WHERE r.endpoint_id = e.id AND (r.stopped_at IS NULL OR r.billed_ms < r.receipt_ready_ms))
         OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = 'escrow:' || e.id AND a.balance > 0)
         OR e.end_alert_due IS NOT NULL
       ORDER BY e.updated_at LIMIT ?1`,
    )
    .bind(limit)
    .all<{ id: string }>();
  if (rows.results.length === 0) return [];
  const ids = rows.results.map((r) => r.id);
  const out: EndpointRow[] = [];
  for (const id of ids) {
    const row = await getEndpoint(db, id);
    if (row) out.push(row);
  }
  return out;
}

/** Endpoints of an account that are not deleted: what the per-account cap counts. */
export async function liveEndpointCount(db: Db, accountId: string): Promise<number> {
  const row = await db.$client
    .prepare("SELECT count(*) AS n FROM endpoints WHERE account_id = ?1 AND status <> 'deleted'")
    .bind(accountId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Live replicas with their node's location, for GET /v1/endpoints/{id}. */
export async function replicaSetOf(db: Db, endpointId: string): Promise<ReplicaWithNode[]> {
  const rows = await db.$client
    .prepare(
      `SELECT r.id, r.node_id AS nodeId, r.state, r.reason, r.generation, r.price_per_gpu_hour AS pricePerGpuHour, r.gpu_count AS gpuCount,
              r.placed_at AS placedAt, r.ready_since AS readySince, r.billed_amount AS billedAmount, n.lat, n.lon, n.country
       FROM endpoint_replicas r LEFT JOIN nodes n ON n.id = r.node_id
       WHERE r.endpoint_id = ?1 AND r.stopped_at IS NULL ORDER BY r.placed_at, r.id`,
    )
    .bind(endpointId)
    .all<ReplicaWithNode>();
  return rows.results;
}

/** The gateway's traffic rows of one endpoint from `sinceMs` on, summed over minutes and cells. */
export async function trafficSince(db: Db, endpointId: string, sinceMs: number): Promise<TrafficSums> {
  const row = await db.$client
    .prepare(
      `SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(errors), 0) AS errors,
              ${TTFB_COLUMNS.map((c) => `coalesce(sum(${c}), 0) AS ${c}`).join(', ')}
       FROM endpoint_traffic WHERE endpoint_id = ?1 AND minute >= ?2`,
    )
    .bind(endpointId, sinceMs)
    .first<Record<string, number>>();
  return { requests: row?.requests ?? 0, errors: row?.errors ?? 0, buckets: TTFB_COLUMNS.map((c) => row?.[c] ?? 0) };
}
