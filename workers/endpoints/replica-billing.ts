// Billing arithmetic for endpoint replicas, in bigint base units. Pure.
//
// A replica is billed per ready millisecond at the price frozen when it was placed:
//
//   observed  = ready ms of closed periods + (now − ready_since while ready)    Worker's clock
//   billable  = min(observed, highest signed receipt)                          never past what the node signed
//   amount(t) = floor(price × gpus × t / 3 600 000)                            cumulative: no rounding drift
//   delta     = amount(billable) − billed_amount                               what this bill takes from the hold
//   fee       = floor(amount(billable) × feeBps / 10 000) − billed_fee,        the protocol's share, cumulative,
//               clamped to [0, delta]                                          so fee + operator = delta exactly
//   operator  = delta − fee
//
// A hold that cannot cover `delta` pays for the ready milliseconds it can (billed_ms stops
// there), so the rest stays billable when the hold is refilled and nothing is taken twice.

const MS_PER_HOUR = 3_600_000n;
const BPS = 10_000n;

export interface BillingState {
  pricePerGpuHour: number;
  gpuCount: number;
  readySince: number | null;
  readyMs: number;
  receiptReadyMs: number;
  billedMs: number;
  billedAmount: number;
  billedFee: number;
}

/** Ready milliseconds seen on the Worker's clock up to `nowMs`. */
export function observedReadyMs(r: Pick<BillingState, 'readySince' | 'readyMs'>, nowMs: number): number {
  return r.readyMs + (r.readySince === null ? 0 : Math.max(0, nowMs - r.readySince));
}

/** Cumulative amount for `ms` ready milliseconds. */
export function amountFor(pricePerGpuHour: number, gpuCount: number, ms: number): bigint {
  return (BigInt(pricePerGpuHour) * BigInt(gpuCount) * BigInt(Math.floor(ms))) / MS_PER_HOUR;
}

export interface Bill {
  /** billed_ms after this bill. */
  billedMs: number;
  amount: bigint;
  fee: bigint;
  operator: bigint;
}

/**
 * What to bill now, given at most `available` base units in the hold. Null when nothing is due
 * (no new billable time, or it does not yet add up to one base unit and the hold is unchanged).
 */
export function nextBill(r: BillingState, nowMs: number, feeBps: number, available: bigint): Bill | null {
  if (feeBps < 0 || feeBps > 10_000) throw new RangeError('fee must be 0–10 000 bps');
  const billable = Math.min(observedReadyMs(r, nowMs), r.receiptReadyMs);
  if (billable <= r.billedMs) return null;
  const already = BigInt(r.billedAmount);
  let billedMs = billable;
  let total = amountFor(r.pricePerGpuHour, r.gpuCount, billable);
  if (total - already > available) {
    // Pay for the milliseconds the hold covers: the largest t with amount(t) ≤ already + available.
    const perHour = BigInt(r.pricePerGpuHour) * BigInt(r.gpuCount);
    const covered = ((already + (available > 0n ? available : 0n)) * MS_PER_HOUR) / perHour;
    billedMs = Math.max(r.billedMs, Math.min(billable, Number(covered)));
    total = amountFor(r.pricePerGpuHour, r.gpuCount, billedMs);
    if (billedMs === r.billedMs) return null;
  }
  const amount = total - already;
  if (amount < 0n) return null;
  let fee = (total * BigInt(feeBps)) / BPS - BigInt(r.billedFee);
  if (fee < 0n) fee = 0n;
  if (fee > amount) fee = amount;
  return { billedMs, amount, fee, operator: amount - fee };
}

/** Base units per second the given live replicas cost while ready (rounded up). */
export function burnPerHour(replicas: readonly { pricePerGpuHour: number; gpuCount: number }[]): bigint {
  return replicas.reduce((sum, r) => sum + BigInt(r.pricePerGpuHour) * BigInt(r.gpuCount), 0n);
}

/** Cost of running at `perHour` for `seconds`, rounded up (a hold errs on the side of enough). */
export function costOfSeconds(perHour: bigint, seconds: number): bigint {
  return (perHour * BigInt(seconds) + 3599n) / 3600n;
}
