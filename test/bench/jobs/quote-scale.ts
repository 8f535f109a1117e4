// Quote time, D1 rows read and routing quality at 1k / 10k / 100k nodes, through the real
// POST /v1/quotes path. Portable: `http` is either fetch against the local stack (npm run bench)
// or the Worker's own fetch inside workerd (test/worker/jobs-quote-scale.test.ts), so the same
// code measures both. Nodes come from the routing engineer's synthetic world and are written
// straight into D1 by the development-only seeding route.
import { haversineKm } from '../../../workers/routing/geo.ts';
import type { BenchRow } from '../bench-table.ts';
import { buildWorld, rng, type World, type WorldNode } from '../routing/synthetic-world.ts';

export type Http = (path: string, init?: RequestInit) => Promise<Response>;

export const WORLD_MODELS = ['RTX 4090', 'RTX 3090', 'A100 80GB', 'H100 80GB'] as const;
export const REPORTED: Record<string, { model: string; vramMb: number }> = {
  'RTX 4090': { model: 'NVIDIA GeForce RTX 4090', vramMb: 24_564 },
  'RTX 3090': { model: 'NVIDIA GeForce RTX 3090', vramMb: 24_576 },
  'A100 80GB': { model: 'NVIDIA A100 80GB PCIe', vramMb: 81_920 },
  'H100 80GB': { model: 'NVIDIA H100 80GB HBM3', vramMb: 81_559 },
};

export interface ScaleOptions {
  seed: number;
  sizes: number[];
  quotesPerSize: number;
  adminToken: string;
  /** Prefix of seeded node ids, so several runs can share one database. */
  prefix?: string;
}

export interface ScalePoint {
  nodes: number;
  medianMs: number;
  p90Ms: number;
  medianRowsRead: number;
  maxRowsRead: number;
  meanAddedMs: number;
  p90AddedMs: number;
  nearestMeanAddedMs: number;
}

/** Probe ids as the API accepts them (the synthetic world names them after cities). */
const probeId = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

const pct = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

export async function seedWorld(
  http: Http,
  world: World,
  from: number,
  to: number,
  modelOf: number[],
  options: ScaleOptions,
): Promise<void> {
  const prefix = options.prefix ?? 'w';
  const batch = 1000;
  for (let start = from; start < to; start += batch) {
    const nodes = world.nodes.slice(start, Math.min(to, start + batch)).map((n, k) => {
      const canonical = WORLD_MODELS[modelOf[start + k] ?? 0]!;
      return {
        id: `${prefix}${n.id}`,
        lat: n.lat,
        lon: n.lon,
        country: 'ZZ',
        pricePerGpuHour: 1_000_000,
        reputation: 1,
        onlineMs: 86_400_000,
        // Eligible as staking requires: 2 GPUs × the default 200 tokens per GPU.
        stakeTotal: 400_000_000,
        eligible: true,
        probes: n.probes.filter((p) => Number.isFinite(p.rttMs)).map((p) => ({ target: probeId(p.target), rttMs: p.rttMs })),
        gpus: [{ ...REPORTED[canonical]!, canonicalModel: canonical, count: 2 }],
      };
    });
    await ok(
      await http('/v1/dev/jobs/seed-nodes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nodes }),
      }),
      'seed nodes',
    );
  }
}

/** Runs the quote bench; returns one ScalePoint per size (the registry grows between sizes). */
export async function quoteScale(http: Http, options: ScaleOptions): Promise<ScalePoint[]> {
  const max = Math.max(...options.sizes);
  const world = buildWorld({ seed: options.seed, nodes: max, renters: options.quotesPerSize, probes: 24 });
  for (const [id, p] of world.probePoints) {
    await ok(
      await http(`/v1/admin/probes/${probeId(id)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.adminToken}` },
        body: JSON.stringify({ lat: p.lat, lon: p.lon }),
      }),
      'probe point',
    );
  }
  const pick = rng(options.seed ^ 0x5eed);
  const modelOf = world.nodes.map(() => Math.floor(pick() * WORLD_MODELS.length));
  const prefix = options.prefix ?? 'w';
  const points: ScalePoint[] = [];
  let seeded = 0;
  for (const size of [...options.sizes].sort((a, b) => a - b)) {
    await seedWorld(http, world, seeded, size, modelOf, options);
    seeded = size;
    const times: number[] = [];
    const rows: number[] = [];
    const added: number[] = [];
    const nearestAdded: number[] = [];
    for (const renter of world.renters) {
      const wanted = Math.floor(pick() * WORLD_MODELS.length);
      const body = JSON.stringify({
        gpu: { model: WORLD_MODELS[wanted], count: 1 },
        durationS: 3600,
        client: { lat: renter.lat, lon: renter.lon },
        limit: 10,
      });
      const started = performance.now();
      const res = await ok(await http('/v1/quotes', { method: 'POST', headers: { 'content-type': 'application/json' }, body }), 'quote');
      const json = (await res.json()) as { candidates: { nodeId: string }[]; meta: { rowsRead: number } };
      times.push(performance.now() - started);
      rows.push(json.meta.rowsRead);
      // Quality: true RTT of the node the quote ranks first, over the best eligible node's.
      const eligible: WorldNode[] = [];
      for (let i = 0; i < size; i++) if (modelOf[i] === wanted) eligible.push(world.nodes[i]!);
      const chosen = json.candidates[0]?.nodeId;
      if (eligible.length === 0 || !chosen) continue;
      const byId = eligible.find((n) => `${prefix}${n.id}` === chosen);
      const best = Math.min(...eligible.map((n) => world.rtt(renter, n)));
      if (byId) added.push(world.rtt(renter, byId) - best);
      const nearest = eligible.reduce((a, b) =>
        haversineKm(renter.lat, renter.lon, a.lat, a.lon) <= haversineKm(renter.lat, renter.lon, b.lat, b.lon) ? a : b,
      );
      nearestAdded.push(world.rtt(renter, nearest) - best);
    }
    points.push({
      nodes: size,
      medianMs: pct(times, 0.5),
      p90Ms: pct(times, 0.9),
      medianRowsRead: pct(rows, 0.5),
      maxRowsRead: Math.max(...rows),
      meanAddedMs: added.reduce((s, v) => s + v, 0) / Math.max(1, added.length),
      p90AddedMs: pct(added, 0.9),
      nearestMeanAddedMs: nearestAdded.reduce((s, v) => s + v, 0) / Math.max(1, nearestAdded.length),
    });
  }
  return points;
}

export function scaleRows(points: ScalePoint[], where: string): BenchRow[] {
  return points.flatMap((p) => [
    {
      name: `quote, ${p.nodes.toLocaleString('en-US')} nodes: median time`,
      value: p.medianMs,
      unit: 'ms',
      note: `${where}; p90 ${p.p90Ms.toFixed(1)} ms; includes D1 I/O`,
    },
    {
      name: `quote, ${p.nodes.toLocaleString('en-US')} nodes: D1 rows read`,
      value: p.medianRowsRead,
      unit: 'rows',
      note: `median; max ${p.maxRowsRead} (D1 meta.rows_read)`,
    },
    {
      name: `quote, ${p.nodes.toLocaleString('en-US')} nodes: added latency`,
      value: p.meanAddedMs,
      unit: 'ms',
      note: `mean over the best eligible node; p90 ${p.p90AddedMs.toFixed(1)} ms; nearest-geographic ${p.nearestMeanAddedMs.toFixed(1)} ms`,
    },
  ]);
}
