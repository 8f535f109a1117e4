import type { Env } from '../env.ts';
import { wakeEndpoint } from '../endpoints/wake.ts';
import type { WakeOutcome } from './cold-start.ts';

// The gateway's one call into the control plane's placement (workers/endpoints/wake.ts): place a
// replica of the endpoint now (scale from zero) when a request finds none ready.
export async function wake(env: Env, endpointId: string, nowMs: number): Promise<WakeOutcome> {
  const result = await wakeEndpoint(env, endpointId, nowMs);
  return { starting: result.reason === 'placed' || result.reason === 'running', reason: result.reason };
}
