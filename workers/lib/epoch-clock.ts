import type { Config } from '../config.ts';

// Epoch n covers [genesis + n·len, genesis + (n+1)·len).
export const epochMs = (config: Config) => config.EPOCH_SECONDS * 1000;

export function epochAt(config: Config, atMs: number): number {
  return Math.floor((atMs - config.EPOCH_GENESIS_MS) / epochMs(config));
}

export function epochBounds(config: Config, epoch: number): { startMs: number; endMs: number } {
  const startMs = config.EPOCH_GENESIS_MS + epoch * epochMs(config);
  return { startMs, endMs: startMs + epochMs(config) };
}
