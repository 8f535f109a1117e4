// Ranks the nodes that can serve a quote: eligibility first, then one score from estimated
// latency, price, reputation, stake and uptime. Pure: the I/O layer loads nodes and probe points
// and hands them in. See ./README.md for the model and the weights.

import { EARTH_RADIUS_KM, type LatLon } from './geo.ts';
import { matchingModels } from '../../protocol/gpu-catalog.ts';
import { buildRoutingTable, type NodeLocation, type RoutingNode, type RoutingTable } from './routing-table.ts';
import type { RoutingWeights } from './routing-weights.ts';
import {
  buildProbeIndex,
  chordKm,
  clientView,
  type ClientView,
  DEFAULT_RTT_PARAMS,
  estimateAt,
  FIBRE_MS_PER_KM,
  type ProbeIndex,
  type RegionReadings,
  rttFloorMs,
  type RttModelParams,
  unitVector,
} from './rtt-model.ts';
import { TopK } from './top-k.ts';

export type { NodeLocation, RoutingGpu, RoutingNode, RoutingTable } from './routing-table.ts';

export interface RouteRequest {
  readonly gpu: {
    /** As the renter typed it; matched through the catalogue. Absent: any model. */
    readonly model?: string;
    readonly minVramMb?: number;
    readonly count: number;
  };
  /** Base units per GPU-hour. Absent: no cap. */
  readonly maxPricePerGpuHour?: bigint;
  readonly client: LatLon;
}

export interface RankedCandidate {
  readonly nodeId: string;
  readonly pricePerGpuHour: bigint;
  readonly estRttMs: number;
  readonly score: number;
  readonly location: NodeLocation;
}

const indexCache = new WeakMap<ReadonlyMap<string, LatLon>, ProbeIndex>();

/** One index per probe-point map, so profiles built against it stay valid across quotes. */
export function probeIndexFor(points: ReadonlyMap<string, LatLon> | ProbeIndex): ProbeIndex {
  if (!(points instanceof Map)) return points as ProbeIndex;
  let index = indexCache.get(points);
  if (!index) {
    index = buildProbeIndex(points);
    indexCache.set(points, index);
  }
  return index;
}

/** The model names a request accepts: catalogue matches, else the name as typed. */
export function requestedModels(model: string | undefined): ReadonlySet<string> | null {
  if (model === undefined || model.trim() === '') return null;
  const matches = matchingModels(model);
  return new Set(matches.length > 0 ? matches.map((m) => m.name) : [model.trim()]);
}

/** Free GPUs of node i that fit the request: matching model, enough VRAM, not committed. */
function usableGpus(t: RoutingTable, i: number, models: Uint8Array | null, minVramMb: number): number {
  let free = 0;
  for (let g = t.gpuStart[i] ?? 0, end = t.gpuStart[i + 1] ?? 0; g < end; g++) {
    if ((t.gpuVramMb[g] ?? 0) < minVramMb) continue;
    if (models !== null && models[t.gpuModel[g] ?? 0] !== 1) continue;
    free += t.gpuFree[g] ?? 0;
  }
  return free;
}

interface Scored {
  readonly i: number;
  readonly score: number;
  readonly est: number;
  readonly id: string;
  readonly price: bigint;
}

/** Higher score; then lower latency, lower price, smaller id: a total order, so ties are stable. */
function better(a: Scored, b: Scored): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.est !== b.est) return a.est < b.est;
  if (a.price !== b.price) return a.price < b.price;
  return a.id < b.id;
}

const clamp01 = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0);

/**
 * The best `limit` eligible nodes for the request, best first. `nodes` is either the node list
 * (converted to a table on each call; fine for the few thousand a cell-filtered D1 query
 * returns) or a RoutingTable kept between quotes for the whole registry.
 */
