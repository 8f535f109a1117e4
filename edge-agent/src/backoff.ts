// Exponential backoff with full jitter (a random delay between 0 and the exponential ceiling),
// so a fleet of agents that lost the control plane together does not return together.
// Pure: the random source is passed in.

export interface BackoffPolicy {
  /** The ceiling of the first retry; the agent uses its heartbeat interval. */
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF_CAP_MS = 5 * 60_000;

/** The most the `attempt`-th retry (0-based) may wait: min(cap, base * 2^attempt). */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 40);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/** `random` returns a number in [0, 1), like Math.random. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  return Math.floor(random() * backoffCeilingMs(attempt, policy));
}
