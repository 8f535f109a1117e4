// Routing quality and speed on the seeded synthetic world (./synthetic-world.ts).
// Quality: each renter asks for one of four GPU models, so about a quarter of the nodes are
// eligible; a strategy picks one, and its added latency is its true RTT minus the best eligible node's. Speed: rankCandidates per
// quote over 1k, 10k and 100k eligible nodes, all measured in the same run.

import { haversineKm } from '../../../workers/routing/geo.ts';
import { rankCandidates, type RouteRequest, type RoutingNode } from '../../../workers/routing/rank.ts';
import { buildRoutingTable, type RoutingTable } from '../../../workers/routing/routing-table.ts';
import { DEFAULT_ROUTING_WEIGHTS } from '../../../workers/routing/routing-weights.ts';
import { buildProbeIndex, DEFAULT_RTT_PARAMS, profileNode, type ProbeIndex } from '../../../workers/routing/rtt-model.ts';
import { buildWorld, rng, type World, type WorldNode, type WorldRenter } from './synthetic-world.ts';

export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

export interface RoutingEvalOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly renters: number;
  readonly probes: number;
  /** Candidate counts for the speed rows; empty skips them. */
  readonly timingSizes: readonly number[];
}

export const DEFAULT_EVAL_OPTIONS: RoutingEvalOptions = {
  seed: 20261121,
  nodes: 3000,
  renters: 600,
  probes: 24,
  timingSizes: [1_000, 10_000, 100_000],
};

export type Strategy = 'nearest' | 'model' | 'oracle' | 'random';
export const STRATEGIES: readonly Strategy[] = ['nearest', 'model', 'oracle', 'random'];

export interface AddedLatency {
  readonly mean: number;
  readonly p90: number;
}

/** Four models, one per node: a renter asking for one of them can use about a quarter of nodes. */
export const WORLD_MODELS = ['RTX 4090', 'RTX 3090', 'A100 80GB', 'H100 80GB'] as const;

export function toRoutingNode(node: WorldNode, index: ProbeIndex, model: string = 'RTX 4090'): RoutingNode {
  return {
    id: node.id,
    status: 'online',
    suspended: false,
    location: { lat: node.lat, lon: node.lon },
    gpus: [{ model, vramMb: 81_920, count: 2 }],
    pricePerGpuHour: 1_000_000n,
    reputation: 1,
    uptime: 1,
    stake: 0n,
    probes: node.probes,
    // Profiles are built when heartbeats arrive, not per quote.
    rttProfile: profileNode({ lat: node.lat, lon: node.lon, probes: node.probes }, index),
  };
}

const REQUEST_GPU = { model: 'RTX 4090', count: 1 } as const;

function summarize(values: number[]): AddedLatency {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))] ?? 0;
  return { mean, p90 };
}

/**
 * Mean and p90 added latency (ms over the best eligible node) of each strategy. Each renter asks
 * for one of WORLD_MODELS; rankCandidates sees the whole registry and filters it itself, so the
 * nodes of other models still tell it how the renter's region is connected.
 */
