import { describe, expect, it } from 'vitest';
import { cellsNear, geoCell, haversineKm, type LatLon } from '../../../workers/routing/geo.ts';
import {
  bestScoreBeyond,
  rankRows,
  ringCells,
  RowRanking,
  RING_RADII_KM,
  settledAfterRing,
  type CandidateRow,
  type QuoteQuery,
} from '../../../workers/routing/quote-rank.ts';
import { rankCandidates, type RoutingNode } from '../../../workers/routing/rank.ts';
import { buildRoutingTable } from '../../../workers/routing/routing-table.ts';
import { DEFAULT_ROUTING_WEIGHTS, RoutingWeightsSchema } from '../../../workers/routing/routing-weights.ts';
import { buildProbeIndex, DEFAULT_RTT_PARAMS, profileNode } from '../../../workers/routing/rtt-model.ts';
import { seededRandom } from '../../support/seeded-random.ts';

// The pure side of a quote (workers/routing/quote-rank.ts): each ring is computed on its own and
// is exactly the old "cells within this radius that no earlier ring holds"; ranking the rows read
// profiles only the nodes the ranker estimates, and gives what ranking every node with its
// profile computed up front gives.

const RENTERS: LatLon[] = [
  { lat: 48.85, lon: 2.35 },
  { lat: -17.7, lon: 179.5 },
  { lat: 64.1, lon: -21.9 },
  { lat: -33.9, lon: 151.2 },
  { lat: 0, lon: 0 },
];

describe('ringCells', () => {
  it('is each radius minus the one before, nearest first, later rings only where nodes are', () => {
    for (const client of RENTERS) {
      // As geo_cells_used holds them, with a node of unknown location ('') and a malformed id.
      const used = new Set([...cellsNear(client.lat, client.lon, 20_100).filter((_, i) => i % 3 === 0), '', '99:x']);
      for (let r = 0; r < RING_RADII_KM.length; r++) {
        const inner = r === 0 ? new Set<string>() : new Set(cellsNear(client.lat, client.lon, RING_RADII_KM[r - 1]!));
        const expected = cellsNear(client.lat, client.lon, RING_RADII_KM[r]!).filter((c) => !inner.has(c));
        expect(ringCells({ client }, r)).toEqual(expected);
        // The renter's own ring is asked in full; further ones only where nodes are.
        expect(ringCells({ client, cells: used }, r)).toEqual(r === 0 ? expected : expected.filter((c) => used.has(c)));
      }
      expect(ringCells({ client }, 0)).toContain(geoCell(client.lat, client.lon));
      expect(ringCells({ client }, RING_RADII_KM.length)).toEqual([]);
    }
  });
});

const PROBES = new Map<string, LatLon>(
  Array.from({ length: 12 }, (_, i) => [`p${i}`, { lat: 35 + (i % 4) * 5, lon: -10 + Math.floor(i / 4) * 12 }] as const),
);

function rowsAround(seed: number, n: number): CandidateRow[] {
  const pick = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const lat = 38 + pick() * 20;
    const lon = -8 + pick() * 30;
    const probes = [...PROBES.keys()].filter(() => pick() < 0.7).map((target) => ({ target, rttMs: 2 + pick() * 60 }));
    return {
      id: `node${String(i).padStart(4, '0')}`,
      model: 'NVIDIA GeForce RTX 4090',
      canonical: 'RTX 4090',
      vram: 24_564,
      count: 1 + Math.floor(pick() * 4),
      committed: 0,
      lat,
      lon,
      country: 'ZZ',
      price: 500_000 + Math.floor(pick() * 2_000_000),
      reputation: pick(),
      onlineMs: Math.floor(pick() * 86_400_000),
      registeredAt: 0,
      // Some nodes with probes that do not parse: they rank as unmeasured.
      probes: i % 17 === 0 ? 'not json' : JSON.stringify(probes),
      stake: Math.floor(pick() * 4e9),
    };
  });
}

