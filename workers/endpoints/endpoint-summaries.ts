import { TTFB_COLUMNS } from '../gateway/traffic-stats.ts';
import type { Db } from '../app-env.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import { endpointsOfAccount, getEndpointByIdempotencyKey, type EndpointRow } from './endpoints.repo.ts';

export type { EndpointRow };
import { endpointDetails, TRAFFIC_VIEW_MINUTES } from './endpoints.service.ts';
import { trafficView } from './endpoint-view.ts';

// What the chats and the explorer show of endpoints (issue 12): a renter's endpoints with their
// replicas (where, ready or not), traffic and cost so far; the replicas a node serves, for its
// operator; the network's endpoints and their traffic. Built on the service GET /v1/endpoints/{id}
// uses (endpointDetails, trafficView), plus the few reads it has no need for (node names, the
// cost of replicas already stopped, per-node and network-wide lists).

/** The chats list this many of an account's endpoints, newest first. */
export const CHAT_ENDPOINTS_LIMIT = 10;

export interface ReplicaPlace {
  id: string;
  nodeId: string;
  nodeName: string | null;
  country: string | null;
  lat: number | null;
  lon: number | null;
  state: string;
  ready: boolean;
}

export interface EndpointSummary {
  endpoint: EndpointRow;
  replicas: ReplicaPlace[];
  traffic: ReturnType<typeof trafficView>;
  /** Base units billed so far over all its replicas, stopped ones included. */
  cost: bigint;
}

export async function accountEndpointSummaries(ctx: EndpointsContext, accountId: string, nowMs: number): Promise<EndpointSummary[]> {
  const rows = await endpointsOfAccount(ctx.db, accountId, { limit: CHAT_ENDPOINTS_LIMIT });
  return Promise.all(rows.map((e) => endpointSummary(ctx, e, nowMs)));
}

export async function endpointSummary(ctx: EndpointsContext, endpoint: EndpointRow, nowMs: number): Promise<EndpointSummary> {
  const [details, cost] = await Promise.all([endpointDetails(ctx, endpoint, nowMs), endpointCost(ctx.db, endpoint.id)]);
  const names = await nodeNames(
    ctx.db,
    details.replicas.map((r) => r.nodeId),
  );
  return {
    endpoint,
    replicas: details.replicas.map((r) => ({
      id: r.id,
      nodeId: r.nodeId,
      nodeName: names.get(r.nodeId) ?? null,
      country: r.country,
      lat: r.lat,
      lon: r.lon,
      state: r.state,
      ready: r.state === 'ready',
    })),
    traffic: trafficView(details.traffic, TRAFFIC_VIEW_MINUTES),
    cost,
  };
}

/** The endpoint a create with this `<account>:<key>` made (a chat rental's quote key), if any. */
export const endpointByKey = (db: Db, key: string): Promise<EndpointRow | undefined> => getEndpointByIdempotencyKey(db, key);

export async function endpointCost(db: Db, endpointId: string): Promise<bigint> {
  const row = await db.$client
    .prepare('SELECT coalesce(sum(billed_amount), 0) AS n FROM endpoint_replicas WHERE endpoint_id = ?1')
    .bind(endpointId)
    .first<{ n: number }>();
  return BigInt(row?.n ?? 0);
}

async function nodeNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$client
    .prepare('SELECT id, name FROM nodes WHERE id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify([...new Set(ids)]))
    .all<{ id: string; name: string }>();
  return new Map(rows.results.map((r) => [r.id, r.name]));
}

/** A replica a node serves, as its operator sees it (the renter's endpoint by name only). */
export interface ServedReplica {
  id: string;
  endpointId: string;
  endpointName: string;
  state: string;
  gpuCount: number;
  pricePerGpuHour: number;
  readySince: number | null;
  /** Billed for this replica so far, the protocol fee included. */
  billed: number;
  fee: number;
}

