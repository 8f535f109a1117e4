import { and, desc, eq, isNull, lt, ne, or } from 'drizzle-orm';
import { endpointReplicas, endpoints } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

export type EndpointRow = typeof endpoints.$inferSelect;
export type NewEndpoint = typeof endpoints.$inferInsert;

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  return db.select().from(endpoints).where(eq(endpoints.id, id)).get();
}

export async function getEndpointByIdempotencyKey(db: Db, key: string): Promise<EndpointRow | undefined> {
  return db.select().from(endpoints).where(eq(endpoints.idempotencyKey, key)).get();
}

/** One page of an account's endpoints (deleted ones left out), newest first, keyset on (created_at, id). */
export async function endpointsOfAccount(db: Db, accountId: string, options: { before?: { createdAt: number; id: string }; limit: number }): Promise<EndpointRow[]> {
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

/** Endpoints the cron looks after: active ones, and any other with a live replica or money left in its hold. */
export async function endpointsToTend(db: Db, limit: number): Promise<EndpointRow[]> {
  const rows = await db.$client
    .prepare(
      `SELECT id FROM endpoints e WHERE e.status = 'active'
         OR EXISTS (SELECT 1 FROM endpoint_replicas r WHERE r.endpoint_id = e.id AND (r.stopped_at IS NULL OR r.billed_ms < r.receipt_ready_ms))
         OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = 'escrow:' || e.id AND a.balance > 0)
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
