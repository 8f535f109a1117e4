// The host's GPUs and which of them are taken. One pool per agent, shared by the job runner and
// the endpoint replicas (endpoints/replica-manager.ts), so a job and a replica never get the same
// GPU: whoever asks second is told the GPUs are busy.
import { canonicalGpuModel } from '../../../protocol/gpu-catalog.ts';

export interface HostGpu {
  index: number;
  model: string;
}

/** `count` GPUs whose model passes `matches`. */
export interface GpuWant {
  matches(model: string): boolean;
  count: number;
}

export class GpuPool {
  readonly #busy = new Set<number>();

  constructor(readonly gpus: readonly HostGpu[]) {}

  /** Takes free GPUs for every want, all or nothing; null when they are not all free. */
  take(wants: readonly GpuWant[]): number[] | null {
    const picked: number[] = [];
    for (const want of wants) {
      const free = this.gpus.filter((g) => want.matches(g.model) && !this.#busy.has(g.index) && !picked.includes(g.index));
      if (free.length < want.count) return null;
      picked.push(...free.slice(0, want.count).map((g) => g.index));
    }
    for (const i of picked) this.#busy.add(i);
    return picked;
  }

  release(indexes: readonly number[]): void {
    for (const i of indexes) this.#busy.delete(i);
  }

  /** Indexes in use, in order: for logs and tests. */
  busy(): number[] {
    return [...this.#busy].sort((a, b) => a - b);
  }
}

/**
 * A model as the control plane names it ("RTX 4090", the catalogue's name) against one as
 * nvidia-smi names it ("NVIDIA GeForce RTX 4090"): the same string, or the same catalogue model.
 * A name the catalogue does not know only matches itself.
 */
export function sameGpuModel(wanted: string, hostModel: string): boolean {
  if (wanted === hostModel) return true;
  const a = canonicalGpuModel(wanted);
  return a !== null && a === canonicalGpuModel(hostModel);
}
