// The pure side of a quote. The I/O side (workers/jobs/quote.repo.ts) reads candidate rows ring
// by ring around the renter; everything decided about them is here, without I/O: which cells a
// ring asks about, the rows turned into routing nodes (RTT profiles cached per isolate), one
// ranking over all rows read (rank.ts), and the stop rule that says whether a wider ring could
// still change the answer. See workers/jobs/README.md "Quotes".

import { cellsBetween, cellsBetweenAmong, cellsNear, type LatLon } from './geo.ts';
import { probeIndexFor, rankCandidates, type RankedCandidate, type RoutingGpu, type RoutingNode, type ViewReuse } from './rank.ts';
import type { RoutingWeights } from './routing-weights.ts';
import { DEFAULT_RTT_PARAMS, profileNode, rttFloorMs, type NodeRttProfile, type ProbeIndex, type ProbeSample } from './rtt-model.ts';

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
  /** Cells that hold nodes; others are not asked about. Absent: every cell. */
  cells?: ReadonlySet<string>;
}

/** One row the pre-filter reads: a node's GPU group that can take the job, with the node's fields. */
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

/**
 * The cells ring `r` asks about. The renter's own ring is always asked in full, so a node that
 * just joined next to the renter is quoted at once; further rings only where nodes are
 * (`query.cells`). Each ring is computed when it is needed: most quotes never widen.
 */
export function ringCells(query: Pick<QuoteQuery, 'client' | 'cells'>, r: number): string[] {
  const outer = RING_RADII_KM[r];
  if (outer === undefined) return [];
  const inner = r === 0 ? Number.NEGATIVE_INFINITY : RING_RADII_KM[r - 1]!;
  const used = query.cells;
  return used && r > 0
    ? cellsBetweenAmong(query.client.lat, query.client.lon, inner, outer, used)
    : cellsBetween(query.client.lat, query.client.lon, inner, outer);
}

/** Cells within the RTT model's region radius of the renter: the first ring's near sample. */
export function regionCells(client: LatLon): string[] {
  return cellsNear(client.lat, client.lon, DEFAULT_RTT_PARAMS.regionKm);
}

export interface RankedRows {
  candidates: RankedCandidate[];
  /** The rows (GPU groups) of every candidate returned, to allocate a job from. */
  rowsOf: Map<string, CandidateRow[]>;
  nodesConsidered: number;
}

/**
 * The rows a quote has read so far, ranked after each ring. A node's groups are merged as rows
 * arrive (a row can come twice: ranked among the best and sampled near the renter), rows of
 * excluded nodes dropped; each rank() is one rankCandidates pass over every node read. Models are
 * filtered by the reads, so the ranker sees catalogue names and matches them as given.
 *
 * Kept between rings, so no row is turned into a node twice, and the renter's view is computed
 * once: the region around the renter (regionKm, 200 km) lies inside the first ring (800 km), so
 * rows of later rings never change it (ViewReuse, rank.ts).
 */
export class RowRanking {
  private readonly index: ProbeIndex;
  private readonly nodes = new Map<string, { node: CandidateNode; rows: CandidateRow[] }>();
  private readonly views: ViewReuse = {};

  constructor(
    probePoints: ReadonlyMap<string, LatLon>,
    private readonly weights: RoutingWeights,
    private readonly query: QuoteQuery,
    private readonly nowMs: number,
  ) {
    this.index = probeIndexFor(probePoints);
  }

  add(rows: readonly CandidateRow[]): void {
    for (const row of rows) {
      if (this.query.exclude?.has(row.id)) continue;
      addRow(this.nodes, row, this.index, this.nowMs);
    }
  }

  rank(): RankedRows {
    const { query, nodes } = this;
    const request = {
      gpu: { count: query.count, minVramMb: query.minVramMb },
      maxPricePerGpuHour: query.maxPricePerGpuHour ?? undefined,
      client: query.client,
    };
    const list = Array.from(nodes.values(), (n) => n.node);
    const candidates = rankCandidates(request, list, this.index, this.weights, query.limit, DEFAULT_RTT_PARAMS, this.views);
    return { candidates, rowsOf: new Map(candidates.map((c) => [c.nodeId, nodes.get(c.nodeId)?.rows ?? []])), nodesConsidered: nodes.size };
  }
}

