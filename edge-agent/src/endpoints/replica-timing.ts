// How long a replica may take to start, how often it is checked, when it counts as unhealthy,
// how often it is restarted, and how often its receipt goes out. Defaults for real hosts; tests
// shorten them.

export interface ReplicaTiming {
  /**
   * From `docker run` (or the process start) to the first 2xx from the health path. It includes
   * pulling the image and loading the model, hence minutes; past it the replica is `failed`
   * and stopped.
   */
  startTimeoutMs: number;
  /** Between health polls while starting. */
  startPollMs: number;
  /** Between health checks once ready. */
  healthIntervalMs: number;
  /** One health request's limit. */
  healthTimeoutMs: number;
  /** Failed checks in a row that make a ready replica `unhealthy` (one 2xx makes it `ready` again). */
  unhealthyAfter: number;
  /** A replica that exits is restarted at most this many times within `restartWindowMs`, then `failed`. */
  maxRestarts: number;
  restartWindowMs: number;
  /** Wait before a restart. */
  restartDelayMs: number;
  /** Between signed receipts of each replica's ready time. */
  receiptIntervalMs: number;
}

export const DEFAULT_REPLICA_TIMING: ReplicaTiming = {
  startTimeoutMs: 10 * 60_000,
  startPollMs: 500,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 2_000,
  unhealthyAfter: 3,
  maxRestarts: 3,
  restartWindowMs: 10 * 60_000,
  restartDelayMs: 1_000,
  receiptIntervalMs: 30_000,
};
