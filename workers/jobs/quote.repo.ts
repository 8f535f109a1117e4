import { cellRings, type LatLon } from '../routing/geo.ts';
import type { CandidateGpu } from './allocation.ts';
import { probeIndexFor, rankCandidates, type RankedCandidate, type RoutingNode } from '../routing/rank.ts';
import type { RoutingWeights } from '../routing/routing-weights.ts';
import { DEFAULT_RTT_PARAMS, profileNode, rttFloorMs, type NodeRttProfile, type ProbeIndex, type ProbeSample } from '../routing/rtt-model.ts';

// The I/O side of a quote: read candidate nodes ring by ring around the renter, only for the
// requested catalogue models (index node_gpus(canonical_model, geo_cell)), and stop widening as
// soon as no node further out could enter the top `limit`. `rankCandidates` (workers/routing)
// does all the deciding. Every figure of D1 work is D1's own `meta.rows_read`.

/** Ring radii in km: the renter's region and neighbours, the continent, the hemisphere, the rest. */
export const RING_RADII_KM = [800, 2500, 7000, 20_100] as const;

export interface QuoteQuery {
  /** Catalogue names the renter accepts; null: any catalogue model. */
  models: readonly string[];
  minVramMb: number;
  count: number;
  /** Base units; null: no cap. */
  maxPricePerGpuHour: bigint | null;
  client: LatLon;
  limit: number;
  /** Nodes that must not get this job (they lost it before). */
  exclude?: ReadonlySet<string>;
}

export type { CandidateGpu };

export interface QuoteResult {
  candidates: RankedCandidate[];
  /** The GPU groups of every candidate returned, to allocate a job from. */
  gpusOf: Map<string, CandidateGpu[]>;
  rowsRead: number;
  queries: number;
  rings: number;
  nodesConsidered: number;
}

interface CandidateRow {
  id: string;
  model: string;
  canonical: string;
  vram: number;
  count: number;
  committed: number;
  lat: number;
  lon: number;
  country: string;
  price: number;
  reputation: number;
  onlineMs: number;
  registeredAt: number;
  probes: string;
}

// CROSS JOIN fixes the loop order (SQLite never reorders it): for each (model, cell) pair, one
// seek into node_gpus(canonical_model, geo_cell), then one primary-key-ordered lookup per row into
// nodes and into gpu_commitments. Left to itself the planner prefers nodes_status_idx and walks
// every online node (3 rows read per node at 100k nodes; see README "Quotes").
const CANDIDATES_SQL = `
SELECT g.node_id AS id, g.model AS model, g.canonical_model AS canonical, g.vram_mb AS vram, g.count AS count,
  coalesce((SELECT sum(c.count) FROM gpu_commitments c WHERE c.node_id = g.node_id AND c.model = g.model), 0) AS committed,
  n.lat AS lat, n.lon AS lon, n.country AS country, n.price_per_gpu_hour AS price, n.reputation AS reputation,
  n.online_ms AS onlineMs, n.registered_at AS registeredAt, n.probes AS probes
FROM json_each(?1) AS m CROSS JOIN json_each(?2) AS cell CROSS JOIN node_gpus AS g CROSS JOIN nodes AS n
WHERE g.canonical_model = m.value AND g.geo_cell = cell.value AND n.id = g.node_id
  AND g.vram_mb >= ?3 AND n.status = 'online' AND n.suspended = 0 AND n.price_per_gpu_hour <= ?4`;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export async function quoteCandidates(
  db: D1Database,
  probePoints: ReadonlyMap<string, LatLon>,
  weights: RoutingWeights,
  query: QuoteQuery,
  nowMs: number,
): Promise<QuoteResult> {
  const rings = cellRings(query.client.lat, query.client.lon, RING_RADII_KM);
  const nodes = new Map<string, { node: RoutingNode; gpus: CandidateGpu[] }>();
  const cap = query.maxPricePerGpuHour === null || query.maxPricePerGpuHour > MAX_SAFE ? MAX_SAFE : query.maxPricePerGpuHour;
  const request = {
    gpu: { count: query.count, minVramMb: query.minVramMb },
    maxPricePerGpuHour: query.maxPricePerGpuHour ?? undefined,
    client: query.client,
  };
  let rowsRead = 0;
  let queries = 0;
  let ringsRead = 0;
  let ranked: RankedCandidate[] = [];
  if (query.models.length === 0) return { candidates: [], gpusOf: new Map(), rowsRead, queries, rings: 0, nodesConsidered: 0 };
  const models = JSON.stringify(query.models);
  const index = probeIndexFor(probePoints);
  for (let r = 0; r < rings.length; r++) {
    const cells = rings[r]!;
    if (cells.length === 0) continue;
    const result = await db
      .prepare(CANDIDATES_SQL)
      .bind(models, JSON.stringify(cells), query.minVramMb, Number(cap))
      .all<CandidateRow>();
    rowsRead += result.meta.rows_read ?? 0;
    queries++;
    ringsRead++;
    for (const row of result.results) {
      if (query.exclude?.has(row.id)) continue;
      addRow(nodes, row, index, nowMs);
    }
    // Models are filtered in SQL, so the ranker sees catalogue names and matches them as given.
    ranked = rankCandidates(
      request,
      [...nodes.values()].map((n) => n.node),
      probePoints,
      weights,
      query.limit,
    );
    if (r === rings.length - 1) break;
    const last = ranked[query.limit - 1];
    if (last !== undefined && last.score >= bestScoreBeyond(RING_RADII_KM[r]!, weights)) break;
  }
  const gpusOf = new Map(ranked.map((c) => [c.nodeId, nodes.get(c.nodeId)?.gpus ?? []]));
  return { candidates: ranked, gpusOf, rowsRead, queries, rings: ringsRead, nodesConsidered: nodes.size };
}

