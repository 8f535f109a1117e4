// The emission schedule: a fixed total released over the years, decaying. Year k releases
// `releaseBps` of what was still unreleased at its start, so the unreleased amount after k years
// is total·(1 − r)^k and the sum over all years never exceeds the total. A year's release is
// spread over its epochs; the units that do not divide evenly go to its first epochs.

export interface EmissionSchedule {
  /** Base units. */
  total: bigint;
  releaseBps: number;
  epochsPerYear: number;
}

const BPS = 10_000n;

export function epochsPerYear(epochSeconds: number): number {
  return Math.max(1, Math.floor((365 * 86_400) / epochSeconds));
}

/** Unreleased base units at the start of year k (floored once per year, so it never grows). */
export function unreleasedAtYear(schedule: EmissionSchedule, year: number): bigint {
  let left = schedule.total;
  const keep = BPS - BigInt(schedule.releaseBps);
  for (let y = 0; y < year && left > 0n; y++) left = (left * keep) / BPS;
  return left;
}

export function yearRelease(schedule: EmissionSchedule, year: number): bigint {
  return unreleasedAtYear(schedule, year) - unreleasedAtYear(schedule, year + 1);
}

/** Base units the schedule releases in epoch `epoch` (0 = the first epoch after genesis). */
export function epochEmission(schedule: EmissionSchedule, epoch: number): bigint {
  if (epoch < 0) return 0n;
  const per = BigInt(schedule.epochsPerYear);
  const year = Math.floor(epoch / schedule.epochsPerYear);
  const within = BigInt(epoch % schedule.epochsPerYear);
  const release = yearRelease(schedule, year);
  return release / per + (within < release % per ? 1n : 0n);
}
