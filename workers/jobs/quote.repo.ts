import type { Db } from '../app-env.ts';
import type { CandidateRow } from '../routing/quote-rank.ts';
import type { LatLon } from '../routing/geo.ts';

// The I/O side of a quote, queries only: the candidate rows of one ring around the renter (only
// the requested catalogue models, at most ROWS_PER_PAIR rows per (model, cell) — the best by the
// renter-independent route rank kept on node_gpus (workers/routing/route-rank.ts) — plus, with
// the first ring, a sample near the renter), the cells that hold nodes, and the probe points.
// quote.service.ts runs the reads; workers/routing/quote-rank.ts decides. Every figure of D1
// work is D1's own `meta.rows_read`.

/**
 * K: rows read per (model, cell) pair and ring. A quote returns at most 50 candidates and places
 * a job on one of the best 5; within one 5° cell (~550 km) the renter's distance moves the
 * latency estimate by a few ms, so the few best-ranked nodes of a cell hold the cell's winners.
 * See workers/jobs/README.md "Quotes" for the measurement behind the value.
 */
export const ROWS_PER_PAIR = 8;

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
export function d1RingFetcher(db: Db): RingFetcher {
  const d1 = db.$client;
  return async (ring) => {
    const statement = (sqlText: string, cells: readonly string[], k: number) =>
      d1.prepare(sqlText).bind(JSON.stringify(ring.models), JSON.stringify(cells), ring.count, ring.minVramMb, ring.cap, k);
    const statements = [statement(CANDIDATES_SQL, ring.cells, ring.k)];
    if (ring.regionCells.length > 0) statements.push(statement(NEAR_SQL, ring.regionCells, NEAR_PER_PAIR));
    const results = await d1.batch<CandidateRow>(statements);
    return {
      rows: results.flatMap((r) => r.results),
      rowsRead: results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0),
    };
  };
}

/**
 * The cells that hold nodes (geo_cells_used), per isolate for CELLS_TTL_MS: beyond the renter's
 * own ring a quote asks D1 only about these. A node in a cell new to the network is quoted from
 * afar once an isolate's copy expires (and at once by renters near it).
 */
let cellsCache: { at: number; cells: ReadonlySet<string>; db: Db } | null = null;
const CELLS_TTL_MS = 10_000;

export async function usedCells(db: Db, nowMs: number): Promise<{ cells: ReadonlySet<string>; rowsRead: number }> {
  if (cellsCache && cellsCache.db === db && nowMs - cellsCache.at < CELLS_TTL_MS && nowMs >= cellsCache.at)
    return { cells: cellsCache.cells, rowsRead: 0 };
  const result = await db.$client.prepare('SELECT geo_cell AS cell FROM geo_cells_used').all<{ cell: string }>();
  cellsCache = { at: nowMs, cells: new Set(result.results.map((r) => r.cell)), db };
  return { cells: cellsCache.cells, rowsRead: result.meta.rows_read ?? 0 };
}

/** Probe points change rarely; one read per isolate every few seconds keeps the routing index warm too. */
let probeCache: { at: number; points: ReadonlyMap<string, LatLon>; db: Db } | null = null;
const PROBE_TTL_MS = 10_000;

export async function probePointMap(db: Db, nowMs: number): Promise<{ points: ReadonlyMap<string, LatLon>; rowsRead: number }> {
  if (probeCache && probeCache.db === db && nowMs - probeCache.at < PROBE_TTL_MS) return { points: probeCache.points, rowsRead: 0 };
  const result = await db.$client.prepare('SELECT id, lat, lon FROM probe_points').all<{ id: string; lat: number; lon: number }>();
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