/**
 * Parsed probes and RTT profiles by node, kept across quotes in the isolate: a profile changes only
 * when the node's folded probes or the probe points do, and parsing and profiling every candidate
 * is most of a quote's CPU. Bounded; cleared wholesale when full.
 */
const profileCache = new Map<string, { probes: string; index: ProbeIndex; samples: ProbeSample[]; profile: NodeRttProfile }>();
const PROFILE_CACHE_MAX = 200_000;

function profileOf(row: CandidateRow, index: ProbeIndex): { samples: ProbeSample[]; profile: NodeRttProfile } {
  const hit = profileCache.get(row.id);
  if (hit && hit.index === index && hit.probes === row.probes) return hit;
  const samples = parseProbes(row.probes);
  const profile = profileNode({ lat: row.lat, lon: row.lon, probes: samples }, index, DEFAULT_RTT_PARAMS);
  if (profileCache.size >= PROFILE_CACHE_MAX) profileCache.clear();
  const entry = { probes: row.probes, index, samples, profile };
  profileCache.set(row.id, entry);
  return entry;
}

function addRow(nodes: Map<string, { node: RoutingNode; gpus: CandidateGpu[] }>, row: CandidateRow, index: ProbeIndex, nowMs: number): void {
  const gpu: CandidateGpu = { model: row.model, canonical: row.canonical, vramMb: row.vram, count: row.count, committed: row.committed };
  const existing = nodes.get(row.id);
  if (existing) {
    existing.gpus.push(gpu);
    (existing.node.gpus as RoutingNode['gpus'][number][]).push({ model: row.canonical, vramMb: row.vram, count: row.count, committed: row.committed });
    return;
  }
  const { samples, profile } = profileOf(row, index);
  nodes.set(row.id, {
    gpus: [gpu],
    node: {
      id: row.id,
      status: 'online',
      suspended: false,
      location: { lat: row.lat, lon: row.lon, country: row.country },
      gpus: [{ model: row.canonical, vramMb: row.vram, count: row.count, committed: row.committed }],
      pricePerGpuHour: BigInt(row.price),
      reputation: row.reputation,
      uptime: Math.min(1, row.onlineMs / Math.max(1, nowMs - row.registeredAt)),
      stake: 0n,
      probes: samples,
      rttProfile: profile,
    },
  });
}

/**
 * The best score a node further than `radiusKm` could have: the latency score at the fibre floor
 * of that distance plus perfect price, reputation, stake and uptime. Exact for latency, reputation,
 * stake and uptime; the price score is relative to the cheapest offer seen, so a much cheaper node
 * far away could lower the near nodes' scores a little (see README, "Quotes").
 */
export function bestScoreBeyond(radiusKm: number, w: RoutingWeights): number {
  const total = w.latency + w.price + w.reputation + w.stake + w.uptime;
  const floor = rttFloorMs(radiusKm, DEFAULT_RTT_PARAMS);
  return ((w.latency * w.latencyRefMs) / (w.latencyRefMs + floor) + w.price + w.reputation + w.stake + w.uptime) / total;
}

function parseProbes(json: string): ProbeSample[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (p): p is ProbeSample => typeof p === 'object' && p !== null && typeof p.target === 'string' && typeof p.rttMs === 'number',
    );
  } catch {
    return [];
  }
}

/** Probe points change rarely; one read per isolate every few seconds keeps the routing index warm too. */
let probeCache: { at: number; points: ReadonlyMap<string, LatLon>; db: D1Database } | null = null;
const PROBE_TTL_MS = 10_000;

export async function probePointMap(db: D1Database, nowMs: number): Promise<{ points: ReadonlyMap<string, LatLon>; rowsRead: number }> {
  if (probeCache && probeCache.db === db && nowMs - probeCache.at < PROBE_TTL_MS) return { points: probeCache.points, rowsRead: 0 };
  const result = await db.prepare('SELECT id, lat, lon FROM probe_points').all<{ id: string; lat: number; lon: number }>();
  const fresh = new Map(result.results.map((p) => [p.id, { lat: p.lat, lon: p.lon }]));
  // Same points as before: keep the same map, so the probe index and every cached profile stay valid.
  const points = probeCache && sameProbes(probeCache.points, fresh) ? probeCache.points : fresh;
  probeCache = { at: nowMs, points, db };
  return { points, rowsRead: result.meta.rows_read ?? 0 };
}

function sameProbes(a: ReadonlyMap<string, LatLon>, b: ReadonlyMap<string, LatLon>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, p] of b) {
    const q = a.get(id);
    if (!q || q.lat !== p.lat || q.lon !== p.lon) return false;
  }
  return true;
}
