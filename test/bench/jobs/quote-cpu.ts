// The quote's own CPU time, D1 left out: the real quote code (quoteWith in
// workers/jobs/quote.service.ts: rings, profiles, ranking, stop rule) over an in-memory registry
// that answers each ring exactly as the D1 pre-filter does — the K best rows per (model, cell) by
// the route rank (routeRank, the formula the SQL triggers keep). Runs in Node, where timers move
// during CPU work (inside workerd they only move on I/O, so a Worker cannot time itself).
// Same synthetic world, seed and model draw as quote-scale.ts, so the candidate sets match the
// D1 bench's; it also reports routing quality, so K can be chosen here in seconds.
import { geoCell, haversineKm } from '../../../workers/routing/geo.ts';
import { DEFAULT_ROUTING_WEIGHTS } from '../../../workers/routing/routing-weights.ts';
import { buildProbeIndex } from '../../../workers/routing/rtt-model.ts';
import { nodeRttExcess, routeRank } from '../../../workers/routing/route-rank.ts';
import type { CandidateRow } from '../../../workers/routing/quote-rank.ts';
import { NEAR_PER_PAIR, ROWS_PER_PAIR, type RingFetcher } from '../../../workers/jobs/quote.repo.ts';
import { quoteWith } from '../../../workers/jobs/quote.service.ts';
import type { BenchRow } from '../bench-table.ts';
import { buildWorld, rng } from '../routing/synthetic-world.ts';
import { REPORTED, WORLD_MODELS } from './quote-scale.ts';

export interface CpuPoint {
  nodes: number;
  k: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
  medianCandidates: number;
  meanAddedMs: number;
  p90AddedMs: number;
  nearestMeanAddedMs: number;
  /** Renters at uniformly random points (oceans, deserts: far from every node), after the others. */
  anywhere: { medianMs: number; p90Ms: number; medianCandidates: number };
}

/**
 * Quotes served before the measured ones, by more renters of the same world (drawn after the
 * measured ones, so those stay quote-scale.ts's) with models of their own stream: an isolate that
 * has served a little traffic. With 5 warm-up quotes of one model the p90 of 100 measured quotes
 * was mostly the JIT compiling the ranker (quiet machine, 100k nodes: p90 2.1 ms, 0.8 ms over 300).
 */
const WARMUP_QUOTES = 50;
/** Renters anywhere on the globe: their rings widen to the world, the quote's worst case. */
const ANYWHERE_QUOTES = 50;

const probeId = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
const pct = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

/** One entry per (model, cell): the rows of that pair, best route rank first. */
function pairIndex(rows: { row: CandidateRow; rank: number }[]): Map<string, CandidateRow[]> {
  const byPair = new Map<string, { row: CandidateRow; rank: number }[]>();
  for (const r of rows) {
    const key = `${r.row.canonical}|${geoCell(r.row.lat, r.row.lon)}`;
    const list = byPair.get(key) ?? [];
    list.push(r);
    byPair.set(key, list);
  }
  return new Map([...byPair].map(([key, list]) => [key, list.sort((a, b) => a.rank - b.rank).map((r) => r.row)]));
}

function memoryFetcher(byRank: Map<string, CandidateRow[]>, byId: Map<string, CandidateRow[]>): RingFetcher {
  return async (ring) => {
    const rows: CandidateRow[] = [];
    const take = (index: Map<string, CandidateRow[]>, cells: readonly string[], k: number) => {
      for (const model of ring.models) {
        for (const cell of cells) {
          let taken = 0;
          for (const row of index.get(`${model}|${cell}`) ?? []) {
            if (taken >= k) break;
            if (row.count - row.committed < ring.count || row.vram < ring.minVramMb || row.price > ring.cap) continue;
            rows.push(row);
            taken++;
          }
        }
      }
    };
    take(byRank, ring.cells, ring.k);
    take(byId, ring.regionCells, NEAR_PER_PAIR);
    return { rows, rowsRead: 0 };
  };
}

