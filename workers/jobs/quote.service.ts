import type { Db } from '../app-env.ts';
import type { LatLon } from '../routing/geo.ts';
import {
  regionCells,
  ringCells,
  RING_RADII_KM,
  RowRanking,
  settledAfterRing,
  type QuoteQuery,
  type RankedRows,
} from '../routing/quote-rank.ts';
import type { RankedCandidate } from '../routing/rank.ts';
import type { RoutingWeights } from '../routing/routing-weights.ts';
import type { CandidateGpu } from './allocation.ts';
import { d1RingFetcher, ROWS_PER_PAIR, usedCells, type RingFetcher } from './quote.repo.ts';

// A quote: read, then rank. Each ring's rows are read in one D1 batch (quote.repo.ts), at most
// RING_RADII_KM.length rings; after each read one pure pass (workers/routing/quote-rank.ts) ranks
// every row read so far, and the stop rule says whether a wider ring could still change the
// answer. At 100,000 nodes three quotes in four read one ring. No ranking code here and no SQL
// there: this file only runs the reads and hands the rows over.

export type { QuoteQuery };

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

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export async function quoteCandidates(
  db: Db,
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
  const result: QuoteResult = { candidates: [], gpusOf: new Map(), rowsRead: 0, queries: 0, rings: 0, nodesConsidered: 0, computeMs: 0 };
  if (query.models.length === 0) return result;
  const cap = Number(query.maxPricePerGpuHour === null || query.maxPricePerGpuHour > MAX_SAFE ? MAX_SAFE : query.maxPricePerGpuHour);
  const ranking = new RowRanking(probePoints, weights, query, nowMs);
  let ranked: RankedRows = { candidates: [], rowsOf: new Map(), nodesConsidered: 0 };
  for (let r = 0; r < RING_RADII_KM.length; r++) {
    let mark = performance.now();
    const cells = ringCells(query, r);
    const near = r === 0 ? regionCells(query.client) : [];
    result.computeMs += performance.now() - mark;
    if (cells.length === 0) continue;
    const read = await fetchRing({
      models: query.models,
      cells,
      minVramMb: query.minVramMb,
      count: query.count,
      cap,
      k,
      regionCells: near,
    });
    result.rowsRead += read.rowsRead;
    result.queries++;
    result.rings++;
    mark = performance.now();
    ranking.add(read.rows);
    ranked = ranking.rank();
    const settled = settledAfterRing(ranked.candidates, r, query.limit, weights);
    result.computeMs += performance.now() - mark;
    if (settled) break;
  }
  result.candidates = ranked.candidates;
  result.nodesConsidered = ranked.nodesConsidered;
  for (const [id, groups] of ranked.rowsOf) {
    result.gpusOf.set(
      id,
      groups.map((g) => ({ model: g.model, canonical: g.canonical, vramMb: g.vram, count: g.count, committed: g.committed })),
    );
  }
  return result;
}
