import { cellRings, cellsNear, type LatLon } from '../routing/geo.ts';
import type { CandidateGpu } from './allocation.ts';
import { probeIndexFor, rankCandidates, type RankedCandidate, type RoutingNode } from '../routing/rank.ts';
import type { RoutingWeights } from '../routing/routing-weights.ts';
import { DEFAULT_RTT_PARAMS, profileNode, rttFloorMs, type NodeRttProfile, type ProbeIndex, type ProbeSample } from '../routing/rtt-model.ts';

// The I/O side of a quote: read candidate nodes ring by ring around the renter, only for the
// requested catalogue models, at most ROWS_PER_PAIR rows per (model, cell) — the best by the
// renter-independent route rank kept on node_gpus (route-rank.ts) — and stop widening as soon as
// no node further out could enter the top `limit`. `rankCandidates` (workers/routing) does all
// the deciding. Every figure of D1 work is D1's own `meta.rows_read`.

/** Ring radii in km: the renter's region and neighbours, the continent, the hemisphere, the rest. */
export const RING_RADII_KM = [800, 2500, 7000, 20_100] as const;

/**
 * K: rows read per (model, cell) pair and ring. A quote returns at most 50 candidates and places
 * a job on one of the best 5; within one 5° cell (~550 km) the renter's distance moves the
 * latency estimate by a few ms, so the few best-ranked nodes of a cell hold the cell's winners.
 * See workers/jobs/README.md "Quotes" for the measurement behind the value.
 */
export const ROWS_PER_PAIR = 8;

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
  /** Cells that hold nodes; others are not asked about. Absent: every cell. */
  cells?: ReadonlySet<string>;
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
  /**
   * Milliseconds spent in this quote's own code, awaiting D1 excluded (performance.now() around
   * the pure parts). Meaningful where timers run during CPU work (Node: the bench); inside
   * workerd timers only advance on I/O, so there it reads about 0.
   */
  computeMs: number;
}

export interface CandidateRow {
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
  stake: number;
}

/** What the pre-filter of one ring needs; `cells` are 5° cells (geo.ts), `k` rows per pair. */
export interface RingRequest {
  models: readonly string[];
  cells: readonly string[];
  minVramMb: number;
  count: number;
  /** Base units, at most MAX_SAFE_INTEGER. */
  cap: number;
  k: number;
  /** Cells within the region radius of the renter, sampled in node-id order too (first ring only; else empty). */
  regionCells: readonly string[];
}

export type RingFetcher = (ring: RingRequest) => Promise<{ rows: CandidateRow[]; rowsRead: number }>;

// For each (model, cell) pair, a correlated subquery walks node_gpus_route_idx from the best
// route rank (the lowest above 0) on, filtering free GPUs, VRAM and price inside the index (all index columns), and
// stops after K rows; then one rowid lookup into node_gpus and one primary-key lookup into nodes
// per row. route_rank > 0 already means online, eligible, not suspended, with a free GPU (kept by
// the triggers of migration 0013); the node row is checked again because it is read anyway.
// CROSS JOIN fixes the loop order (SQLite never reorders it).
const CANDIDATES_SQL = `
SELECT g.node_id AS id, g.model AS model, g.canonical_model AS canonical, g.vram_mb AS vram, g.count AS count,
  g.count - g.free AS committed, n.lat AS lat, n.lon AS lon, n.country AS country, n.price_per_gpu_hour AS price,
  n.reputation AS reputation, n.online_ms AS onlineMs, n.registered_at AS registeredAt, n.probes AS probes, n.stake_total AS stake
FROM json_each(?1) AS m CROSS JOIN json_each(?2) AS cell CROSS JOIN node_gpus AS g CROSS JOIN nodes AS n
WHERE g.rowid IN (
    SELECT k.rowid FROM node_gpus AS k INDEXED BY node_gpus_route_idx
    WHERE k.canonical_model = m.value AND k.geo_cell = cell.value AND k.route_rank > 0
      AND k.free >= ?3 AND k.vram_mb >= ?4 AND k.price <= ?5
    ORDER BY k.route_rank LIMIT ?6)
  AND n.id = g.node_id AND n.status = 'online' AND n.eligible = 1 AND n.suspended = 0`;

// The sample near the renter: for each (model, cell) within the region radius of the renter,
// up to NEAR_PER_PAIR more rows in node-id order (ids are public keys: an arbitrary order) instead
// of rank order, through node_gpus_near_idx. They are candidates like the others, and they are
// what the ranker reads the renter region's detour from (a low quantile of what nodes around the
// renter measured). The best-ranked rows alone would be a biased sample: nodes that measure well
// from where they are, which in a city that hairpins through a hub are the ones backhauled to
// it, not the ones next to the renter.
const NEAR_SQL = CANDIDATES_SQL.replace('ORDER BY k.route_rank', 'ORDER BY k.node_id').replace('node_gpus_route_idx', 'node_gpus_near_idx');

/** Rows per (model, cell) near the renter read in node-id order, on top of the K best by rank. */
export const NEAR_PER_PAIR = 16;

