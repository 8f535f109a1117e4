import { CELL_DEG, type LatLon } from '../routing/geo.ts';
import { probeIndexFor } from '../routing/rank.ts';
import { clientView, DEFAULT_RTT_PARAMS, estimateFromProfile, profileNode } from '../routing/rtt-model.ts';
import { allocate, type CandidateGpu } from '../jobs/allocation.ts';
import { modelsFor } from '../jobs/jobs.service.ts';
import { probePointMap } from '../jobs/quote.repo.ts';
import { quoteCandidates } from '../jobs/quote.service.ts';
import { parseProbes } from '../routing/quote-rank.ts';
import { randomId } from '../lib/ids.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import type { EndpointRow } from './endpoints.repo.ts';
import { choosePlacements, poorlyServedTraffic, type DemandPoint, type PointCandidates, type ReplicaReach } from './placement.ts';

// The I/O side of placement: demand points (asked regions, then traffic cells), the quote's
// eligible nodes around each (online, verified and staked, not suspended, GPU model/count/VRAM
// fit, price ≤ the endpoint's cap: exactly what a job's quote finds), how well the live replicas
// already serve each point (the RTT model on their nodes' probes), then `choosePlacements`.
// Each chosen replica is inserted with its GPU commitment in one batch; a node that filled up
// meanwhile aborts that batch (the commitment trigger) and is skipped.

/** Candidates asked per demand point. */
const CANDIDATES_PER_POINT = 20;
/** Traffic cells taken into account, busiest first, and the window they are counted over. */
const TRAFFIC_CELLS = 8;
const TRAFFIC_WINDOW_MS = 15 * 60_000;

export interface LiveReplica {
  id: string;
  nodeId: string;
  owner: string | null;
  lat: number | null;
  lon: number | null;
  probes: string | null;
}

export async function liveReplicasOf(ctx: EndpointsContext, endpointId: string): Promise<LiveReplica[]> {
  const rows = await ctx.db.$client
    .prepare(
      `SELECT r.id, r.node_id AS nodeId, n.owner, n.lat, n.lon, n.probes FROM endpoint_replicas r LEFT JOIN nodes n ON n.id = r.node_id
       WHERE r.endpoint_id = ?1 AND r.stopped_at IS NULL`,
    )
    .bind(endpointId)
    .all<LiveReplica>();
  return rows.results;
}

/** Centre of a `row:col` 5° cell (workers/routing/geo.ts); null for `unknown`. */
export function cellCentre(cell: string): LatLon | null {
  const m = /^(\d+):(\d+)$/.exec(cell);
  if (!m) return null;
  return { lat: Number(m[1]) * CELL_DEG - 90 + CELL_DEG / 2, lon: Number(m[2]) * CELL_DEG - 180 + CELL_DEG / 2 };
}

/** Where the endpoint's callers were lately (the gateway's endpoint_traffic), busiest cells first. */
export async function trafficPoints(ctx: EndpointsContext, endpointId: string, nowMs: number): Promise<DemandPoint[]> {
  const rows = await ctx.db.$client
    .prepare(
      `SELECT cell, sum(requests) AS requests FROM endpoint_traffic WHERE endpoint_id = ?1 AND minute >= ?2 AND cell <> 'unknown'
       GROUP BY cell ORDER BY requests DESC, cell LIMIT ?3`,
    )
    .bind(endpointId, nowMs - TRAFFIC_WINDOW_MS, TRAFFIC_CELLS)
    .all<{ cell: string; requests: number }>();
  return rows.results.flatMap((r) => {
    const c = cellCentre(r.cell);
    return c && r.requests > 0 ? [{ ...c, source: 'traffic' as const, requests: r.requests }] : [];
  });
}

export function regionPoints(endpoint: Pick<EndpointRow, 'regions'>): DemandPoint[] {
  const regions = JSON.parse(endpoint.regions) as { lat: number; lon: number }[];
  return regions.map((r) => ({ lat: r.lat, lon: r.lon, source: 'region' as const, requests: 0 }));
}

export interface PlacementView {
  points: PointCandidates[];
  gpus: Map<string, CandidateGpu[]>;
  prices: Map<string, number>;
  usedNodes: Set<string>;
  usedOwners: Set<string>;
  /** Each live replica's estimated RTT from each point (the scale-down's hysteresis, placement.ts). */
  reach: ReplicaReach[];
}

