import { eq } from 'drizzle-orm';
import { endpoints } from '../../db/schema.ts';
import type { Env } from '../env.ts';
import { endpointsContext } from './endpoints-context.ts';
import { topUpHold } from './endpoint-hold.ts';
import { placeReplicas } from './endpoint-placement.ts';
import { getEndpoint } from './endpoints.repo.ts';
import { pushNodes } from './node-replicas.ts';
import { burnPerHour, costOfSeconds } from './replica-billing.ts';

export type WakeResult =
  | { placed: string[]; reason: 'placed' | 'running' }
  | { placed: []; reason: 'not_found' | 'not_active' | 'insufficient_funds' | 'no_capacity' };

/**
 * Scale from zero (the gateway's first request to an endpoint without a replica): marks the
 * endpoint active now (so the scaler keeps a replica for its idle time), and places one replica
 * at once if none is live, after topping up the hold for it (nothing starts unpaid), then pushes
 * the node's desired set. Racing wakes may each place one; the cron stops the surplus.
 */
export async function wakeEndpoint(env: Env, endpointId: string, nowMs: number): Promise<WakeResult> {
  const ctx = endpointsContext(env);
  const endpoint = await getEndpoint(ctx.db, endpointId);
  if (!endpoint) return { placed: [], reason: 'not_found' };
  if (endpoint.status !== 'active') return { placed: [], reason: 'not_active' };
  await ctx.db
    .update(endpoints)
    .set({ lastActiveAt: nowMs, desiredReplicas: Math.max(1, endpoint.desiredReplicas) })
    .where(eq(endpoints.id, endpointId))
    .run();
  const liveRows = await ctx.db.$client
    .prepare(
      "SELECT id, price_per_gpu_hour AS pricePerGpuHour, gpu_count AS gpuCount FROM endpoint_replicas WHERE endpoint_id = ?1 AND stopped_at IS NULL AND state <> 'failed'",
    )
    .bind(endpointId)
    .all<{ id: string; pricePerGpuHour: number; gpuCount: number }>();
  if (liveRows.results.length > 0) return { placed: [], reason: 'running' };
  const perHour = burnPerHour(liveRows.results) + BigInt(endpoint.maxPricePerGpuHour) * BigInt(endpoint.gpuCount);
  const hold = await topUpHold(ctx, endpoint, perHour, nowMs);
  if (hold.hold < costOfSeconds(perHour, ctx.config.ENDPOINT_STOP_MARGIN_S)) return { placed: [], reason: 'insufficient_funds' };
  const placed = await placeReplicas(ctx, endpoint, 1, nowMs);
  if (placed.length === 0) return { placed: [], reason: 'no_capacity' };
  await pushNodes(
    ctx,
    placed.map((p) => p.nodeId),
  );
  return { placed: placed.map((p) => p.id), reason: 'placed' };
}
