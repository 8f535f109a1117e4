import type { Db } from '../app-env.ts';

// The set-based reads behind the network summary. Three statements in one D1 batch (one round
// trip), each a single pass over online nodes: their cost grows with the number of nodes, never
// with the number of requests, because the result is cached (summary-cache.ts).

/** Online nodes grouped by country and by 1° cell, real and simulated apart. */
export interface CellRow {
  country: string;
  simulated: number;
  clat: number;
  clon: number;
  nodes: number;
  gpus: number;
  sum_lat: number;
  sum_lon: number;
}

/** Online GPUs per canonical model, with the median price over those GPUs (base units). */
export interface ModelRow {
  model: string;
  gpus: number;
  simulated_gpus: number;
  nodes: number;
  median_lo: number;
  median_hi: number;
}

export interface StatusRow {
  status: string;
  nodes: number;
}

const CELLS_SQL = `
  SELECT n.country, n.simulated,
         CAST(n.lat + 90 AS INTEGER) AS clat, CAST(n.lon + 180 AS INTEGER) AS clon,
         count(*) AS nodes, sum(g.gpus) AS gpus, sum(n.lat) AS sum_lat, sum(n.lon) AS sum_lon
  FROM nodes n
  JOIN (SELECT node_id, sum(count) AS gpus FROM node_gpus GROUP BY node_id) g ON g.node_id = n.id
  WHERE n.status = 'online'
  GROUP BY n.country, n.simulated, clat, clon`;

// Real GPUs rank before simulated ones. The median is over GPUs, not nodes: an 8-GPU node offers eight GPU-hours at its price. The two
// middle GPUs (the same one when the count is odd) are found with a running sum per model.
const MODELS_SQL = `
  WITH offers AS (
    SELECT g.canonical_model AS model, n.price_per_gpu_hour AS price,
           sum(g.count) AS gpus, sum(CASE WHEN g.simulated THEN g.count ELSE 0 END) AS simulated_gpus,
           count(DISTINCT n.id) AS nodes
    FROM node_gpus g JOIN nodes n ON n.id = g.node_id
    WHERE n.status = 'online'
    GROUP BY g.canonical_model, n.price_per_gpu_hour
  ), ranked AS (
    SELECT *, sum(gpus) OVER (PARTITION BY model ORDER BY price ROWS UNBOUNDED PRECEDING) AS cum,
              sum(gpus) OVER (PARTITION BY model) AS total
    FROM offers
  )
  SELECT model, max(total) AS gpus, sum(simulated_gpus) AS simulated_gpus, sum(nodes) AS nodes,
         min(CASE WHEN cum >= (total + 1) / 2 THEN price END) AS median_lo,
         min(CASE WHEN cum >= total / 2 + 1 THEN price END) AS median_hi
  FROM ranked GROUP BY model
  ORDER BY max(total) - sum(simulated_gpus) DESC, max(total) DESC, model`;

// Counted from the (status, id) index alone.
const STATUS_SQL = `SELECT status, count(*) AS nodes FROM nodes GROUP BY status`;

export async function readSummaryRows(db: Db): Promise<{ cells: CellRow[]; models: ModelRow[]; statuses: StatusRow[] }> {
  const d1 = db.$client;
  const [cells, models, statuses] = await d1.batch<Record<string, unknown>>([
    d1.prepare(CELLS_SQL),
    d1.prepare(MODELS_SQL),
    d1.prepare(STATUS_SQL),
  ]);
  return {
    cells: cells!.results as unknown as CellRow[],
    models: models!.results as unknown as ModelRow[],
    statuses: statuses!.results as unknown as StatusRow[],
  };
}
