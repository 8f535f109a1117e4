// Round-trip times to the network's probe points, which the matcher uses to estimate latency
// between renters and this node.
import { z } from 'zod';

export const ProbePointSchema = z.object({
  id: z.string().min(1),
  lat: z.number(),
  lon: z.number(),
  url: z.string().nullish(),
});
export type ProbePoint = z.infer<typeof ProbePointSchema>;

export interface ProbeResult {
  target: string;
  rttMs: number;
}

export interface ProbeOptions {
  fetch?: typeof globalThis.fetch;
  /** Monotonic clock in ms. */
  monotonicNow?: () => number;
  samples?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Times a HEAD request to each probe that has a URL; the minimum of the samples is reported, so
 * connection setup on the first sample does not count. Probes that never answer are left out.
 */
export async function measureProbes(points: ProbePoint[], options: ProbeOptions = {}): Promise<ProbeResult[]> {
  const rtts = await Promise.all(points.map((p) => (p.url ? measureUrl(p.url, options) : Promise.resolve(null))));
  const results: ProbeResult[] = [];
  points.forEach((p, i) => {
    const rttMs = rtts[i];
    if (rttMs !== null && rttMs !== undefined) results.push({ target: p.id, rttMs });
  });
  return results;
}

/** Min RTT in ms (0.1 ms resolution), or null when no sample succeeded. */
export async function measureUrl(url: string, options: ProbeOptions = {}): Promise<number | null> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.monotonicNow ?? (() => performance.now());
  const samples = options.samples ?? 3;
  const timeoutMs = options.timeoutMs ?? 2_000;
  let best: number | null = null;
  for (let i = 0; i < samples; i++) {
    if (options.signal?.aborted) break;
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    const started = now();
    try {
      const res = await doFetch(url, { method: 'HEAD', signal: AbortSignal.any(signals), redirect: 'manual' });
      const rtt = now() - started;
      await res.body?.cancel();
      best = best === null ? rtt : Math.min(best, rtt);
    } catch {
      // An unreachable probe is skipped, not fatal.
    }
  }
  return best === null ? null : Math.round(best * 10) / 10;
}
