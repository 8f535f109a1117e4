// Over 300 lines: the RTT model and its allocation-light per-node estimate, on the quote's hot path; the model is one piece and is described in ./README.md.
// Estimates the round-trip time between a renter and a node from where both are and from the
// round-trip times the node measured to the probe points. The model is described, with its
// evaluation, in ./README.md. Pure and allocation-light: the per-node work of a quote is one
// distance and a handful of array reads.

import { EARTH_RADIUS_KM, haversineKm, type LatLon } from './geo.ts';

export interface ProbeSample {
  readonly target: string;
  readonly rttMs: number;
}

export interface RttNode extends LatLon {
  readonly probes: readonly ProbeSample[];
}

export interface RttModelParams {
  /** Geographic baseline: typical RTT per km of great-circle distance (fibre is ~0.01). */
  readonly msPerKm: number;
  /** RTT floor of the baseline: switching and the metro network. */
  readonly baseMs: number;
  /** Spread of a probe measurement itself, in ms (jitter, queueing). */
  readonly noiseMs: number;
  /** Spread of a route's unknown detour per km of path no measurement covers. */
  readonly detourMsPerKm: number;
  /** How many probe points nearest the renter take part in an estimate. */
  readonly nearProbes: number;
  /** A node without one usable probe is assumed this far over the baseline. */
  readonly unmeasuredExcessMs: number;
  /** A residual further than this from the node's typical one is clipped to it. */
  readonly residualClipMs: number;
  /** Measurements above this are discarded as broken. */
  readonly maxProbeRttMs: number;
  /** Nodes within this distance of the renter describe the renter's own region. */
  readonly regionKm: number;
  /** How many such nodes are needed before the region's detour is trusted. */
  readonly regionMinNodes: number;
  /** Quantile of the region's nodes taken as the region itself (low: its best-connected nodes). */
  readonly regionQuantile: number;
  /** The region's detour assumed when too few nodes near the renter say what it is. */
  readonly regionPriorMs: number;
  /** Distance scale within which a node is local to the renter (their traffic stays regional). */
  readonly localKm: number;
}

export const DEFAULT_RTT_PARAMS: RttModelParams = {
  msPerKm: 0.015,
  baseMs: 2,
  noiseMs: 3,
  detourMsPerKm: 0.004,
  nearProbes: 4,
  unmeasuredExcessMs: 15,
  residualClipMs: 150,
  maxProbeRttMs: 2000,
  regionKm: 200,
  regionMinNodes: 3,
  regionQuantile: 0.2,
  localKm: 250,
  regionPriorMs: 10,
};

/** A light signal round trip covers at most 150 km per ms: anything faster is a broken reading. */
const VACUUM_MS_PER_KM = 1 / 150;
/** No route beats fibre laid on the great circle (~0.01 ms/km round trip); the estimate floor. */
export const FIBRE_MS_PER_KM = 0.0098;
const RAD = Math.PI / 180;

/** The probe points in a fixed order, so a node's measurements can live in a typed array. */
export interface ProbeIndex {
  readonly ids: readonly string[];
  readonly slotOf: ReadonlyMap<string, number>;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
}

export function buildProbeIndex(points: ReadonlyMap<string, LatLon>): ProbeIndex {
  const ids = [...points.keys()].sort();
  const lat = new Float64Array(ids.length);
  const lon = new Float64Array(ids.length);
  const slotOf = new Map<string, number>();
  ids.forEach((id, slot) => {
    const p = points.get(id);
    lat[slot] = p?.lat ?? 0;
    lon[slot] = p?.lon ?? 0;
    slotOf.set(id, slot);
  });
  return { ids, slotOf, lat, lon };
}

/** What a node's measurements say, computed once per heartbeat rather than once per quote. */
export interface NodeRttProfile {
  readonly index: ProbeIndex;
  /** Unit vector of the node's position, for a cheap distance per quote. */
  readonly x: number;
  readonly y: number;
  readonly z: number;
  /** Residual per probe slot: measured RTT minus the baseline; NaN when not usable. */
  readonly residualMs: Float32Array;
  /** The node's typical residual: its last mile and the detours near it. */
  readonly excessMs: number;
  /** Variance (ms²) of excessMs as an estimate of the node's own contribution. */
  readonly excessVar: number;
}

export function unitVector(lat: number, lon: number): [number, number, number] {
  const cl = Math.cos(lat * RAD);
  return [cl * Math.cos(lon * RAD), cl * Math.sin(lon * RAD), Math.sin(lat * RAD)];
}

/** Great-circle km between two points given the difference of their unit vectors. */
export function chordKm(dx: number, dy: number, dz: number): number {
  const chord = Math.sqrt(dx * dx + dy * dy + dz * dz);
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, chord / 2));
}

