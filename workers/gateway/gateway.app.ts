import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { authenticating, spend, spendAddress } from '../limits/rate-limit.ts';
import { addressKey } from '../limits/client-address.ts';
import { hashEndpointKey } from '../endpoints/endpoint-keys.ts';
import { callerView, rankReplicas } from '../endpoints/route-request.ts';
import { probeIndexFor } from '../routing/rank.ts';
import type { GatewayEntry } from './endpoint-cache.ts';
import { forward } from './forward.ts';
import { gatewayFor } from './gateway-state.ts';
import { replayableBody } from './replay-body.ts';
import { callerLocation, endpointKeyOf, splitEndpointPath } from './request-parts.ts';
import { waitForReplica } from './cold-start.ts';
import { wake } from './wake.ts';

// The endpoint URL: /e/{endpointId}/… (README.md in this folder). Any method, path, query,
// headers and body go to the best ready replica through its node's tunnel, and the response
// streams back. Access, routing and failover are decided from the isolate's memory (endpoint
// entries refreshed every ~2 s, observations of the replicas); D1 is read once per endpoint per
// isolate every ~2 s and written with traffic counts every few seconds, never per request.

function background(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  return (p) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      // No execution context (app.fetch called without one): the promise runs on its own.
    }
  };
}

/** Who may call: the endpoint's key (hash compared with the cached live hashes), or anyone on a public endpoint. Counted per key. */
async function admit(c: Context<AppEnv>, entry: GatewayEntry): Promise<void> {
  if (entry.public) {
    // Public: counted per client address, in the endpoint budget (the app-wide address budget is for the API).
    const address = addressKey(c.req.header('cf-connecting-ip'));
    if (address !== null) await spend(c, 'endpointKey', `public:${entry.endpointId}:${address}`);
    return;
  }
  const key = endpointKeyOf(c.req.raw.headers);
  const hash = key === null ? null : await hashEndpointKey(key);
  if (hash === null || !entry.keyHashes.has(hash)) {
    await spendAddress(c);
    throw new AppError(
      401,
      'unauthorized',
      key === null
        ? 'This endpoint needs a key: send Authorization: Bearer <endpoint key> (or x-gridplane-key).'
        : 'This key is not a live key of this endpoint.',
    );
  }
  await spend(c, 'endpointKey', `key:${hash}`);
}

const handle = authenticating(async (c: Context<AppEnv>) => {
  const startedAt = Date.now();
  const url = new URL(c.req.url);
  const parts = splitEndpointPath(url.pathname);
  if (parts === null) throw new AppError(404, 'not_found', `There is no route ${c.req.method} ${url.pathname}.`);
  const g = gatewayFor(c.var.db);
  const bg = background(c);
  const entry = await g.cache.get(parts.endpointId, startedAt, bg);
  if (entry === null || entry.status === 'deleted') {
    // Guessing endpoint ids costs the guesser's address budget.
    await spendAddress(c);
    throw new AppError(404, 'endpoint_not_found', `There is no endpoint ${parts.endpointId}.`);
  }
  await admit(c, entry);
  const location = callerLocation(c.req.raw, c.var.config.ENVIRONMENT !== 'production');
  const caller = callerView(location, probeIndexFor(await g.probePoints(startedAt)));
  const record = (status: number, ttfbMs: number | null) => {
    const now = Date.now();
    g.traffic.record(entry.endpointId, now, caller.cell, status, ttfbMs);
    bg(g.traffic.flush(c.var.db, now));
  };
  try {
    if (entry.status !== 'active') {
      throw new AppError(503, 'endpoint_stopped', "This endpoint is stopped (its owner's balance ran out, or its owner stopped it).");
    }
    let current = entry;
    if (current.ready.length === 0) {
      current = await waitForReplica(
        g.cache,
        current,
        () => wake(c.env, entry.endpointId, Date.now()),
        c.var.config.ENDPOINT_COLD_START_WAIT_S * 1000,
        bg,
      );
    }
    // Out of rotation here after a failure, unless every ready replica is: then they are all worth a try.
    const inRotation = current.ready.filter((r) => g.seen.inRotation(r.replicaId, startedAt));
    const ranked = rankReplicas(inRotation.length > 0 ? inRotation : current.ready, caller, g.seen);
    const body = await replayableBody(c.req.raw);
    const outcome = await forward(
      c.env,
      ranked,
      // `keep`: the replica serves under its public base path (GRIDPLANE_BASE_PATH), so it gets the whole path.
      { method: c.req.method, pathAndQuery: (entry.keepPrefix ? url.pathname : parts.rest) + url.search, headers: c.req.raw.headers, body },
      caller,
      g.seen,
      bg,
    );
    record(outcome.response.status, outcome.kind === 'answered' ? Date.now() - startedAt : null);
    return outcome.response;
  } catch (error) {
    record(error instanceof AppError ? error.status : 500, null);
    throw error;
  }
});

export const gatewayApp = new Hono<AppEnv>().all('/:endpointId', handle).all('/:endpointId/*', handle);
