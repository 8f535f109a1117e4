import { sleep as realSleep, type Sleep } from '../../../edge-agent/src/sleep.ts';

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A sleep for the daemon that records each requested delay and waits only a few real
 * milliseconds, so a test sees the whole schedule without waiting for it. `onSleep` runs before
 * the n-th (1-based) sleep returns: the place to change the world between two heartbeats.
 */
export function recordingSleep(onSleep?: (n: number) => void | Promise<void>): { sleep: Sleep; delays: number[] } {
  const delays: number[] = [];
  const sleep: Sleep = async (ms, signal) => {
    delays.push(ms);
    await onSleep?.(delays.length);
    await realSleep(5, signal);
  };
  return { sleep, delays };
}