/** Every row ranked at once (one RowRanking, one ring). */
export function rankRows(
  rows: readonly CandidateRow[],
  probePoints: ReadonlyMap<string, LatLon>,
  weights: RoutingWeights,
  query: QuoteQuery,
  nowMs: number,
): RankedRows {
  const ranking = new RowRanking(probePoints, weights, query, nowMs);
  ranking.add(rows);
  return ranking.rank();
}

/**
 * The stop rule: true when no node beyond ring `r` could enter the top `limit` of `ranked`, so no
 * wider ring needs reading.
 */
export function settledAfterRing(ranked: readonly RankedCandidate[], r: number, limit: number, weights: RoutingWeights): boolean {
  if (r >= RING_RADII_KM.length - 1) return true;
  const last = ranked[limit - 1];
  return last !== undefined && last.score >= bestScoreBeyond(RING_RADII_KM[r]!, weights);
}

/**
 * The best score a node further than `radiusKm` could have: the latency score at the fibre floor
 * of that distance plus perfect price, reputation, stake and uptime. Exact for latency, reputation,
 * stake and uptime; the price score is relative to the cheapest offer seen, so a much cheaper node
 * far away could lower the near nodes' scores a little (see workers/jobs/README.md, "Quotes").
 */
export function bestScoreBeyond(radiusKm: number, w: RoutingWeights): number {
  const total = w.latency + w.price + w.reputation + w.stake + w.uptime;
  const floor = rttFloorMs(radiusKm, DEFAULT_RTT_PARAMS);
  return ((w.latency * w.latencyRefMs) / (w.latencyRefMs + floor) + w.price + w.reputation + w.stake + w.uptime) / total;
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

function addRow(
  nodes: Map<string, { node: CandidateNode; rows: CandidateRow[] }>,
  row: CandidateRow,
  index: ProbeIndex,
  nowMs: number,
): void {
  const existing = nodes.get(row.id);
  if (existing?.rows.some((r) => r.model === row.model)) return;
  const gpu = { model: row.canonical, vramMb: row.vram, count: row.count, committed: row.committed };
  if (existing) {
    existing.rows.push(row);
    existing.node.gpus.push(gpu);
    return;
  }
  nodes.set(row.id, { rows: [row], node: new CandidateNode(row, gpu, index, nowMs) });
}

/**
 * A candidate row as a routing node. Its probes are parsed and profiled only if the ranker
 * estimates it (routing-table.ts fills a row on first use): the getters live on the prototype,
 * so making a node costs no closures.
 */
class CandidateNode implements RoutingNode {
  readonly id: string;
  readonly status = 'online';
  readonly suspended = false;
  readonly location: { lat: number; lon: number; country: string };
  readonly gpus: RoutingGpu[];
  readonly pricePerGpuHour: bigint;
  readonly reputation: number;
  readonly uptime: number;
  readonly stake: bigint;

  constructor(
    private readonly row: CandidateRow,
    gpu: RoutingGpu,
    private readonly index: ProbeIndex,
    nowMs: number,
  ) {
    this.id = row.id;
    this.location = { lat: row.lat, lon: row.lon, country: row.country };
    this.gpus = [gpu];
    this.pricePerGpuHour = BigInt(row.price);
    this.reputation = row.reputation;
    this.uptime = Math.min(1, row.onlineMs / Math.max(1, nowMs - row.registeredAt));
    this.stake = BigInt(row.stake);
  }

  get probes(): ProbeSample[] {
    return profileOf(this.row, this.index).samples;
  }

  get rttProfile(): NodeRttProfile {
    return profileOf(this.row, this.index).profile;
  }
}

/** A node's folded probes (`nodes.probes`): the usable samples, [] for anything that does not parse. */
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
