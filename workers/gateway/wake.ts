import type { Env } from '../env.ts';

// The gateway's one call into the control plane's placement: place a replica of an endpoint now
// (scale from zero) when a request finds none ready. True: one is placed or starting; false:
// none can start (no eligible node, or the hold does not cover one).
// TEMPORARY until helper E's wakeEndpoint lands: unknown, so the cold path waits its bound.
export async function wake(_env: Env, _endpointId: string, _nowMs: number): Promise<boolean> {
  throw new Error('wakeEndpoint is not wired yet');
}