function detourVar(km: number, p: RttModelParams): number {
  const d = p.detourMsPerKm * km;
  return p.noiseMs * p.noiseMs + d * d;
}

export function profileNode(node: RttNode, index: ProbeIndex, p: RttModelParams = DEFAULT_RTT_PARAMS): NodeRttProfile {
  const residualMs = new Float32Array(index.ids.length).fill(Number.NaN);
  const residuals: number[] = [];
  const weights: number[] = [];
  for (const probe of node.probes) {
    const slot = index.slotOf.get(probe.target);
    if (slot === undefined) continue;
    const km = haversineKm(node.lat, node.lon, index.lat[slot] ?? 0, index.lon[slot] ?? 0);
    const rtt = probe.rttMs;
    if (!Number.isFinite(rtt) || rtt > p.maxProbeRttMs || rtt < km * VACUUM_MS_PER_KM) continue;
    const r = rtt - p.baseMs - p.msPerKm * km;
    residualMs[slot] = r;
    residuals.push(r);
    // The nearer the probe, the more its residual is the node's own and not the route's.
    weights.push(1 / detourVar(km, p));
  }
  const [x, y, z] = unitVector(node.lat, node.lon);
  if (residuals.length === 0) {
    return { index, x, y, z, residualMs, excessMs: p.unmeasuredExcessMs, excessVar: 1e6 };
  }
  const median = weightedMedian(residuals, weights);
  let num = 0;
  let den = 0;
  for (let i = 0; i < residuals.length; i++) {
    const w = weights[i] ?? 0;
    num += w * clip(residuals[i] ?? median, median, p.residualClipMs);
    den += w;
  }
  // Clip the per-probe residuals too: one broken reading must not decide a quote on its own.
  for (let slot = 0; slot < residualMs.length; slot++) {
    const r = residualMs[slot] ?? Number.NaN;
    if (!Number.isNaN(r)) residualMs[slot] = clip(r, median, p.residualClipMs);
  }
  return { index, x, y, z, residualMs, excessMs: num / den, excessVar: 1 / den };
}

function clip(value: number, centre: number, width: number): number {
  return Math.min(centre + width, Math.max(centre - width, value));
}

function weightedMedian(values: readonly number[], weights: readonly number[]): number {
  // A stable insertion sort of the indexes by value (the order Array.prototype.sort gives): a
  // node has a few dozen probes at most, and this runs for every node a quote profiles.
  const order: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    let j = order.length;
    while (j > 0 && (values[order[j - 1] ?? 0] ?? 0) > v) {
      order[j] = order[j - 1] ?? 0;
      j--;
    }
    order[j] = i;
  }
  let half = 0;
  for (const w of weights) half += w / 2;
  let acc = 0;
  for (const i of order) {
    acc += weights[i] ?? 0;
    if (acc >= half) return values[i] ?? 0;
  }
  return values[order[order.length - 1] ?? 0] ?? 0;
}

/** The renter's side of an estimate, computed once per quote. */
export interface ClientView {
  readonly index: ProbeIndex;
  readonly x: number;
  readonly y: number;
  readonly z: number;
  /** Slots of the probe points nearest the renter, and the weight (1/variance) of each. */
  readonly slots: Int32Array;
  readonly weights: Float64Array;
  /** The renter region's detour over the baseline: overall, and towards each of `slots`. */
  readonly regionMs: number;
  readonly regionProbeMs: Float64Array;
}

function quantile(values: number[], q: number): number {
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
}

/** What the nodes around the renter measured: their typical excess, and residuals per probe. */
export interface RegionReadings {
  readonly excessMs: readonly number[];
  residualsAt(slot: number): number[];
}

/** Region readings from node profiles within `p.regionKm` of the renter. */
export function regionFromProfiles(
  client: LatLon,
  profiles: readonly NodeRttProfile[],
  index: ProbeIndex,
  p: RttModelParams = DEFAULT_RTT_PARAMS,
): RegionReadings {
  const [x, y, z] = unitVector(client.lat, client.lon);
  const near = profiles.filter((node) => node.index === index && chordKm(x - node.x, y - node.y, z - node.z) <= p.regionKm);
  return {
    excessMs: near.map((node) => node.excessMs),
    residualsAt: (slot) => near.map((node) => node.residualMs[slot] ?? Number.NaN),
  };
}

const NO_REGION: RegionReadings = { excessMs: [], residualsAt: () => [] };

/**
 * The renter's side of the estimate. `region` holds what nodes around the renter (whatever
 * their status) measured: it shows how the renter's region reaches the probe points, which the
 * renter never measured. Without enough such nodes the region's detour is a prior.
 */
