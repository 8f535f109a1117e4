import type { Db } from '../app-env.ts';
import { parseProbes } from '../routing/quote-rank.ts';
import type { ProbeSample } from '../routing/rtt-model.ts';
import type { EndpointPathPrefix, EndpointStatus, ReplicaRowState } from '../../db/schema.ts';

// The gateway's view of one endpoint (helper G caches it in the isolate for ~2 s): who owns it,
// whether callers need a key and which key hashes are live, and where its live replicas run.
// One D1 batch (one snapshot): the endpoint, its live keys, its live replicas with their nodes.
// Node locations and probes are exactly what the quote's RTT model reads (workers/routing/rtt-model.ts:
// `profileNode({ lat, lon, probes }, index)` with probe points from `probePointMap`).

export interface RoutingReplica {
  replicaId: string;
  nodeId: string;
  state: ReplicaRowState;
  generation: number;
  /** The node's status in the registry: an `offline` node's replicas are not routable whatever they said. */
  nodeOnline: boolean;
  lat: number;
  lon: number;
  probes: ProbeSample[];
}

export interface RoutingEntry {
  endpointId: string;
  accountId: string;
  public: boolean;
  /** `keep`: the replica gets the full `/e/{id}/…` path; `strip`: the path after it. */
  pathPrefix: EndpointPathPrefix;
  status: EndpointStatus;
  generation: number;
  /** SHA-256 hex of each live (not revoked) endpoint key (`hashEndpointKey` in endpoint-keys.ts). */
  keyHashes: string[];
  /** Live replicas (not stopped), every state: the gateway routes to `ready` ones on online nodes. */
  replicas: RoutingReplica[];
}

interface EndpointRow {
  id: string;
  account_id: string;
  public: number;
  path_prefix: EndpointPathPrefix;
  status: EndpointStatus;
  generation: number;
}

interface ReplicaJoinRow {
  id: string;
  node_id: string;
  state: ReplicaRowState;
  generation: number;
  node_status: string | null;
  lat: number | null;
  lon: number | null;
  probes: string | null;
}

/** The routing entry, or null when there is no such endpoint. Deleted endpoints come back with `status: 'deleted'` and no replicas. */
export async function routingEntry(db: Db, endpointId: string): Promise<RoutingEntry | null> {
  const d1 = db.$client;
  const [endpoint, keys, replicas] = await d1.batch<unknown>([
    d1.prepare('SELECT id, account_id, public, path_prefix, status, generation FROM endpoints WHERE id = ?1').bind(endpointId),
    d1.prepare('SELECT hash FROM endpoint_keys WHERE endpoint_id = ?1 AND revoked_at IS NULL').bind(endpointId),
    d1
      .prepare(
        `SELECT r.id, r.node_id, r.state, r.generation, n.status AS node_status, n.lat, n.lon, n.probes
         FROM endpoint_replicas AS r LEFT JOIN nodes AS n ON n.id = r.node_id
         WHERE r.endpoint_id = ?1 AND r.stopped_at IS NULL ORDER BY r.placed_at, r.id`,
      )
      .bind(endpointId),
  ]);
  const row = endpoint!.results[0] as EndpointRow | undefined;
  if (!row) return null;
  return {
    endpointId: row.id,
    accountId: row.account_id,
    public: row.public === 1,
    pathPrefix: row.path_prefix,
    status: row.status,
    generation: row.generation,
    keyHashes: (keys!.results as { hash: string }[]).map((k) => k.hash),
    replicas: (replicas!.results as ReplicaJoinRow[])
      .filter((r) => r.lat !== null && r.lon !== null)
      .map((r) => ({
        replicaId: r.id,
        nodeId: r.node_id,
        state: r.state,
        generation: r.generation,
        nodeOnline: r.node_status === 'online',
        lat: r.lat!,
        lon: r.lon!,
        probes: parseProbes(r.probes ?? '[]'),
      })),
  };
}
