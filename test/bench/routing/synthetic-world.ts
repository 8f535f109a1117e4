// A seeded synthetic Internet for judging routing: RTT is the shortest path over a graph of
// cities, where hubs are joined by backbone and subsea links with their own detours, ordinary
// cities hang off one or two hubs (so two neighbouring cities without local peering hairpin
// through a hub), some cities only reach the world through another continent, some links are
// slow, and every node adds its own access link: datacentre, home broadband, a poor residential
// line, or an ISP that backhauls its customers to a distant hub.

import { seededRandom } from '../../support/seeded-random.ts';
import { haversineKm } from '../../../workers/routing/geo.ts';
import type { ProbeSample } from '../../../workers/routing/rtt-model.ts';
import { BACKBONE, CITIES, type City, type Region } from './world-cities.ts';

export interface WorldOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly renters: number;
  /** Probe points, placed in cities (mostly hubs). */
  readonly probes: number;
}

export type AccessKind = 'datacentre' | 'home' | 'poor' | 'backhauled';

export interface WorldNode {
  readonly id: string;
  readonly lat: number;
  readonly lon: number;
  readonly city: number;
  readonly kind: AccessKind;
  /** Where the node's traffic enters the city graph, and what it costs to get there (ms). */
  readonly attach: number;
  readonly accessMs: number;
  readonly probes: ProbeSample[];
}

export interface WorldRenter {
  readonly lat: number;
  readonly lon: number;
  readonly city: number;
}

export interface World {
  readonly cities: readonly City[];
  readonly probePoints: Map<string, { lat: number; lon: number }>;
  readonly nodes: WorldNode[];
  readonly renters: WorldRenter[];
  /** True RTT between a renter and a node, in ms (the renter's own access link left out). */
  rtt(renter: WorldRenter, node: WorldNode): number;
}

export type { Rng } from '../../support/seeded-random.ts';
import type { Rng } from '../../support/seeded-random.ts';

export const rng: (seed: number) => Rng = seededRandom;

function gaussian(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function uniform(r: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * r();
}

const FIBRE_KM_PER_MS = 200;
const HOP_MS = 0.3;
const METRO_MS = 1;
/** Regions whose ordinary cities may also buy transit from a neighbouring continent's hubs. */
const UPSTREAM: Record<Region, readonly Region[]> = {
  na: ['na'],
  sa: ['sa', 'na'],
  eu: ['eu'],
  af: ['af', 'eu'],
  me: ['me', 'eu'],
  as: ['as'],
  oc: ['oc'],
};

function linkMs(a: City, b: City, inflation: number): number {
  return (2 * haversineKm(a.lat, a.lon, b.lat, b.lon) * inflation) / FIBRE_KM_PER_MS + HOP_MS;
}

/** All-pairs RTT over the city graph (Floyd-Warshall; the graph has ~90 vertices). */
function buildPaths(r: Rng): Float64Array {
  const n = CITIES.length;
  const idx = new Map(CITIES.map((city, i) => [city.name, i]));
  const dist = new Float64Array(n * n).fill(Number.POSITIVE_INFINITY);
  const link = (i: number, j: number, ms: number) => {
    // A few links are slow: congested transit, an old cable, a bad peering port.
    const cost = r() < 0.08 ? ms + uniform(r, 10, 35) : ms;
    if (cost < (dist[i * n + j] ?? Infinity)) dist[i * n + j] = dist[j * n + i] = cost;
  };
  for (const [a, b, inflation] of BACKBONE) {
    const i = idx.get(a) ?? -1;
    const j = idx.get(b) ?? -1;
    const ca = CITIES[i];
    const cb = CITIES[j];
    if (ca && cb) link(i, j, linkMs(ca, cb, inflation));
  }
  CITIES.forEach((city, i) => {
    dist[i * n + i] = METRO_MS;
    if (city.hub) return;
    const hubs = CITIES.map((h, j) => ({ h, j }))
      .filter(({ h }) => h.hub && UPSTREAM[city.region].includes(h.region))
      .map(({ h, j }) => ({ j, km: haversineKm(city.lat, city.lon, h.lat, h.lon), h }))
      .sort((a, b) => a.km - b.km);
    // Mostly the nearest hub; sometimes the transit contract is with a farther one.
    const first = hubs[r() < 0.75 ? 0 : Math.min(1, hubs.length - 1)];
    const poor = r() < 0.2;
    if (first) link(i, first.j, linkMs(city, first.h, poor ? uniform(r, 2, 3) : uniform(r, 1.2, 1.8)));
    const second = hubs.find((h) => h.j !== first?.j);
    if (second && r() < 0.5) link(i, second.j, linkMs(city, second.h, uniform(r, 1.3, 2)));
    // Local peering with a neighbour: without it, traffic to the neighbour hairpins via a hub.
    if (r() < 0.35) {
      const peer = CITIES.map((p, j) => ({ j, p, km: haversineKm(city.lat, city.lon, p.lat, p.lon) }))
        .filter(({ p, j, km }) => j !== i && !p.hub && p.region === city.region && km < 1000)
        .sort((a, b) => a.km - b.km)[0];
      if (peer) link(i, peer.j, linkMs(city, peer.p, uniform(r, 1.2, 1.5)));
    }
  });
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const ik = dist[i * n + k] ?? Infinity;
      if (ik === Infinity) continue;
      for (let j = 0; j < n; j++) {
        const via = ik + (dist[k * n + j] ?? Infinity);
        if (via < (dist[i * n + j] ?? Infinity)) dist[i * n + j] = via;
      }
    }
  }
  return dist;
}

