import type { Db } from '../app-env.ts';

// Development only (jobs-dev.app.ts): synthetic nodes written straight into D1 for the quote bench.

export interface SeedNodeRow {
  id: string;
  lat: number;
  lon: number;
  country: string;
  cell: string;
  pricePerGpuHour: number;
  registeredAt: number;
  onlineMs: number;
  probes: string;
  reputation: number;
  stakeTotal: number;
  eligible: 0 | 1;
  excess: number | null;
}

export interface SeedGpuRow {
  nodeId: string;
  model: string;
  canonicalModel: string;
  vramMb: number;
  count: number;
  cell: string;
}

/** Nodes and their GPUs in one batch, each list as one JSON parameter (json_each: no 100-parameter limit). */
export async function seedNodes(db: Db, nodes: SeedNodeRow[], gpus: SeedGpuRow[], nowMs: number): Promise<void> {
  const d1 = db.$client;
  await d1.batch([
    d1
      .prepare(
        `INSERT OR REPLACE INTO nodes (id, owner, name, status, simulated, lat, lon, country, geo_cell, price_per_gpu_hour, agent_version,
         registered_at, updated_at, last_seen_at, online_ms, probes, reputation, suspended, stake_total, verified_at, eligible, rtt_excess_ms)
       SELECT v ->> 'id', '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU', 'seed', 'online', 1, v ->> 'lat', v ->> 'lon', v ->> 'country',
         v ->> 'cell', v ->> 'pricePerGpuHour', '0.0.0', v ->> 'registeredAt', ?2, ?2, v ->> 'onlineMs', v ->> 'probes', v ->> 'reputation', 0,
         v ->> 'stakeTotal', ?2, v ->> 'eligible', v ->> 'excess'
       FROM (SELECT value AS v FROM json_each(?1))`,
      )
      .bind(JSON.stringify(nodes), nowMs),
    d1
      .prepare(
        `INSERT OR REPLACE INTO node_gpus (node_id, model, canonical_model, vram_mb, count, simulated, geo_cell)
       SELECT v ->> 'nodeId', v ->> 'model', v ->> 'canonicalModel', v ->> 'vramMb', v ->> 'count', 1, v ->> 'cell'
       FROM (SELECT value AS v FROM json_each(?1))`,
      )
      .bind(JSON.stringify(gpus)),
  ]);
}