export async function quoteCpu(options: { seed: number; sizes: number[]; renters: number; k?: number }): Promise<CpuPoint[]> {
  const k = options.k ?? ROWS_PER_PAIR;
  const max = Math.max(...options.sizes);
  const world = buildWorld({ seed: options.seed, nodes: max, renters: options.renters + WARMUP_QUOTES, probes: 24 });
  const renters = world.renters.slice(0, options.renters);
  const warmupRenters = world.renters.slice(options.renters);
  const probePoints = new Map([...world.probePoints].map(([id, p]) => [probeId(id), p]));
  const probeIndex = buildProbeIndex(probePoints);
  const pick = rng(options.seed ^ 0x5eed);
  const modelOf = world.nodes.map(() => Math.floor(pick() * WORLD_MODELS.length));
  const now = Date.now();
  const all = world.nodes.map((n, i) => {
    const canonical = WORLD_MODELS[modelOf[i] ?? 0]!;
    const probes = n.probes.filter((p) => Number.isFinite(p.rttMs)).map((p) => ({ target: probeId(p.target), rttMs: p.rttMs }));
    const excess = nodeRttExcess({ lat: n.lat, lon: n.lon, probes }, probeIndex);
    const row: CandidateRow = {
      id: n.id,
      model: REPORTED[canonical]!.model,
      canonical,
      vram: REPORTED[canonical]!.vramMb,
      count: 2,
      committed: 0,
      lat: n.lat,
      lon: n.lon,
      country: 'ZZ',
      price: 1_000_000,
      reputation: 1,
      onlineMs: 86_400_000,
      registeredAt: now - 86_400_000,
      probes: JSON.stringify(probes),
      stake: 400_000_000,
    };
    const rank = routeRank({
      status: 'online',
      eligible: true,
      suspended: false,
      free: 2,
      rttExcessMs: excess,
      pricePerGpuHour: row.price,
      reputation: 1,
      onlineMs: row.onlineMs,
      lastSeenAt: now,
      registeredAt: row.registeredAt,
      stakeTotal: row.stake,
    });
    return { row, rank, node: n };
  });
  const points: CpuPoint[] = [];
  for (const size of [...options.sizes].sort((a, b) => a - b)) {
    const byRank = pairIndex(all.slice(0, size));
    const byId = new Map([...byRank].map(([key, list]) => [key, [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))]));
    const fetch = memoryFetcher(byRank, byId);
    // The cells that hold nodes, as quoteCandidates passes them (geo_cells_used): outer rings ask
    // only about those.
    const cells: ReadonlySet<string> = new Set(all.slice(0, size).map((e) => geoCell(e.row.lat, e.row.lon)));
    const times: number[] = [];
    const considered: number[] = [];
    const added: number[] = [];
    const nearestAdded: number[] = [];
    // Warm-up, as a Worker isolate serving quotes would be.
    const warm = rng(options.seed ^ 0x3a7e);
    const quoteAt = (client: { lat: number; lon: number }, model: string) =>
      quoteWith(
        fetch,
        probePoints,
        DEFAULT_ROUTING_WEIGHTS,
        { models: [model], minVramMb: 0, count: 1, maxPricePerGpuHour: null, client, limit: 10, cells },
        now,
        k,
      );
    for (const renter of warmupRenters) await quoteAt(renter, WORLD_MODELS[Math.floor(warm() * WORLD_MODELS.length)]!);
    for (const renter of renters) {
      const wanted = Math.floor(pick() * WORLD_MODELS.length);
      const result = await quoteWith(
        fetch,
        probePoints,
        DEFAULT_ROUTING_WEIGHTS,
        {
          models: [WORLD_MODELS[wanted]!],
          minVramMb: 0,
          count: 1,
          maxPricePerGpuHour: null,
          client: { lat: renter.lat, lon: renter.lon },
          limit: 10,
          cells,
        },
        now,
        k,
      );
      times.push(result.computeMs);
      considered.push(result.nodesConsidered);
      const eligible = all
        .slice(0, size)
        .filter((_, i) => modelOf[i] === wanted)
        .map((e) => e.node);
      const chosen = eligible.find((n) => n.id === result.candidates[0]?.nodeId);
      if (eligible.length === 0 || !chosen) continue;
      const best = Math.min(...eligible.map((n) => world.rtt(renter, n)));
      added.push(world.rtt(renter, chosen) - best);
      const nearest = eligible.reduce((a, b) =>
        haversineKm(renter.lat, renter.lon, a.lat, a.lon) <= haversineKm(renter.lat, renter.lon, b.lat, b.lon) ? a : b,
      );
      nearestAdded.push(world.rtt(renter, nearest) - best);
    }
    points.push({
      nodes: size,
      k,
      medianMs: pct(times, 0.5),
      p90Ms: pct(times, 0.9),
      maxMs: Math.max(...times),
      medianCandidates: pct(considered, 0.5),
      meanAddedMs: added.reduce((s, v) => s + v, 0) / Math.max(1, added.length),
      p90AddedMs: pct(added, 0.9),
      nearestMeanAddedMs: nearestAdded.reduce((s, v) => s + v, 0) / Math.max(1, nearestAdded.length),
      anywhere: await anywhereQuotes(warm, quoteAt),
    });
  }
  return points;
}

/** The worst case: renters at uniformly random points, most of them far from every node. */
async function anywhereQuotes(
  draw: () => number,
  quoteAt: (client: { lat: number; lon: number }, model: string) => ReturnType<typeof quoteWith>,
): Promise<CpuPoint['anywhere']> {
  const times: number[] = [];
  const considered: number[] = [];
  for (let q = 0; q < ANYWHERE_QUOTES; q++) {
    const client = { lat: (Math.asin(2 * draw() - 1) * 180) / Math.PI, lon: -180 + draw() * 360 };
    const result = await quoteAt(client, WORLD_MODELS[Math.floor(draw() * WORLD_MODELS.length)]!);
    times.push(result.computeMs);
    considered.push(result.nodesConsidered);
  }
  return { medianMs: pct(times, 0.5), p90Ms: pct(times, 0.9), medianCandidates: pct(considered, 0.5) };
}

export function cpuRows(points: CpuPoint[]): BenchRow[] {
  return points.flatMap((p) => [
    {
      name: `quote CPU, ${p.nodes.toLocaleString('en-US')} nodes`,
      value: p.medianMs,
      unit: 'ms',
      note: `median of the quote's own code (D1 excluded), K ${p.k}; p90 ${p.p90Ms.toFixed(2)} ms, max ${p.maxMs.toFixed(2)} ms; ${p.medianCandidates} nodes considered (median); renters anywhere on the globe: ${p.anywhere.medianMs.toFixed(2)} ms median, p90 ${p.anywhere.p90Ms.toFixed(2)} ms, ${p.anywhere.medianCandidates} nodes considered`,
    },
    {
      name: `quote CPU, ${p.nodes.toLocaleString('en-US')} nodes: added latency`,
      value: p.meanAddedMs,
      unit: 'ms',
      note: `same candidate sets; p90 ${p.p90AddedMs.toFixed(1)} ms; nearest-geographic ${p.nearestMeanAddedMs.toFixed(1)} ms`,
    },
  ]);
}
