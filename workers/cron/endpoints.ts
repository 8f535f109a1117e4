import type { Env } from '../env.ts';
import { endpointsContext } from '../endpoints/endpoints-context.ts';
import { endpointsToTend } from '../endpoints/endpoints.repo.ts';
import { tendEndpoint } from '../endpoints/tend.ts';

/** Endpoints tended per run, so one minute's tick stays well inside a Worker's limits. */
const BATCH = 200;

/**
 * Every minute: each endpoint's replicas are billed up to now, broken ones replaced, the count
 * scaled, the hold topped up (or the replicas stopped when it cannot be), and changed nodes told
 * their desired set (workers/endpoints/tend.ts). One endpoint failing does not stop the rest.
 */
export async function tendEndpoints(env: Env, nowMs: number) {
  const ctx = endpointsContext(env);
  const counts = { endpoints: 0, billed: 0, stopped: 0, placed: 0, failed: 0 };
  for (const endpoint of await endpointsToTend(ctx.db, BATCH)) {
    try {
      const r = await tendEndpoint(ctx, endpoint.id, nowMs);
      counts.endpoints++;
      counts.billed += r.billed;
      counts.stopped += r.stopped;
      counts.placed += r.placed;
    } catch (error) {
      counts.failed++;
      console.error(`endpoint ${endpoint.id} not tended`, error);
    }
  }
  return counts;
}