export function rankCandidates(
  request: RouteRequest,
  nodes: readonly RoutingNode[] | RoutingTable,
  probePoints: ReadonlyMap<string, LatLon> | ProbeIndex,
  weights: RoutingWeights,
  limit: number,
  rttParams: RttModelParams = DEFAULT_RTT_PARAMS,
  views?: ViewReuse,
): RankedCandidate[] {
  const index = probeIndexFor(probePoints);
  let t: RoutingTable;
  if (isTable(nodes)) {
    if (nodes.index !== index) throw new Error('routing table was built for other probe points');
    t = nodes;
  } else {
    t = buildRoutingTable(nodes, index, rttParams);
  }
  const pass = selectEligible(t, request, rttParams);
  if (pass.count === 0 || limit < 1) return [];
  const view =
    views?.view?.index === index
      ? views.view
      : clientView(request.client, index, rttParams, regionReadings(t, pass.regionRows, request.client, rttParams));
  if (views) views.view = view;
  const top = scoreTop(t, pass, view, weights, Math.floor(limit), rttParams);
  return top.sorted().map(({ i, score, est, id, price }) => ({
    nodeId: id,
    pricePerGpuHour: price,
    estRttMs: Math.round(est * 10) / 10,
    score: Math.round(score * 1e6) / 1e6,
    location: t.locations[i] ?? { lat: Number.NaN, lon: Number.NaN },
  }));
}

/**
 * The renter's view (clientView: nearest probe points and the region's readings) kept between the
 * calls of one quote. Only for a caller whose later calls add no node within `regionKm` of the
 * renter, so the region, and with it the view, cannot change: the quote's rings (quote-rank.ts).
 */
export interface ViewReuse {
  view?: ClientView;
}

interface EligiblePass {
  /** Rows of eligible nodes, in table order; the first `count` entries are used. */
  readonly rows: Int32Array;
  readonly count: number;
  readonly cheapest: number;
  /** Rows in a lat/lon box around the renter: candidates for the renter's region. */
  readonly regionRows: number[];
}

// The two passes are separate functions so that each is optimised on its own feedback: one long
// function with two hot loops is compiled on-stack mid-loop and thrown away at the second.

/** Pass 1: eligibility, the cheapest eligible price, and the rows around the renter. */
function selectEligible(t: RoutingTable, request: RouteRequest, p: RttModelParams): EligiblePass {
  const wanted = requestedModels(request.gpu.model);
  const models = wanted === null ? null : Uint8Array.from(t.modelNames, (name) => (wanted.has(name) ? 1 : 0));
  const minVram = request.gpu.minVramMb ?? 0;
  const cap = request.maxPricePerGpuHour;
  const capNum = cap === undefined ? Number.POSITIVE_INFINITY : Number(cap);
  const needed = request.gpu.count;
  const { lat, lon } = request.client;
  const regionDeg = p.regionKm / 111;
  // Longitude span of the region, generous near the poles; wrap-around handled by the modulo.
  const regionLonDeg = Math.min(180, regionDeg / Math.max(0.05, Math.cos(((Math.abs(lat) + regionDeg) * Math.PI) / 180)));
  const { available, priceNum, prices } = t;
  const rows = new Int32Array(t.size);
  let count = 0;
  let cheapest = Number.POSITIVE_INFINITY;
  const regionRows: number[] = [];
  for (let i = 0; i < t.size; i++) {
    // Any node near the renter, eligible or not, shows how the renter's region is connected.
    if (Math.abs((t.lat[i] ?? 0) - lat) <= regionDeg) {
      const dLon = Math.abs((((((t.lon[i] ?? 0) - lon) % 360) + 540) % 360) - 180);
      if (dLon <= regionLonDeg) regionRows.push(i);
    }
    if (available[i] !== 1) continue;
    const price = priceNum[i] ?? 0;
    if (price > capNum) continue;
    // Exact comparison only where float rounding could hide the difference.
    if (price === capNum && cap !== undefined && (prices[i] ?? 0n) > cap) continue;
    if (usableGpus(t, i, models, minVram) < needed) continue;
    rows[count++] = i;
    if (price < cheapest) cheapest = price;
  }
  return { rows, count, cheapest, regionRows };
}

/**
 * Pass 2: score and keep the best `limit`. The latency estimate is never below the fibre floor,
 * so a node whose score could not beat the current last place even at that floor is skipped
 * before its estimate is computed: most of a large registry is far from any one renter.
 */
