import type { ReplicaSpec } from '../../protocol/tunnel.ts';
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
  gpu_count: number;
  model: string | null;
}

export async function desiredSetOf(ctx: EndpointsContext, nodeId: string): Promise<ReplicaSpec[]> {
  const rows = await ctx.db.$client
    .prepare(
      `SELECT r.id, r.endpoint_id, e.image, e.command, e.env, e.port, e.health_path, r.gpu_count,
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
    env: JSON.parse(r.env) as Record<string, string>,
    port: r.port,
    healthPath: r.health_path,
    gpus: { count: r.gpu_count, model: r.model },
  }));
}

/** What the tunnel object offers the control plane (helper T's NodeTunnel DO RPC). */
export interface NodeTunnelStub {
  setReplicas(specs: ReplicaSpec[]): Promise<unknown>;
  load(): Promise<{ connected: boolean; replicas: Record<string, { inflight: number; started: number; completed: number; failed: number }> } | unknown>;
}

interface TunnelNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): NodeTunnelStub;
}

/**
 * The one place that reaches a node's tunnel object. Until the NODE_TUNNEL binding exists (helper
 * T's piece), it returns null and callers carry on: the desired set stays in D1 and is pushed on
 * the next change or cron tick.
 */
export function tunnelOf(ctx: EndpointsContext, nodeId: string): NodeTunnelStub | null {
  const ns = (ctx.env as unknown as { NODE_TUNNEL?: TunnelNamespace }).NODE_TUNNEL;
  return ns ? ns.get(ns.idFromName(nodeId)) : null;
}

/** Pushes each node's whole desired set; a node whose push fails is retried by the next cron tick. */
export async function pushNodes(ctx: EndpointsContext, nodeIds: Iterable<string>): Promise<{ pushed: number; failed: number }> {
  let pushed = 0;
  let failed = 0;
  for (const nodeId of new Set(nodeIds)) {
    const stub = tunnelOf(ctx, nodeId);
    if (!stub) continue;
    try {
      await stub.setReplicas(await desiredSetOf(ctx, nodeId));
      pushed++;
    } catch (error) {
      failed++;
      console.error(`endpoints: desired set not pushed to node ${nodeId}`, error);
    }
  }
  return { pushed, failed };
}
