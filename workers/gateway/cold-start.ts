import { AppError } from '../errors.ts';
import { COLD_POLL_MS, type EndpointCache, type GatewayEntry } from './endpoint-cache.ts';

// The cold path: a request to an endpoint with no ready replica (scaled to zero, or every replica
// starting or gone). It asks the control plane to place a replica now (once per endpoint per
// isolate every WAKE_EVERY_MS, however many requests wait), then reads the routing entry again
// every COLD_POLL_MS — the only place the gateway reads D1 that often, and only while a request
// waits — until a replica is ready or the wait (ENDPOINT_COLD_START_WAIT_S) is over. Nothing can
// start (no eligible node, balance too low) → 503 at once; the wait over → 503. Both with
// Retry-After.

/** How often one isolate asks for a wake of the same endpoint. */
export const WAKE_EVERY_MS = 5_000;
/** Retry-After when nothing can start now: placement is retried by the control plane's cron every minute. */
export const COLD_RETRY_AFTER_S = 30;

/** What the control plane said: a replica is placed or running, or why none can start. */
export interface WakeOutcome {
  starting: boolean;
  reason: string;
}
export type Wake = () => Promise<WakeOutcome>;

const lastWake = new Map<string, { at: number; result: Promise<WakeOutcome> }>();

/** Why nothing can start, as the caller reads it. */
const CANNOT_START: Record<string, string> = {
  no_capacity: 'no eligible node is free for it now',
  insufficient_funds: "its owner's balance does not cover a replica",
  not_active: 'it is not active',
};

function wakeOnce(endpointId: string, wake: Wake, nowMs: number): Promise<WakeOutcome> {
  const last = lastWake.get(endpointId);
  if (last && nowMs - last.at < WAKE_EVERY_MS && nowMs >= last.at) return last.result;
  if (lastWake.size >= 10_000) lastWake.clear();
  const result = wake().catch((error: unknown): WakeOutcome => {
    console.error('endpoint wake failed', endpointId, error);
    return { starting: true, reason: 'unknown' }; // unknown: keep waiting for a replica the cron may still place
  });
  lastWake.set(endpointId, { at: nowMs, result });
  return result;
}

export async function waitForReplica(
  cache: EndpointCache,
  entry: GatewayEntry,
  wake: Wake,
  waitMs: number,
  background: (p: Promise<unknown>) => void,
): Promise<GatewayEntry> {
  const startedAt = Date.now();
  const outcome = await wakeOnce(entry.endpointId, wake, startedAt);
  if (!outcome.starting && entry.starting === 0) {
    const why = CANNOT_START[outcome.reason] ?? outcome.reason;
    throw new AppError(503, 'no_capacity', `No replica of this endpoint can start now: ${why}.`, undefined, {
      'Retry-After': String(COLD_RETRY_AFTER_S),
    });
  }
  for (;;) {
    const now = Date.now();
    if (now - startedAt >= waitMs) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(COLD_POLL_MS, waitMs - (now - startedAt))));
    const fresh = await cache.get(entry.endpointId, Date.now(), background, COLD_POLL_MS);
    if (fresh === null || fresh.status !== 'active')
      throw new AppError(503, 'endpoint_stopped', 'This endpoint stopped while the request waited for a replica.');
    if (fresh.ready.length > 0) return fresh;
  }
  throw new AppError(
    503,
    'cold_start_timeout',
    `No replica of this endpoint became ready within ${Math.round(waitMs / 1000)} s; it may still be starting.`,
    undefined,
    {
      'Retry-After': String(COLD_RETRY_AFTER_S),
    },
  );
}