function scoreTop(
  t: RoutingTable,
  pass: EligiblePass,
  view: ClientView,
  weights: RoutingWeights,
  limit: number,
  p: RttModelParams,
): TopK<Scored> {
  // Price scores relative to the cheapest eligible offer: cheapest = 1, twice the price = 0.5.
  const priceRef = Math.max(1, pass.cheapest);
  const stakeHalf = Number(weights.stakeHalfBaseUnits);
  const total = weights.latency + weights.price + weights.reputation + weights.stake + weights.uptime;
  const wLat = weights.latency / total;
  const wPrice = weights.price / total;
  const wRep = weights.reputation / total;
  const wStake = weights.stake / total;
  const wUp = weights.uptime / total;
  const ref = weights.latencyRefMs;
  const width = t.index.ids.length;
  const { x: xs, y: ys, z: zs, priceNum, stakeNum, reputation, uptime, excessMs, excessVar, residualMs } = t;
  const { x: cx, y: cy, z: cz } = view;
  const top = new TopK<Scored>(limit, better);
  // Once the selection is full, `bar` is the score to beat and `chord2Max` the squared chord
  // distance beyond which even a perfect price, reputation, stake and uptime could not beat it.
  const restMax = wPrice + wRep + wStake + wUp;
  let bar = Number.NEGATIVE_INFINITY;
  let chord2Max = Number.POSITIVE_INFINITY;
  for (let k = 0; k < pass.count; k++) {
    const i = pass.rows[k] ?? 0;
    const x = xs[i] ?? 0;
    const y = ys[i] ?? 0;
    const z = zs[i] ?? 0;
    const dx = x - cx;
    const dy = y - cy;
    const dz = z - cz;
    const chord2 = dx * dx + dy * dy + dz * dz;
    if (chord2 > chord2Max) continue;
    const price = priceNum[i] ?? 0;
    const stake = stakeNum[i] ?? 0;
    const rest =
      wPrice * (price <= priceRef ? 1 : priceRef / price) +
      wRep * clamp01(reputation[i] ?? 0) +
      wStake * (stake > 0 ? stake / (stake + stakeHalf) : 0) +
      wUp * clamp01(uptime[i] ?? 0);
    // chord * R <= great-circle km, so this floor is a true lower bound of the estimate.
    const floorMs = rttFloorMs(EARTH_RADIUS_KM * Math.sqrt(chord2), p);
    if (wLat * (ref / (ref + floorMs)) + rest < bar) continue;
    if (t.profiled[i] === 0) t.fill(i);
    const est = estimateAt(view, x, y, z, excessMs[i] ?? 0, excessVar[i] ?? 0, residualMs, i * width, p);
    if (!(est >= 0)) continue; // a location that is not a number: no estimate, no offer
    const score = wLat * (ref / (ref + est)) + rest;
    if (score < bar) continue;
    top.push({ i, score, est, id: t.ids[i] ?? '', price: t.prices[i] ?? 0n });
    const worst = top.threshold;
    if (worst !== undefined) {
      bar = worst.score;
      chord2Max = bar > restMax ? maxChord2((wLat * ref) / (bar - restMax) - ref, p) : Number.POSITIVE_INFINITY;
    }
  }
  return top;
}

/** The squared chord whose fibre floor equals `floorMs`: nodes beyond it have a higher floor. */
function maxChord2(floorMs: number, p: RttModelParams): number {
  const chord = Math.max(0, floorMs - rttFloorMs(0, p)) / (FIBRE_MS_PER_KM * EARTH_RADIUS_KM);
  return chord * chord;
}

function isTable(nodes: readonly RoutingNode[] | RoutingTable): nodes is RoutingTable {
  return !Array.isArray(nodes);
}

/** Enough nodes to read a region's low quantile; more only costs time. */
const REGION_SAMPLE = 256;

/** Readings of the table rows within the region radius of the renter (an even sample if many). */
function regionReadings(t: RoutingTable, rows: readonly number[], client: LatLon, p: RttModelParams): RegionReadings {
  const width = t.index.ids.length;
  const [cx, cy, cz] = unitVector(client.lat, client.lon);
  const within = rows.filter((i) => chordKm(cx - (t.x[i] ?? 0), cy - (t.y[i] ?? 0), cz - (t.z[i] ?? 0)) <= p.regionKm);
  const step = Math.max(1, within.length / REGION_SAMPLE);
  const near: number[] = [];
  for (let k = 0; k < within.length; k += step) near.push(within[Math.floor(k)] ?? 0);
  for (const i of near) t.fill(i);
  return {
    excessMs: near.map((i) => t.excessMs[i] ?? 0),
    residualsAt: (slot) => near.map((i) => t.residualMs[i * width + slot] ?? Number.NaN),
  };
}
