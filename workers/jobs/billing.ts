// Billing arithmetic for jobs, in bigint base units. Pure.
//
//   escrow   = ceil(price × gpus × durationS / 3600)             held when the job is placed
//   billable = min(receipt GPU-seconds,
//                  gpus × (server-observed run seconds + grace),   the agent cannot bill past what we saw
//                  gpus × durationS)                              nor past what was bought
//   captured = min(escrow, floor(price × billable / 3600))        rounding down: the renter never pays
//                                                                 for a fraction of a base unit
//   fee      = floor(captured × feeBps / 10 000)                  the protocol's share, rounded down
//   operator = captured − fee                                      so fee + operator = captured exactly
//   refund   = escrow − captured                                   so captured + refund = escrow exactly

const SECONDS_PER_HOUR = 3600n;
const BPS = 10_000n;

export function escrowFor(pricePerGpuHour: bigint, gpuCount: number, durationS: number): bigint {
  const numerator = pricePerGpuHour * BigInt(gpuCount) * BigInt(durationS);
  return (numerator + SECONDS_PER_HOUR - 1n) / SECONDS_PER_HOUR;
}

export interface BillableInput {
  gpuCount: number;
  durationS: number;
  /** What the agent's signed receipt claims; undefined when there is no receipt (the node died). */
  receiptGpuSeconds?: number;
  /** Server receive times of `started` and of the end (finish event, cancel, or the node's last sign of life). */
  startedAtMs: number | null;
  endedAtMs: number;
  /** Seconds of slack for the network between the agent's clock and ours. */
  graceS: number;
}

/** Whole GPU-seconds to bill. Nothing ran before `started`, so no start means zero. */
export function billableGpuSeconds(input: BillableInput): number {
  if (input.startedAtMs === null) return 0;
  const observedS = Math.max(0, Math.ceil((input.endedAtMs - input.startedAtMs) / 1000));
  const observed = input.gpuCount * (observedS + input.graceS);
  const bought = input.gpuCount * input.durationS;
  const claimed = input.receiptGpuSeconds ?? Math.max(0, input.gpuCount * observedS);
  return Math.max(0, Math.min(claimed, observed, bought));
}

export interface Settlement {
  escrow: bigint;
  captured: bigint;
  fee: bigint;
  operator: bigint;
  refund: bigint;
}

export function settle(escrow: bigint, pricePerGpuHour: bigint, billedGpuSeconds: number, feeBps: number): Settlement {
  if (escrow < 0n || pricePerGpuHour < 0n || billedGpuSeconds < 0 || feeBps < 0 || feeBps > 10_000) {
    throw new RangeError('settle: amounts, seconds and fee must be non-negative, fee at most 10 000 bps');
  }
  const cost = (pricePerGpuHour * BigInt(Math.floor(billedGpuSeconds))) / SECONDS_PER_HOUR;
  const captured = cost < escrow ? cost : escrow;
  const fee = (captured * BigInt(feeBps)) / BPS;
  return { escrow, captured, fee, operator: captured - fee, refund: escrow - captured };
}