/** The D1 pre-filter: one statement per ring, one more for the first ring's near sample, one batch. */
export function d1RingFetcher(db: D1Database): RingFetcher {
  return async (ring) => {
    const statement = (sqlText: string, cells: readonly string[], k: number) =>
      db.prepare(sqlText).bind(JSON.stringify(ring.models), JSON.stringify(cells), ring.count, ring.minVramMb, ring.cap, k);
    const statements = [statement(CANDIDATES_SQL, ring.cells, ring.k)];
    if (ring.regionCells.length > 0) statements.push(statement(NEAR_SQL, ring.regionCells, NEAR_PER_PAIR));
    const results = await db.batch<CandidateRow>(statements);
    return {
      rows: results.flatMap((r) => r.results),
      rowsRead: results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0),
    };
  };
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export async function quoteCandidates(
  db: D1Database,
  probePoints: ReadonlyMap<string, LatLon>,
  weights: RoutingWeights,
  query: QuoteQuery,
  nowMs: number,
): Promise<QuoteResult> {
  const used = await usedCells(db, nowMs);
  const result = await quoteWith(d1RingFetcher(db), probePoints, weights, { ...query, cells: used.cells }, nowMs);
  return { ...result, rowsRead: result.rowsRead + used.rowsRead, queries: result.queries + (used.rowsRead > 0 ? 1 : 0) };
}

/** The quote over any ring fetcher: D1 in the Worker, an in-memory registry in the CPU bench. */
export async function quoteWith(
  fetchRing: RingFetcher,
  probePoints: ReadonlyMap<string, LatLon>,
  weights: RoutingWeights,
  query: QuoteQuery,
  nowMs: number,
  k = ROWS_PER_PAIR,
): Promise<QuoteResult> {
  let mark = performance.now();
  let computeMs = 0;
  // The renter's own ring is always asked in full, so a node that just joined next to the renter
  // is quoted at once; further rings only where nodes are (query.cells, cached for a few seconds).
  const used = query.cells;
  const rings = cellRings(query.client.lat, query.client.lon, RING_RADII_KM).map((ring, r) => (used && r > 0 ? ring.filter((c) => used.has(c)) : ring));
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
  if (query.models.length === 0) return { candidates: [], gpusOf: new Map(), rowsRead, queries, rings: 0, nodesConsidered: 0, computeMs: 0 };
  const index = probeIndexFor(probePoints);
  for (let r = 0; r < rings.length; r++) {
    const cells = rings[r]!;
    if (cells.length === 0) continue;
    computeMs += performance.now() - mark;
    const regionCells = r === 0 ? cellsNear(query.client.lat, query.client.lon, DEFAULT_RTT_PARAMS.regionKm) : [];
    const result = await fetchRing({ models: query.models, cells, minVramMb: query.minVramMb, count: query.count, cap: Number(cap), k, regionCells });
    mark = performance.now();
    rowsRead += result.rowsRead;
    queries++;
    ringsRead++;
    for (const row of result.rows) {
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
  computeMs += performance.now() - mark;
  return { candidates: ranked, gpusOf, rowsRead, queries, rings: ringsRead, nodesConsidered: nodes.size, computeMs };
}

/**
 * Parsed probes and RTT profiles by node, kept across quotes in the isolate: a profile changes only
 * when the node's folded probes or the probe points do, and parsing and profiling every candidate
 * is most of a quote's CPU. Bounded; cleared wholesale when full.
 */
const profileCache = new Map<string, { probes: string; index: ProbeIndex; samples: ProbeSample[]; profile: NodeRttProfile }>();
const PROFILE_CACHE_MAX = 200_000;

function profileOf(row: { id: string; lat: number; lon: number; probes: string }, index: ProbeIndex): { samples: ProbeSample[]; profile: NodeRttProfile } {
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
  // A row can come twice: ranked among the best and sampled near the renter.
  if (existing?.gpus.some((g) => g.model === row.model)) return;
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
      stake: BigInt(row.stake),
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

export function parseProbes(json: string): ProbeSample[] {
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

/**
 * The cells that hold nodes (geo_cells_used), per isolate for CELLS_TTL_MS: beyond the renter's
 * own ring a quote asks D1 only about these. A node in a cell new to the network is quoted from
 * afar once an isolate's copy expires (and at once by renters near it).
 */
let cellsCache: { at: number; cells: ReadonlySet<string>; db: D1Database } | null = null;
const CELLS_TTL_MS = 10_000;

export async function usedCells(db: D1Database, nowMs: number): Promise<{ cells: ReadonlySet<string>; rowsRead: number }> {
  if (cellsCache && cellsCache.db === db && nowMs - cellsCache.at < CELLS_TTL_MS && nowMs >= cellsCache.at) return { cells: cellsCache.cells, rowsRead: 0 };
  const result = await db.prepare('SELECT geo_cell AS cell FROM geo_cells_used').all<{ cell: string }>();
  cellsCache = { at: nowMs, cells: new Set(result.results.map((r) => r.cell)), db };
  return { cells: cellsCache.cells, rowsRead: result.meta.rows_read ?? 0 };
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
