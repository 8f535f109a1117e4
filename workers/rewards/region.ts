// Regional multiplier, in basis points (10 000 = ×1): capacity where few nodes serve is worth
// more, as in Helium's coverage rewards. A cell with one eligible node gets the whole bonus; the
// bonus shrinks linearly and is gone at `targetNodes`.

export function regionMultiplierBps(nodesInCell: number, targetNodes: number, maxBonusBps: number): number {
  if (targetNodes <= 1) return 10_000;
  const n = Math.max(1, Math.min(nodesInCell, targetNodes));
  return 10_000 + Math.floor((maxBonusBps * (targetNodes - n)) / (targetNodes - 1));
}
