// The protocol's fees at an epoch close: `burnBps` of them are burned (supply falls with usage,
// the burn-and-mint equilibrium idea), the rest goes to the community treasury. The burned part
// is floored, so the treasury gets the odd unit; nothing is lost.
export function splitFees(fees: bigint, burnBps: number): { burn: bigint; treasury: bigint } {
  const burn = (fees * BigInt(burnBps)) / 10_000n;
  return { burn, treasury: fees - burn };
}
