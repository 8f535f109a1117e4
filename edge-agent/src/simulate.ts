// Declared GPUs for development hosts without NVIDIA hardware. Everything reported from here is
// marked simulated, so the network never mistakes it for real capacity.
import { canonicalGpuModel, GPU_CATALOG, type CanonicalGpu } from '../../protocol/gpu-catalog.ts';
import { AgentError } from './errors.ts';
import { describeInventory, type GpuInventoryEntry, type GpuMetric, type GpuSnapshot, type GpuSource } from './gpu-source.ts';

export interface SimulatedModel {
  /** The catalogue key, e.g. "RTX 4090". */
  key: string;
  /** The name nvidia-smi reports for this board. */
  model: string;
  vramMb: number;
  idleW: number;
  maxW: number;
}

/**
 * What nvidia-smi and the power sensor would say for boards we know well. Every other model of
 * the network's catalogue (protocol/gpu-catalog.ts, the one list of models) can be
 * simulated too, with a generic name and a power range from its tier.
 */
const BOARDS: Record<string, { model: string; vramMb: number; idleW: number; maxW: number }> = {
  'RTX 4090': { model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, idleW: 20, maxW: 450 },
  'RTX 3090': { model: 'NVIDIA GeForce RTX 3090', vramMb: 24576, idleW: 25, maxW: 350 },
  'A100 80GB': { model: 'NVIDIA A100 80GB PCIe', vramMb: 81920, idleW: 45, maxW: 300 },
  'A100 40GB': { model: 'NVIDIA A100-PCIE-40GB', vramMb: 40960, idleW: 35, maxW: 250 },
  'H100 80GB': { model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, idleW: 70, maxW: 700 },
  L40S: { model: 'NVIDIA L40S', vramMb: 46068, idleW: 35, maxW: 350 },
  A10: { model: 'NVIDIA A10', vramMb: 23028, idleW: 15, maxW: 150 },
  L4: { model: 'NVIDIA L4', vramMb: 23034, idleW: 12, maxW: 72 },
  T4: { model: 'Tesla T4', vramMb: 15360, idleW: 10, maxW: 70 },
};

function simulatedModel(gpu: CanonicalGpu): SimulatedModel {
  const board = BOARDS[gpu.name];
  if (board) return { key: gpu.name, ...board };
  const maxW = 100 + 150 * gpu.tier;
  return { key: gpu.name, model: `NVIDIA ${gpu.name}`, vramMb: gpu.vramMb, idleW: Math.round(maxW / 10), maxW };
}

export function knownSimulatedModels(): string {
  return GPU_CATALOG.map((m) => m.name).join(', ');
}

const MAX_SIMULATED_PER_MODEL = 64;

export interface SimulatedGpuGroup {
  spec: SimulatedModel;
  count: number;
}

/** Parses "RTX 4090x2" or "H100x8,A100 80GBx1"; a missing count means one. */
export function parseSimulateSpec(spec: string): SimulatedGpuGroup[] {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) {
    throw new AgentError(
      'bad_simulate_spec',
      `--simulate-gpus is empty; expected e.g. "RTX 4090x2". Known models: ${knownSimulatedModels()}`,
    );
  }
  const groups: SimulatedGpuGroup[] = [];
  for (const part of parts) {
    if (part === '') throw new AgentError('bad_simulate_spec', `--simulate-gpus "${spec}" has an empty entry`);
    const match = /^(.*?)\s*(?:[x×]\s*(\d+))?$/i.exec(part)!;
    const name = match[1]!;
    const count = match[2] === undefined ? 1 : Number(match[2]);
    const gpu = canonicalGpuModel(name);
    if (!gpu) {
      throw new AgentError(
        'unknown_simulated_gpu',
        `unknown or ambiguous GPU model "${name}" in --simulate-gpus; known models: ${knownSimulatedModels()}`,
      );
    }
    const model = simulatedModel(gpu);
    if (!Number.isInteger(count) || count < 1 || count > MAX_SIMULATED_PER_MODEL) {
      throw new AgentError('bad_simulate_spec', `GPU count in "${part}" must be between 1 and ${MAX_SIMULATED_PER_MODEL}`);
    }
    const existing = groups.find((g) => g.spec.key === model.key);
    if (existing) existing.count += count;
    else groups.push({ spec: model, count });
  }
  return groups;
}

export function simulatedInventory(groups: SimulatedGpuGroup[]): GpuInventoryEntry[] {
  return groups.map((g) => ({ model: g.spec.model, vramMb: g.spec.vramMb, count: g.count, simulated: true }));
}

/** Plausible numbers: power and temperature follow utilisation, memory stays within the board. */
export function simulatedMetrics(groups: SimulatedGpuGroup[], random: () => number = Math.random): GpuMetric[] {
  const metrics: GpuMetric[] = [];
  let index = 0;
  for (const g of groups) {
    for (let i = 0; i < g.count; i++) {
      const util = Math.round(random() * 100);
      const load = util / 100;
      metrics.push({
        index: index++,
        utilPct: util,
        memUsedMb: Math.round(g.spec.vramMb * (0.01 + 0.85 * load * random())),
        tempC: Math.round(32 + 45 * load + 4 * random()),
        powerW: Math.round((g.spec.idleW + (g.spec.maxW - g.spec.idleW) * load) * 100) / 100,
        simulated: true,
      });
    }
  }
  return metrics;
}

export function createSimulatedSource(spec: string, random: () => number = Math.random): GpuSource {
  const groups = parseSimulateSpec(spec);
  return {
    simulated: true,
    describe: (s) => `SIMULATED ${describeInventory(s.inventory)}`,
    async read(): Promise<GpuSnapshot> {
      return { inventory: simulatedInventory(groups), metrics: simulatedMetrics(groups, random) };
    },
  };
}
