/**
 * Waits until the clock is past `ms` (Unix ms), for a test whose next step must happen strictly
 * later than an instant it recorded (a heartbeat after an assignment, a node's silence outlasting
 * the offline limit). It waits on that condition, not for a guessed duration, so a slow machine
 * only makes it wait less. It looks between short timers instead of spinning: inside workerd
 * `Date.now()` moves only across I/O, timers included. Plain TypeScript, for workerd and Node alike.
 */
export async function untilClockPasses(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((resolve) => setTimeout(resolve, Math.min(100, ms + 1 - Date.now())));
}
