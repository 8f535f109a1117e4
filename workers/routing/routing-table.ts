// The registry as columns: one typed array per field, so a quote over 100,000 nodes reads
// contiguous memory instead of chasing 100,000 objects. Build it when the registry or the probe
// points change (registration, heartbeat folds), not per quote. A row's RTT columns (excess,
// residuals) are filled from the node's profile on first use (`fill`): the ranker prunes most
// rows by distance before it estimates them, and a profile not yet computed (a quote's candidate
// rows, parsed from D1) is most of what a row costs.

import type { LatLon } from './geo.ts';
import { profileNode, unitVector, type NodeRttProfile, type ProbeIndex, type ProbeSample, type RttModelParams } from './rtt-model.ts';

export interface RoutingGpu {
  /** Catalogue name ("RTX 4090"), or the reported name for a model the catalogue lacks. */
  readonly model: string;
  readonly vramMb: number;
  readonly count: number;
  /** GPUs of this group already committed to running jobs. */
  readonly committed?: number;
}

export interface NodeLocation extends LatLon {
  readonly country?: string;
}

export interface RoutingNode {
  readonly id: string;
  readonly status: string;
  readonly suspended: boolean;
  readonly location: NodeLocation;
  readonly gpus: readonly RoutingGpu[];
  readonly pricePerGpuHour: bigint;
  /** 0..1 */
  readonly reputation: number;
  /** 0..1 */
  readonly uptime: number;
  /** Base units staked on the node (own and delegated). */
  readonly stake: bigint;
  readonly probes: readonly ProbeSample[];
  /**
   * From profileNode at heartbeat time; recomputed when absent or built for other probe points.
   * Read only when the ranker needs the node's estimate, so it may be a getter that computes it.
   */
  readonly rttProfile?: NodeRttProfile;
}

export interface RoutingTable {
  readonly index: ProbeIndex;
  readonly size: number;
  readonly ids: readonly string[];
  readonly locations: readonly NodeLocation[];
  readonly prices: readonly bigint[];
  /** 1 when online and not suspended. */
  readonly available: Uint8Array;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly z: Float64Array;
  readonly priceNum: Float64Array;
  readonly stakeNum: Float64Array;
  readonly reputation: Float64Array;
  readonly uptime: Float64Array;
  /** GPU groups of node i are gpuStart[i] .. gpuStart[i + 1] - 1. */
  readonly gpuStart: Int32Array;
  /** Index into modelNames. */
  readonly gpuModel: Int32Array;
  readonly gpuVramMb: Float64Array;
  readonly gpuFree: Int32Array;
  readonly modelNames: readonly string[];
  /** Filled for row i once `profiled[i]` is 1 (call `fill(i)` first). */
  readonly excessMs: Float64Array;
  readonly excessVar: Float64Array;
  /** Row i (index.ids.length wide) holds node i's residual per probe slot; NaN = none. */
  readonly residualMs: Float32Array;
  /** 1 once row i's excess and residuals are filled. */
  readonly profiled: Uint8Array;
  /** Fills row i's excess and residuals from its node's profile (computing it if needed). */
  readonly fill: (i: number) => void;
}

export function buildRoutingTable(nodes: readonly RoutingNode[], index: ProbeIndex, params: RttModelParams): RoutingTable {
  const n = nodes.length;
  const width = index.ids.length;
  const f64 = () => new Float64Array(n);
  const t = {
    lat: f64(),
    lon: f64(),
    x: f64(),
    y: f64(),
    z: f64(),
    priceNum: f64(),
    stakeNum: f64(),
    reputation: f64(),
    uptime: f64(),
    excessMs: f64(),
    excessVar: f64(),
  };
  const available = new Uint8Array(n);
  const residualMs = new Float32Array(n * width);
  const profiled = new Uint8Array(n);
  const fill = (i: number): void => {
    const node = nodes[i];
    if (profiled[i] === 1 || node === undefined) return;
    const { lat, lon } = node.location;
    const given = node.rttProfile;
    const profile = given?.index === index ? given : profileNode({ lat, lon, probes: node.probes }, index, params);
    t.excessMs[i] = profile.excessMs;
    t.excessVar[i] = profile.excessVar;
    residualMs.set(profile.residualMs, i * width);
    profiled[i] = 1;
  };
  const gpuStart = new Int32Array(n + 1);
  const gpuModel: number[] = [];
  const gpuVramMb: number[] = [];
  const gpuFree: number[] = [];
  const modelNames: string[] = [];
  const modelIds = new Map<string, number>();
  nodes.forEach((node, i) => {
    const { lat, lon } = node.location;
    const [x, y, z] = unitVector(lat, lon);
    t.lat[i] = lat;
    t.lon[i] = lon;
    t.x[i] = x;
    t.y[i] = y;
    t.z[i] = z;
    available[i] = node.status === 'online' && !node.suspended ? 1 : 0;
    t.priceNum[i] = Number(node.pricePerGpuHour);
    t.stakeNum[i] = Number(node.stake);
    t.reputation[i] = node.reputation;
    t.uptime[i] = node.uptime;
    gpuStart[i] = gpuModel.length;
    for (const g of node.gpus) {
      let id = modelIds.get(g.model);
      if (id === undefined) {
        id = modelNames.push(g.model) - 1;
        modelIds.set(g.model, id);
      }
      gpuModel.push(id);
      gpuVramMb.push(g.vramMb);
      gpuFree.push(Math.max(0, g.count - (g.committed ?? 0)));
    }
  });
  gpuStart[n] = gpuModel.length;
  return {
    index,
    size: n,
    ids: nodes.map((node) => node.id),
    locations: nodes.map((node) => node.location),
    prices: nodes.map((node) => node.pricePerGpuHour),
    available,
    ...t,
    gpuStart,
    gpuModel: Int32Array.from(gpuModel),
    gpuVramMb: Float64Array.from(gpuVramMb),
    gpuFree: Int32Array.from(gpuFree),
    modelNames,
    residualMs,
    profiled,
    fill,
  };
}
