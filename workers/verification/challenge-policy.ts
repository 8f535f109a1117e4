import type { Config } from '../config.ts';
import { canonicalGpuModel } from '../../protocol/gpu-catalog.ts';
import { challengeOps } from '../../protocol/matmul-challenge.ts';

// How big a challenge is and how long a node has, from what it claims. The deadline is twice
// the compute time the claimed GPUs need at VERIFY_REFERENCE_GOPS per unit of reward weight,
// plus a fixed allowance for starting the container and the round trip. Simulated nodes get a
// small task and a relaxed deadline; they stay marked simulated whatever they answer.

export interface ClaimedGpu {
  model: string;
  count: number;
}

/** Unknown models count as the catalogue's smallest weight, so a made-up name gains nothing. */
const UNKNOWN_WEIGHT = 0.25;

export function claimedGops(config: Config, gpus: readonly ClaimedGpu[]): number {
  const weight = gpus.reduce((s, g) => s + g.count * (canonicalGpuModel(g.model)?.rewardWeight ?? UNKNOWN_WEIGHT), 0);
  return Math.max(UNKNOWN_WEIGHT, weight) * config.VERIFY_REFERENCE_GOPS;
}

export interface ChallengeShape {
  n: number;
  products: number;
  deadlineMs: number;
}

export function challengeShape(config: Config, gpus: readonly ClaimedGpu[], simulated: boolean): ChallengeShape {
  if (simulated) return { n: config.VERIFY_SIMULATED_N, products: 1, deadlineMs: config.VERIFY_SIMULATED_DEADLINE_MS };
  const shape = { n: config.VERIFY_MATRIX_N, products: config.VERIFY_PRODUCTS };
  const computeMs = Math.ceil((2 * challengeOps(shape)) / (claimedGops(config, gpus) * 1e6));
  return { ...shape, deadlineMs: config.VERIFY_OVERHEAD_MS + computeMs };
}

/** Distinct rows in [0, n), chosen with the platform's CSPRNG; never sent to the node. */
export function secretSample(n: number, count: number): number[] {
  const picked = new Set<number>();
  const want = Math.min(count, n);
  while (picked.size < want) picked.add(crypto.getRandomValues(new Uint32Array(1))[0]! % n);
  return [...picked].sort((a, b) => a - b);
}

export function randomSeed(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
