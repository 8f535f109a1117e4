// The gateway's routing decision per request (workers/endpoints/route-request.ts with the
// gateway's per-isolate observations), pure CPU in Node: the caller's view from its location,
// the rotation filter, and the ranking of an endpoint's ready replicas by expected time to first
// byte. Goal: under 0.2 ms per request. 3 and 50 replicas in the same run, and their ratio.
import type { BenchRow } from '../bench-table.ts';
import { callerView, rankReplicas, type RouteReplica } from '../../../workers/endpoints/route-request.ts';
import { ReplicaObservations } from '../../../workers/gateway/replica-observations.ts';
import { geoCell, haversineKm } from '../../../workers/routing/geo.ts';
import { buildProbeIndex, profileNode } from '../../../workers/routing/rtt-model.ts';
import { CITIES } from '../routing/world-cities.ts';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Median ms per routing decision over `requests` callers, after a warm-up. */
function measure(replicaCount: number, requests: number, seed: number): number {
  const rand = seeded(seed);
  // 24 probe points at the hubs, as the routing bench's world has.
  const probes = new Map(
    CITIES.filter((c) => c.hub)
      .slice(0, 24)
      .map((c) => [c.name, { lat: c.lat, lon: c.lon }]),
  );
  const index = buildProbeIndex(probes);
  const pick = () => CITIES[Math.floor(rand() * CITIES.length)]!;
  const replicas: RouteReplica[] = Array.from({ length: replicaCount }, (_, i) => {
    const city = pick();
    const samples = [...probes].map(([target, p]) => ({
      target,
      rttMs: 3 + 0.017 * haversineKm(city.lat, city.lon, p.lat, p.lon) + rand() * 10,
    }));
    return { replicaId: `rep_${i}`, nodeId: `node_${i}`, profile: profileNode({ lat: city.lat, lon: city.lon, probes: samples }, index) };
  });
  const seen = new ReplicaObservations();
  // A warm isolate: some load, learned TTFBs from the callers' cells, one replica out of rotation.
  const callers = Array.from({ length: requests }, () => {
    const c = pick();
    return { lat: c.lat + (rand() - 0.5), lon: c.lon + (rand() - 0.5) };
  });
  for (const r of replicas) if (rand() < 0.5) seen.started(r.replicaId);
  for (const c of callers.slice(0, 200))
    for (const r of replicas) if (rand() < 0.3) seen.measured(geoCell(c.lat, c.lon), r.replicaId, 80 + rand() * 200, 30);
  seen.failed('rep_0', Date.now());
  const samples: number[] = [];
  let sink = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const caller of callers) {
      const t0 = performance.now();
      const now = Date.now();
      const view = callerView(caller, index);
      const candidates = replicas.filter((r) => seen.inRotation(r.replicaId, now));
      const ranked = rankReplicas(candidates, view, seen);
      sink += ranked[0]?.expectedMs ?? 0;
      if (pass === 1) samples.push(performance.now() - t0); // the first pass warms the JIT
    }
  }
  if (sink < 0) console.log(sink);
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export function endpointRouteBench(): BenchRow[] {
  const requests = 5_000;
  const three = measure(3, requests, 11);
  const fifty = measure(50, requests, 11);
  const note = `median of ${requests} callers, goal < 0.2 ms`;
  return [
    { name: 'endpoints.route_decision.3_replicas', value: three, unit: 'ms', note },
    { name: 'endpoints.route_decision.50_replicas', value: fifty, unit: 'ms', note },
    { name: 'endpoints.route_decision.50_vs_3', value: fifty / three, unit: 'x', note: 'same run' },
  ];
}