describe('rankRows', () => {
  it('ranks as rankCandidates does over every node profiled up front', () => {
    const nowMs = 86_400_000;
    const rows = rowsAround(7, 400);
    const index = buildProbeIndex(PROBES);
    const eager: RoutingNode[] = rows.map((row) => {
      const probes = row.probes === 'not json' ? [] : (JSON.parse(row.probes) as { target: string; rttMs: number }[]);
      return {
        id: row.id,
        status: 'online',
        suspended: false,
        location: { lat: row.lat, lon: row.lon, country: row.country },
        gpus: [{ model: row.canonical, vramMb: row.vram, count: row.count, committed: row.committed }],
        pricePerGpuHour: BigInt(row.price),
        reputation: row.reputation,
        uptime: Math.min(1, row.onlineMs / nowMs),
        stake: BigInt(row.stake),
        probes,
        rttProfile: profileNode({ lat: row.lat, lon: row.lon, probes }, index, DEFAULT_RTT_PARAMS),
      };
    });
    const latencyHeavy = RoutingWeightsSchema.parse({ ...DEFAULT_ROUTING_WEIGHTS, latency: 5, stakeHalfBaseUnits: '1000000000' });
    for (const client of [RENTERS[0]!, { lat: 45, lon: 10 }, { lat: 55, lon: 20 }]) {
      for (const weights of [DEFAULT_ROUTING_WEIGHTS, latencyHeavy]) {
        for (const count of [1, 3]) {
          const query: QuoteQuery = {
            models: ['RTX 4090'],
            minVramMb: 0,
            count,
            maxPricePerGpuHour: 2_000_000n,
            client,
            limit: 10,
            exclude: new Set(['node0003']),
          };
          const got = rankRows(rows, PROBES, weights, query, nowMs);
          // Every row's RTT columns filled before ranking: nothing left to fill on demand.
          const table = buildRoutingTable(
            eager.filter((n) => n.id !== 'node0003'),
            index,
            DEFAULT_RTT_PARAMS,
          );
          for (let i = 0; i < table.size; i++) table.fill(i);
          const want = rankCandidates({ gpu: { count }, maxPricePerGpuHour: 2_000_000n, client }, table, index, weights, 10);
          expect(got.candidates).toEqual(want);
          expect(got.candidates.length).toBeGreaterThan(0);
          expect(got.nodesConsidered).toBe(399);
          expect([...got.rowsOf.keys()]).toEqual(want.map((c) => c.nodeId));
        }
      }
    }
  });

  it("ranked ring by ring, keeping the renter's view from the first ring, gives the one-pass ranking of every row", () => {
    const nowMs = 86_400_000;
    const rows = rowsAround(11, 600);
    for (const client of [
      { lat: 48, lon: 5 },
      { lat: 52, lon: 13 },
      { lat: 40, lon: -3 },
    ]) {
      const query: QuoteQuery = { models: ['RTX 4090'], minVramMb: 0, count: 2, maxPricePerGpuHour: null, client, limit: 10 };
      // Rings as the quote reads them: everything within the first ring's radius first (the
      // renter's 200 km region lies inside it), then the rest in two more reads.
      const km = (r: CandidateRow) => haversineKm(client.lat, client.lon, r.lat, r.lon);
      const rings = [
        rows.filter((r) => km(r) <= RING_RADII_KM[0]),
        rows.filter((r) => km(r) > RING_RADII_KM[0] && km(r) <= 1200),
        rows.filter((r) => km(r) > 1200),
      ];
      expect(rings.every((ring) => ring.length > 0)).toBe(true);
      const ranking = new RowRanking(PROBES, DEFAULT_ROUTING_WEIGHTS, query, nowMs);
      let got = ranking.rank();
      for (const ring of rings) {
        ranking.add(ring);
        got = ranking.rank();
      }
      const want = rankRows(rings.flat(), PROBES, DEFAULT_ROUTING_WEIGHTS, query, nowMs);
      expect(got.candidates).toEqual(want.candidates);
      expect(got.candidates.length).toBe(10);
      expect(got.nodesConsidered).toBe(600);
    }
  });

  it('merges a node read twice (ranked and sampled near the renter) into one candidate', () => {
    const [row] = rowsAround(3, 1);
    const other = { ...row!, model: 'RTX 4090 (second group)', count: 2 };
    const got = rankRows(
      [row!, row!, other],
      PROBES,
      DEFAULT_ROUTING_WEIGHTS,
      { models: ['RTX 4090'], minVramMb: 0, count: 1, maxPricePerGpuHour: null, client: RENTERS[0]!, limit: 5 },
      86_400_000,
    );
    expect(got.nodesConsidered).toBe(1);
    expect(got.rowsOf.get(row!.id)).toEqual([row, other]);
  });
});

describe('settledAfterRing', () => {
  it('stops when the last kept score beats any node beyond the ring, and always after the last ring', () => {
    const w = DEFAULT_ROUTING_WEIGHTS;
    const at = (score: number) => ({ nodeId: 'n', pricePerGpuHour: 1n, estRttMs: 1, score, location: { lat: 0, lon: 0 } });
    const beyond = bestScoreBeyond(RING_RADII_KM[0], w);
    expect(settledAfterRing([at(1), at(beyond)], 0, 2, w)).toBe(true);
    expect(settledAfterRing([at(1), at(beyond - 1e-9)], 0, 2, w)).toBe(false);
    // Fewer than `limit` found: a wider ring may add more.
    expect(settledAfterRing([at(1)], 0, 2, w)).toBe(false);
    expect(settledAfterRing([], RING_RADII_KM.length - 1, 2, w)).toBe(true);
    // Further rings have lower bounds.
    expect(bestScoreBeyond(RING_RADII_KM[1], w)).toBeLessThan(beyond);
  });
});