export function clientView(
  client: LatLon,
  index: ProbeIndex,
  p: RttModelParams = DEFAULT_RTT_PARAMS,
  region: RegionReadings = NO_REGION,
): ClientView {
  const n = index.ids.length;
  const km = new Float64Array(n);
  for (let s = 0; s < n; s++) km[s] = haversineKm(client.lat, client.lon, index.lat[s] ?? 0, index.lon[s] ?? 0);
  const slots = Int32Array.from(
    Array.from({ length: n }, (_, s) => s)
      .sort((a, b) => (km[a] ?? 0) - (km[b] ?? 0) || a - b)
      .slice(0, Math.max(0, p.nearProbes)),
  );
  const [x, y, z] = unitVector(client.lat, client.lon);
  const enough = region.excessMs.length >= p.regionMinNodes;
  const regionMs = enough ? quantile([...region.excessMs], p.regionQuantile) : p.regionPriorMs;
  const regionProbeMs = Float64Array.from(slots, (slot) => {
    const seen = region.residualsAt(slot).filter((r) => !Number.isNaN(r));
    return seen.length >= p.regionMinNodes ? quantile(seen, p.regionQuantile) : regionMs;
  });
  return {
    index,
    x,
    y,
    z,
    slots,
    weights: Float64Array.from(slots, (s) => 1 / detourVar(km[s] ?? 0, p)),
    regionMs,
    regionProbeMs,
  };
}

/**
 * The estimate. Each probe point j near the renter gives one reading: the baseline for the
 * renter-node distance plus the node's residual towards j, since the route from the node to the
 * renter shares most of its route to j. The node's own typical excess gives another reading.
 * Each reading is trusted in inverse proportion to its variance, which grows with the length of
 * path it says nothing about: the probe's distance from the renter, or for the node's typical
 * excess, the whole renter-node distance.
 */
export function estimateFromProfile(view: ClientView, node: NodeRttProfile, p: RttModelParams = DEFAULT_RTT_PARAMS): number {
  return estimateAt(view, node.x, node.y, node.z, node.excessMs, node.excessVar, node.residualMs, 0, p);
}

/** The same estimate on a node stored as columns: its residuals start at `offset`. */
export function estimateAt(
  view: ClientView,
  x: number,
  y: number,
  z: number,
  excessMs: number,
  excessVar: number,
  residualMs: Float32Array,
  offset: number,
  p: RttModelParams,
): number {
  const km = chordKm(view.x - x, view.y - y, view.z - z);
  const d = p.detourMsPerKm * km;
  // A node's readings carry its region's detour. A node near the renter shares the renter's
  // region, and their traffic stays inside it: take the region's detour out (side = -1), but
  // never more than the reading holds. A far node's traffic leaves through the renter's region
  // too: add it (side = +1).
  const local = km / p.localKm;
  const side = 1 - 2 * Math.exp(-local * local);
  const lift = side > 0 ? side : 0;
  const drop = side < 0 ? -side : 0;
  let den = 1 / (excessVar + d * d);
  let num = regionAdjusted(excessMs, view.regionMs, lift, drop) * den;
  const slots = view.slots;
  for (let i = 0; i < slots.length; i++) {
    const r = residualMs[offset + (slots[i] ?? 0)] ?? Number.NaN;
    // biome-ignore lint/suspicious/noSelfCompare: false only for NaN (no residual for this slot), on the quote's hot path
    if (r === r) {
      const w = view.weights[i] ?? 0;
      num += w * regionAdjusted(r, view.regionProbeMs[i] ?? 0, lift, drop);
      den += w;
    }
  }
  return Math.max(p.baseMs + p.msPerKm * km + num / den, rttFloorMs(km, p));
}

function regionAdjusted(reading: number, region: number, lift: number, drop: number): number {
  const removable = Math.max(0, Math.min(region, reading));
  return reading + lift * region - drop * removable;
}

/** No estimate goes below this: fibre laid on the great circle, plus half the metro floor. */
export function rttFloorMs(km: number, p: RttModelParams): number {
  return p.baseMs / 2 + FIBRE_MS_PER_KM * km;
}

/** One-off estimate; a quote over many nodes uses profiles and a client view instead. */
export function estimateRttMs(
  client: LatLon,
  node: RttNode,
  probePoints: ReadonlyMap<string, LatLon>,
  p: RttModelParams = DEFAULT_RTT_PARAMS,
): number {
  const index = buildProbeIndex(probePoints);
  return estimateFromProfile(clientView(client, index, p), profileNode(node, index, p), p);
}
