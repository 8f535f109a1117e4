import type { ReplicaSpec } from '../../protocol/tunnel.ts';
import { tunnelFor } from '../tunnel/tunnel-stub.ts';
import type { EndpointsContext } from './endpoints-context.ts';

// A node's desired set: every live (not stopped) replica placed on it, of every endpoint. Sent
// whole to the node's tunnel object (workers/tunnel, helper T), which stores it and passes it to
// the agent on every (re)connect; the agent starts what is missing and stops the rest.

interface SpecRow {
  id: string;
  endpoint_id: string;
  image: string;
  command: string;
  env: string;
  port: number;
  health_path: string;
  path_prefix: string;
  gpu_count: number;
  model: string | null;
}

/**
 * Every replica gets its public base path, `/e/{endpointId}/`, in this env variable: an app that
 * builds links or WebSocket URLs (Jupyter's `base_url`) is configured with it. With the
 * endpoint's `pathPrefix: keep` it is also where the replica's paths begin; with `strip` the
 * replica serves at `/` and the name only says where callers find it. The renter cannot set it
 * (endpoint-input.schema.ts reserves `GRIDPLANE_` names and one of the env slots).
 */
export const BASE_PATH_ENV = 'GRIDPLANE_BASE_PATH';
export const basePathOf = (endpointId: string) => `/e/${endpointId}/`;

export async function desiredSetOf(ctx: EndpointsContext, nodeId: string): Promise<ReplicaSpec[]> {
  const rows = await ctx.db.$client
    .prepare(
      `SELECT r.id, r.endpoint_id, e.image, e.command, e.env, e.port, e.health_path, e.path_prefix, r.gpu_count,
         (SELECT c.model FROM gpu_commitments c WHERE c.job_id = r.id ORDER BY c.count DESC, c.model LIMIT 1) AS model
       FROM endpoint_replicas r JOIN endpoints e ON e.id = r.endpoint_id
       WHERE r.node_id = ?1 AND r.stopped_at IS NULL ORDER BY r.placed_at, r.id`,
    )
    .bind(nodeId)
    .all<SpecRow>();
  return rows.results.map((r) => ({
    replicaId: r.id,
    endpointId: r.endpoint_id,
    image: r.image,
    command: JSON.parse(r.command) as string[],
    env: { ...(JSON.parse(r.env) as Record<string, string>), [BASE_PATH_ENV]: basePathOf(r.endpoint_id) },
    port: r.port,
    // The health path is written as callers write paths (after /e/{id}); a replica that keeps the prefix serves it under its base path.
    healthPath: r.path_prefix === 'keep' ? basePathOf(r.endpoint_id) + r.health_path.slice(1) : r.health_path,
    gpus: { count: r.gpu_count, model: r.model },
  }));
}

/** A node's tunnel object that already exists (its node has replicas, so it was pushed to before). */
export function tunnelOf(ctx: EndpointsContext, nodeId: string) {
  return tunnelFor(ctx.env, nodeId);
}

/**
 * The node's tunnel object for a push. The cron may be the object's first caller (a desired set
 * pushed before the node ever connected), so it passes the node's registered location: the object
 * is created near the node, not next to the cron.
 */
async function tunnelNear(ctx: EndpointsContext, nodeId: string) {
  const at = await ctx.db.$client.prepare('SELECT lat, lon FROM nodes WHERE id = ?1').bind(nodeId).first<{ lat: number; lon: number }>();
  return tunnelFor(ctx.env, nodeId, at ?? undefined);
}

/** Pushes each node's whole desired set; a node whose push fails is retried by the next cron tick. */
export async function pushNodes(ctx: EndpointsContext, nodeIds: Iterable<string>): Promise<{ pushed: number; failed: number }> {
  let pushed = 0;
  let failed = 0;
  for (const nodeId of new Set(nodeIds)) {
    try {
      const stub = await tunnelNear(ctx, nodeId);
      await stub.setReplicas(await desiredSetOf(ctx, nodeId));
      pushed++;
    } catch (error) {
      failed++;
      console.error(`endpoints: desired set not pushed to node ${nodeId}`, error);
    }
  }
  return { pushed, failed };
}
