import { describe, expect, it } from 'vitest';
import {
  callerView,
  learnExcess,
  rankReplicas,
  UNKNOWN_CELL,
  type RouteObservations,
  type RouteReplica,
} from '../../../workers/endpoints/route-request.ts';
import { buildProbeIndex, profileNode } from '../../../workers/routing/rtt-model.ts';
import { geoCell, haversineKm } from '../../../workers/routing/geo.ts';

// The gateway's ranking of an endpoint's replicas, on real RTT-model profiles: nodes in Paris,
// Tokyo and New York, probe points near each, probes measured at the geographic baseline.

const PROBES = new Map([
  ['p-paris', { lat: 48.9, lon: 2.4 }],
  ['p-frankfurt', { lat: 50.1, lon: 8.7 }],
  ['p-tokyo', { lat: 35.7, lon: 139.7 }],
  ['p-nyc', { lat: 40.7, lon: -74.0 }],
  ['p-sf', { lat: 37.8, lon: -122.4 }],
]);
const index = buildProbeIndex(PROBES);

const CITIES = {
  paris: { lat: 48.86, lon: 2.35 },
  tokyo: { lat: 35.68, lon: 139.69 },
  newYork: { lat: 40.71, lon: -74.01 },
  london: { lat: 51.51, lon: -0.13 },
};

function replica(replicaId: string, at: { lat: number; lon: number }, extraMs = 0): RouteReplica {
  // Each probe reading is the model's baseline for the distance plus the node's access line.
  const probes = [...PROBES].map(([target, p]) => ({ target, rttMs: 2 + 0.015 * haversineKm(at.lat, at.lon, p.lat, p.lon) + 1 + extraMs }));
  return { replicaId, nodeId: `node-${replicaId}`, profile: profileNode({ ...at, probes }, index) };
}

function observations(inflight: Record<string, number> = {}, excess: Record<string, number> = {}): RouteObservations {
  return {
    inflight: (id) => inflight[id] ?? 0,
    excessMs: (cell, id) => excess[`${cell}|${id}`],
  };
}

const replicas = [replica('rep-tokyo', CITIES.tokyo), replica('rep-nyc', CITIES.newYork), replica('rep-paris', CITIES.paris)];
const order = (ranked: { replica: RouteReplica }[]) => ranked.map((r) => r.replica.replicaId);

describe('rankReplicas', () => {
  it('puts the replica nearest the caller first, from each of three places', () => {
    expect(order(rankReplicas(replicas, callerView(CITIES.london, index), observations()))[0]).toBe('rep-paris');
    expect(order(rankReplicas(replicas, callerView(CITIES.tokyo, index), observations()))[0]).toBe('rep-tokyo');
    expect(order(rankReplicas(replicas, callerView(CITIES.newYork, index), observations()))).toEqual(['rep-nyc', 'rep-paris', 'rep-tokyo']);
  });

  it('gives the same order whatever order the replicas come in', () => {
    const caller = callerView(CITIES.london, index);
    expect(order(rankReplicas([...replicas].reverse(), caller, observations()))).toEqual(
      order(rankReplicas(replicas, caller, observations())),
    );
  });

  it('moves a replica down as requests pile up on it, and back when they finish', () => {
    const caller = callerView(CITIES.london, index);
    const [first, second] = rankReplicas(replicas, caller, observations());
    // Enough open requests on the nearest to outweigh the RTT gap to the second.
    const busy = Math.ceil((second!.expectedMs - first!.expectedMs) / 25) + 1;
    expect(order(rankReplicas(replicas, caller, observations({ 'rep-paris': busy })))[0]).toBe('rep-nyc');
    expect(order(rankReplicas(replicas, caller, observations({ 'rep-paris': busy - 2 })))[0]).toBe('rep-paris');
  });

  it('a replica whose measured time to first byte is high loses its first place', () => {
    const caller = callerView(CITIES.london, index);
    const cell = geoCell(CITIES.london.lat, CITIES.london.lon);
    expect(order(rankReplicas(replicas, caller, observations()))[0]).toBe('rep-paris');
    // Paris answers in 400 ms beyond its RTT from London, New York in 40: the server behind Paris is slow in practice.
    let paris: number | undefined;
    let nyc: number | undefined;
    const rtt = Object.fromEntries(rankReplicas(replicas, caller, observations()).map((r) => [r.replica.replicaId, r.rttMs]));
    for (let i = 0; i < 20; i++) {
      paris = learnExcess(paris, rtt['rep-paris']! + 400, rtt['rep-paris']!);
      nyc = learnExcess(nyc, rtt['rep-nyc']! + 40, rtt['rep-nyc']!);
    }
    const learned = observations({}, { [`${cell}|rep-paris`]: paris!, [`${cell}|rep-nyc`]: nyc! });
    expect(order(rankReplicas(replicas, caller, learned))).toEqual(['rep-nyc', 'rep-tokyo', 'rep-paris']);
    // What was learned from London does not move callers in Tokyo.
    expect(order(rankReplicas(replicas, callerView(CITIES.tokyo, index), learned))[0]).toBe('rep-tokyo');
  });

  it('assumes an unmeasured replica takes what its measured peers take, so measuring one moves nothing', () => {
    const caller = callerView(CITIES.london, index);
    const cell = geoCell(CITIES.london.lat, CITIES.london.lon);
    // Only the nearest was measured, at a server time of 300 ms: it stays first.
    const ranked = rankReplicas(replicas, caller, observations({}, { [`${cell}|rep-paris`]: 300 }));
    expect(order(ranked)).toEqual(['rep-paris', 'rep-nyc', 'rep-tokyo']);
    expect(ranked[1]!.expectedMs - ranked[1]!.rttMs).toBe(300);
  });

  it('without a caller location, load and measured excess decide, ties by replica id', () => {
    const caller = callerView(null, index);
    expect(caller.cell).toBe(UNKNOWN_CELL);
    expect(order(rankReplicas(replicas, caller, observations()))).toEqual(['rep-nyc', 'rep-paris', 'rep-tokyo']);
    expect(order(rankReplicas(replicas, caller, observations({ 'rep-nyc': 1 })))).toEqual(['rep-paris', 'rep-tokyo', 'rep-nyc']);
  });

  it('ranks nothing when no replica is given', () => {
    expect(rankReplicas([], callerView(CITIES.paris, index), observations())).toEqual([]);
  });
});

describe('learnExcess', () => {
  it('starts at the first sample, moves a fifth of the way towards each next one, and never goes below zero', () => {
    expect(learnExcess(undefined, 130, 30)).toBe(100);
    expect(learnExcess(100, 230, 30)).toBe(120);
    expect(learnExcess(undefined, 10, 30)).toBe(0);
  });
});