/** Replicas a node serves now (not stopped), oldest first. At most 50: a node holds a few. */
export async function replicasServedBy(db: Db, nodeId: string): Promise<ServedReplica[]> {
  const rows = await db.$client
    .prepare(
      `SELECT r.id, r.endpoint_id AS endpointId, e.name AS endpointName, r.state, r.gpu_count AS gpuCount, r.price_per_gpu_hour AS pricePerGpuHour,
              r.ready_since AS readySince, r.billed_amount AS billed, r.billed_fee AS fee
       FROM endpoint_replicas r JOIN endpoints e ON e.id = r.endpoint_id
       WHERE r.node_id = ?1 AND r.stopped_at IS NULL ORDER BY r.placed_at, r.id LIMIT 50`,
    )
    .bind(nodeId)
    .all<ServedReplica>();
  return rows.results;
}

/** One endpoint in the explorer: no owner, no name (those are the renter's), where and how busy. */
export interface NetworkEndpoint {
  id: string;
  status: string;
  replicas: number;
  ready: number;
  countries: string[];
  requests: number;
  requestsPerMinute: number;
  errors: number;
  medianTtfbMs: number | null;
}

export interface NetworkEndpoints {
  windowMinutes: number;
  active: number;
  replicasReady: number;
  requests: number;
  /** The busiest endpoints of the window (then the newest), at most `limit`. */
  top: NetworkEndpoint[];
}

/** The explorer's endpoints panel: three reads whatever the number of endpoints. */
export async function networkEndpoints(db: Db, nowMs: number, limit = 10): Promise<NetworkEndpoints> {
  const since = nowMs - (nowMs % 60_000) - (TRAFFIC_VIEW_MINUTES - 1) * 60_000;
  const sums = TTFB_COLUMNS.map((c) => `coalesce(sum(t.${c}), 0) AS ${c}`).join(', ');
  const [totals, top] = await db.$client.batch([
    db.$client
      .prepare(
        `SELECT (SELECT count(*) FROM endpoints WHERE status = 'active') AS active,
              (SELECT count(*) FROM endpoint_replicas WHERE stopped_at IS NULL AND state = 'ready') AS ready,
              (SELECT coalesce(sum(requests), 0) FROM endpoint_traffic WHERE minute >= ?1) AS requests`,
      )
      .bind(since),
    db.$client
      .prepare(
        `SELECT e.id, e.status,
              (SELECT count(*) FROM endpoint_replicas r WHERE r.endpoint_id = e.id AND r.stopped_at IS NULL) AS replicas,
              (SELECT count(*) FROM endpoint_replicas r WHERE r.endpoint_id = e.id AND r.stopped_at IS NULL AND r.state = 'ready') AS ready,
              (SELECT group_concat(DISTINCT n.country) FROM endpoint_replicas r JOIN nodes n ON n.id = r.node_id WHERE r.endpoint_id = e.id AND r.stopped_at IS NULL) AS countries,
              coalesce(sum(t.requests), 0) AS requests, coalesce(sum(t.errors), 0) AS errors, ${sums}
       FROM endpoints e LEFT JOIN endpoint_traffic t ON t.endpoint_id = e.id AND t.minute >= ?1
       WHERE e.status = 'active' GROUP BY e.id ORDER BY requests DESC, e.created_at DESC LIMIT ?2`,
      )
      .bind(since, limit),
  ]);
  const t = (totals!.results[0] ?? {}) as { active?: number; ready?: number; requests?: number };
  return {
    windowMinutes: TRAFFIC_VIEW_MINUTES,
    active: t.active ?? 0,
    replicasReady: t.ready ?? 0,
    requests: t.requests ?? 0,
    top: (top!.results as Record<string, number | string | null>[]).map((r) => {
      const traffic = trafficView(
        { requests: Number(r.requests), errors: Number(r.errors), buckets: TTFB_COLUMNS.map((c) => Number(r[c] ?? 0)) },
        TRAFFIC_VIEW_MINUTES,
      );
      return {
        id: String(r.id),
        status: String(r.status),
        replicas: Number(r.replicas),
        ready: Number(r.ready),
        countries: r.countries ? String(r.countries).split(',').sort() : [],
        requests: traffic.requests,
        requestsPerMinute: traffic.requestsPerMinute,
        errors: traffic.errors,
        medianTtfbMs: traffic.medianTtfbMs,
      };
    }),
  };
}