/** Demand points with their candidates and how well the live replicas serve them. */
export async function placementView(
  ctx: EndpointsContext,
  endpoint: EndpointRow,
  live: LiveReplica[],
  nowMs: number,
): Promise<PlacementView> {
  const demand = [...regionPoints(endpoint), ...(await trafficPoints(ctx, endpoint.id, nowMs))];
  const probes = await probePointMap(ctx.db, nowMs);
  const index = probeIndexFor(probes.points);
  const profileOf = (n: { lat: number | null; lon: number | null; probes: string | null }) =>
    n.lat === null || n.lon === null
      ? null
      : profileNode({ lat: n.lat, lon: n.lon, probes: parseProbes(n.probes ?? '[]') }, index, DEFAULT_RTT_PARAMS);
  const liveProfiles = live.map(profileOf);
  const reach: ReplicaReach[] = live.map((r) => ({ id: r.id, rttMs: [] as number[] }));
  const views: ReturnType<typeof clientView>[] = [];
  const usedNodes = new Set(live.map((r) => r.nodeId));
  const usedOwners = new Set(live.flatMap((r) => (r.owner ? [r.owner] : [])));
  const gpus = new Map<string, CandidateGpu[]>();
  const prices = new Map<string, number>();
  const points: PointCandidates[] = [];
  const models = endpoint.gpuModels ? (JSON.parse(endpoint.gpuModels) as string[]) : modelsFor(undefined);
  for (const point of demand) {
    const quote = await quoteCandidates(
      ctx.db,
      probes.points,
      ctx.config.routingWeights,
      {
        models,
        minVramMb: endpoint.minVramMb,
        count: endpoint.gpuCount,
        maxPricePerGpuHour: BigInt(endpoint.maxPricePerGpuHour),
        client: point,
        limit: CANDIDATES_PER_POINT,
        exclude: usedNodes,
      },
      nowMs,
    );
    for (const [id, g] of quote.gpusOf) gpus.set(id, g);
    for (const c of quote.candidates) prices.set(c.nodeId, Number(c.pricePerGpuHour));
    const view = clientView(point, index, DEFAULT_RTT_PARAMS);
    views.push(view);
    const rtts = liveProfiles.map((p) => (p ? estimateFromProfile(view, p, DEFAULT_RTT_PARAMS) : Number.POSITIVE_INFINITY));
    for (const [i, rtt] of rtts.entries()) (reach[i]!.rttMs as number[]).push(rtt);
    const servedRttMs = Math.min(Number.POSITIVE_INFINITY, ...rtts);
    points.push({ point, servedRttMs, candidates: quote.candidates.map((c) => ({ nodeId: c.nodeId, owner: '', estRttMs: c.estRttMs })) });
  }
  // Owners of every candidate, in one read. A candidate's RTT is re-estimated with the model that
  // estimates the live replicas' (servedRttMs, reach): the quote's estimate may differ a little,
  // and the add rule (poorlyServedTraffic) and the scale-down's hysteresis (stopsKeepingTraffic)
  // must see the same number for a node whether it is a candidate or holds the replica, or a
  // replica could be stopped as "no better" and placed again as "better". The quote's order stays.
  const ids = [...new Set(points.flatMap((p) => p.candidates.map((c) => c.nodeId)))];
  if (ids.length > 0) {
    const nodes = await ctx.db.$client
      .prepare('SELECT id, owner, lat, lon, probes FROM nodes WHERE id IN (SELECT value FROM json_each(?1))')
      .bind(JSON.stringify(ids))
      .all<{ id: string; owner: string; lat: number | null; lon: number | null; probes: string | null }>();
    const byId = new Map(nodes.results.map((n) => [n.id, { owner: n.owner, profile: profileOf(n) }]));
    points.forEach((p, i) => {
      p.candidates = p.candidates.map((c) => {
        const n = byId.get(c.nodeId);
        return {
          ...c,
          owner: n?.owner ?? c.nodeId,
          estRttMs: n?.profile ? estimateFromProfile(views[i]!, n.profile, DEFAULT_RTT_PARAMS) : c.estRttMs,
        };
      });
    });
  }
  return { points, gpus, prices, usedNodes, usedOwners, reach };
}

export function trafficIsPoorlyServed(view: PlacementView, goodRttMs: number): boolean {
  return poorlyServedTraffic(view.points, goodRttMs, view.usedNodes);
}

export interface PlacedReplica {
  id: string;
  nodeId: string;
}

/**
 * Places up to `count` new replicas of the endpoint's current generation. Returns those placed
 * (fewer when not enough eligible nodes exist).
 */
export async function placeReplicas(
  ctx: EndpointsContext,
  endpoint: EndpointRow,
  count: number,
  nowMs: number,
  view?: PlacementView,
): Promise<PlacedReplica[]> {
  if (count <= 0) return [];
  const v = view ?? (await placementView(ctx, endpoint, await liveReplicasOf(ctx, endpoint.id), nowMs));
  // Ask for a few more than needed: a choice whose node filled up meanwhile is skipped.
  const choices = choosePlacements({
    count: count + 3,
    points: v.points,
    usedNodes: v.usedNodes,
    usedOwners: v.usedOwners,
    goodRttMs: ctx.config.ENDPOINT_GOOD_RTT_MS,
  });
  const placed: PlacedReplica[] = [];
  for (const choice of choices) {
    if (placed.length >= count) break;
    const allocation = allocate(v.gpus.get(choice.nodeId) ?? [], endpoint.gpuCount, endpoint.minVramMb);
    const price = v.prices.get(choice.nodeId);
    if (!allocation || price === undefined) continue;
    const id = randomId('rep');
    const db = ctx.db.$client;
    try {
      await db.batch([
        // Only while the endpoint is active and at this generation: a DELETE or roll-out racing the cron wins.
        db
          .prepare(
            `INSERT INTO endpoint_replicas (id, endpoint_id, node_id, generation, state, state_since, price_per_gpu_hour, gpu_count, placed_at, updated_at)
             SELECT ?1, id, ?2, generation, 'placed', ?4, ?3, gpu_count, ?4, ?4 FROM endpoints WHERE id = ?5 AND status = 'active' AND generation = ?6`,
          )
          .bind(id, choice.nodeId, price, nowMs, endpoint.id, endpoint.generation),
        db.prepare(`SELECT json_extract('{}', 'assert:endpoint_moved') WHERE changes() = 0`),
        ...allocation.map(([model, n]) =>
          db
            .prepare('INSERT INTO gpu_commitments (job_id, node_id, model, count) VALUES (?1, ?2, ?3, ?4)')
            .bind(id, choice.nodeId, model, n),
        ),
      ]);
      placed.push({ id, nodeId: choice.nodeId });
    } catch (error) {
      const message = String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error);
      if (/assert:endpoint_moved/.test(message)) break;
      if (!/gpu_capacity/.test(message)) throw error;
    }
  }
  return placed;
}
