// What the rest of the agent knows about GPUs: an inventory for registration and per-index metrics
// for heartbeats. Real hosts read nvidia-smi (gpu-detect.ts); development hosts declare GPUs
// (simulate.ts). Both implement GpuSource.

/** One registration entry: identical GPUs grouped. */
export interface GpuInventoryEntry {
  model: string;
  vramMb: number;
  count: number;
  /** Present (and true) only for declared GPUs that do not exist. */
  simulated?: true;
}

/** One GPU's live numbers, as sent in a heartbeat. */
export interface GpuMetric {
  index: number;
  utilPct: number;
  memUsedMb: number;
  tempC: number;
  /** null when the driver reports "[N/A]" (some boards do not expose power draw). */
  powerW: number | null;
  /** Present (and true) only for generated numbers of declared GPUs. */
  simulated?: true;
}

export interface GpuSnapshot {
  inventory: GpuInventoryEntry[];
  metrics: GpuMetric[];
}

export interface GpuSource {
  readonly simulated: boolean;
  /** One line for logs, e.g. "2x NVIDIA GeForce RTX 4090 (24564 MiB)". */
  describe(snapshot: GpuSnapshot): string;
  read(signal?: AbortSignal): Promise<GpuSnapshot>;
}

export function describeInventory(inventory: GpuInventoryEntry[]): string {
  return inventory.map((g) => `${g.count}x ${g.model} (${g.vramMb} MiB)`).join(', ');
}
