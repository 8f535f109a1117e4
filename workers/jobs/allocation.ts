// Which GPU groups of a node a job commits. Pure. A node may have several groups that match a
// request ("a100" matches the 40 GB and the 80 GB card); the smallest fitting groups go first so
// the big cards stay free for requests that need them.

export interface CandidateGpu {
  /** `node_gpus.model`, the group a job commits. */
  model: string;
  canonical: string;
  vramMb: number;
  count: number;
  committed: number;
}

export type Allocation = [model: string, count: number][];

export function allocate(gpus: readonly CandidateGpu[], count: number, minVramMb: number): Allocation | null {
  const usable = gpus
    .filter((g) => g.vramMb >= minVramMb && g.count - g.committed > 0)
    .sort((a, b) => a.vramMb - b.vramMb || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  const out: Allocation = [];
  let left = count;
  for (const g of usable) {
    if (left === 0) break;
    const take = Math.min(left, g.count - g.committed);
    out.push([g.model, take]);
    left -= take;
  }
  return left === 0 ? out : null;
}