function pickCity(r: Rng, total: number): number {
  let x = r() * total;
  for (let i = 0; i < CITIES.length; i++) {
    x -= CITIES[i]?.weight ?? 0;
    if (x <= 0) return i;
  }
  return CITIES.length - 1;
}

function jitter(r: Rng, city: City, deg: number): { lat: number; lon: number } {
  return { lat: city.lat + uniform(r, -deg, deg), lon: city.lon + uniform(r, -deg, deg) };
}

export function buildWorld(options: WorldOptions): World {
  const r = rng(options.seed);
  const n = CITIES.length;
  const paths = buildPaths(r);
  const path = (i: number, j: number) => paths[i * n + j] ?? Infinity;
  const totalWeight = CITIES.reduce((s, city) => s + city.weight, 0);

  const hubIds = CITIES.map((city, i) => (city.hub ? i : -1)).filter((i) => i >= 0);
  const otherIds = CITIES.map((city, i) => (city.hub ? -1 : i)).filter((i) => i >= 0);
  const shuffle = (ids: number[]) =>
    ids
      .map((id) => ({ id, k: r() }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.id);
  const hubShare = Math.round(options.probes * 0.75);
  const probeCities = [...shuffle(hubIds).slice(0, hubShare), ...shuffle(otherIds).slice(0, options.probes - hubShare)];
  const probePoints = new Map<string, { lat: number; lon: number }>();
  for (const i of probeCities) {
    const city = CITIES[i];
    if (city) probePoints.set(city.name, { lat: city.lat, lon: city.lon });
  }

  const nodes: WorldNode[] = [];
  for (let k = 0; k < options.nodes; k++) {
    const cityIdx = pickCity(r, totalWeight);
    const city = CITIES[cityIdx] as City;
    const at = jitter(r, city, 0.3);
    const roll = r();
    const kind: AccessKind = roll < 0.35 ? 'datacentre' : roll < 0.8 ? 'home' : roll < 0.92 ? 'poor' : 'backhauled';
    let attach = cityIdx;
    let accessMs: number;
    if (kind === 'datacentre') accessMs = uniform(r, 0.3, 1.5);
    else if (kind === 'home') accessMs = 3 + Math.exp(1.2 + 0.6 * gaussian(r));
    else if (kind === 'poor') accessMs = uniform(r, 15, 50);
    else {
      const far = hubIds.filter((h) => {
        const hub = CITIES[h] as City;
        const km = haversineKm(city.lat, city.lon, hub.lat, hub.lon);
        return h !== cityIdx && km > 300 && km < 2500;
      });
      attach = far.length > 0 ? (far[Math.floor(r() * far.length)] ?? cityIdx) : cityIdx;
      const hub = CITIES[attach] as City;
      accessMs = uniform(r, 2, 8) + linkMs(city, hub, 1.4);
    }
    const probes: ProbeSample[] = [];
    for (const target of probeCities) {
      if (r() < 0.1) continue;
      const truth = accessMs + path(attach, target);
      let rttMs = truth * (1 + 0.04 * gaussian(r)) + Math.abs(gaussian(r));
      if (r() < 0.02) rttMs = [0, -5, Number.NaN, 99_999, truth / 20][Math.floor(r() * 5)] ?? 0;
      probes.push({ target: CITIES[target]?.name ?? '', rttMs });
    }
    nodes.push({ id: `node-${String(k).padStart(6, '0')}`, ...at, city: cityIdx, kind, attach, accessMs, probes });
  }

  const renters: WorldRenter[] = [];
  for (let k = 0; k < options.renters; k++) {
    const cityIdx = pickCity(r, totalWeight);
    renters.push({ ...jitter(r, CITIES[cityIdx] as City, 0.25), city: cityIdx });
  }

  return {
    cities: CITIES,
    probePoints,
    nodes,
    renters,
    rtt: (renter, node) => node.accessMs + path(node.attach, renter.city),
  };
}