export function addedLatency(world: World, options: RoutingEvalOptions): Record<Strategy, AddedLatency> {
  const index = buildProbeIndex(world.probePoints);
  const pick = rng(options.seed ^ 0x5eed);
  const modelOf = world.nodes.map(() => Math.floor(pick() * WORLD_MODELS.length));
  const registry = buildRoutingTable(
    world.nodes.map((n, i) => toRoutingNode(n, index, WORLD_MODELS[modelOf[i] ?? 0])),
    index,
    DEFAULT_RTT_PARAMS,
  );
  const added: Record<Strategy, number[]> = { nearest: [], model: [], oracle: [], random: [] };
  for (const renter of world.renters) {
    const wanted = Math.floor(pick() * WORLD_MODELS.length);
    const ids: number[] = [];
    for (let i = 0; i < world.nodes.length; i++) if (modelOf[i] === wanted) ids.push(i);
    if (ids.length === 0) continue;
    const rtt = (i: number) => world.rtt(renter, world.nodes[i] as WorldNode);
    const km = (i: number) => {
      const n = world.nodes[i] as WorldNode;
      return haversineKm(renter.lat, renter.lon, n.lat, n.lon);
    };
    const argmin = (f: (i: number) => number) => ids.reduce((best, i) => (f(i) < f(best) ? i : best));
    const best = rtt(argmin(rtt));
    const request: RouteRequest = {
      gpu: { model: WORLD_MODELS[wanted], count: 1 },
      client: { lat: renter.lat, lon: renter.lon },
    };
    const chosenId = rankCandidates(request, registry, index, DEFAULT_ROUTING_WEIGHTS, 1)[0]?.nodeId;
    const modelPick = ids.find((i) => world.nodes[i]?.id === chosenId) ?? (ids[0] as number);
    added.oracle.push(0);
    added.nearest.push(rtt(argmin(km)) - best);
    added.model.push(rtt(modelPick) - best);
    added.random.push(rtt(ids[Math.floor(pick() * ids.length)] as number) - best);
  }
  return {
    nearest: summarize(added.nearest),
    model: summarize(added.model),
    oracle: summarize(added.oracle),
    random: summarize(added.random),
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export interface QuoteTime {
  readonly size: number;
  /** rankCandidates over a RoutingTable kept between quotes (the registry in memory). */
  readonly tableMs: number;
  /** rankCandidates over a node list with stored profiles (table built inside the call). */
  readonly listMs: number;
}

/** Median milliseconds of one rankCandidates call (limit 10) over `size` eligible nodes. */
export function quoteTimes(options: RoutingEvalOptions): QuoteTime[] {
  const largest = Math.max(0, ...options.timingSizes);
  if (largest === 0) return [];
  const world = buildWorld({ ...options, nodes: largest, renters: 64 });
  const index = buildProbeIndex(world.probePoints);
  const routed = world.nodes.map((n) => toRoutingNode(n, index));
  const time = (nodes: readonly RoutingNode[] | RoutingTable, repeats: number) => {
    const samples: number[] = [];
    for (let k = 0; k < repeats + 2; k++) {
      const renter = world.renters[k % world.renters.length] as WorldRenter;
      const request: RouteRequest = { gpu: REQUEST_GPU, client: { lat: renter.lat, lon: renter.lon } };
      const t0 = performance.now();
      rankCandidates(request, nodes, index, DEFAULT_ROUTING_WEIGHTS, 10);
      if (k >= 2) samples.push(performance.now() - t0); // the first two warm the JIT
    }
    return median(samples);
  };
  return options.timingSizes.map((size) => {
    const list = routed.slice(0, size);
    const table = buildRoutingTable(list, index, DEFAULT_RTT_PARAMS);
    const repeats = size >= 100_000 ? 15 : 31;
    return { size, tableMs: time(table, repeats), listMs: time(list, size >= 100_000 ? 5 : 11) };
  });
}

/** The bench rows: routing quality of each strategy, then the quote times. */
export function runRoutingEval(overrides: Partial<RoutingEvalOptions> = {}): BenchRow[] {
  const options = { ...DEFAULT_EVAL_OPTIONS, ...overrides };
  const world = buildWorld(options);
  const quality = addedLatency(world, options);
  const rows: BenchRow[] = [];
  for (const strategy of STRATEGIES) {
    rows.push({ name: `routing.added_latency.mean.${strategy}`, value: quality[strategy].mean, unit: 'ms' });
    rows.push({ name: `routing.added_latency.p90.${strategy}`, value: quality[strategy].p90, unit: 'ms' });
  }
  const times = quoteTimes(options);
  const base = times[0];
  for (const { size, tableMs, listMs } of times) {
    rows.push({ name: `routing.quote_time.table.${size}`, value: tableMs, unit: 'ms' });
    rows.push({ name: `routing.quote_time.table.${size}_vs_${base?.size}`, value: tableMs / (base?.tableMs ?? NaN), unit: 'x' });
    rows.push({ name: `routing.quote_time.list.${size}`, value: listMs, unit: 'ms' });
    rows.push({ name: `routing.quote_time.list.${size}_vs_${base?.size}`, value: listMs / (base?.listMs ?? NaN), unit: 'x' });
  }
  return rows;
}
