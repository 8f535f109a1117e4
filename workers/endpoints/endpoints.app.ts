import { Hono } from 'hono';
import * as z from 'zod';
import { requireAccount } from '../accounts/require-account.ts';
import type { AppEnv } from '../app-env.ts';
import { AppError, badRequest } from '../errors.ts';
import { jsonInput, paramInput, queryInput } from '../http/validator.ts';
import { formatAmount } from '../lib/amounts.ts';
import { requestIdempotencyKey } from '../ledger/idempotency.ts';
import { edgeLocation, maxPriceOf } from '../jobs/quotes.app.ts';
import { endpointsContext } from './endpoints-context.ts';
import { endpointsOfAccount } from './endpoints.repo.ts';
import {
  createEndpoint,
  deleteEndpoint,
  endpointDetails,
  endpointOfAccount,
  patchEndpoint,
  TRAFFIC_VIEW_MINUTES,
} from './endpoints.service.ts';
import { endpointCreateSchema, endpointKeyCreateSchema, endpointListQuerySchema, endpointPatchSchema } from './endpoint-input.schema.ts';
import { ENDPOINT_KEY_ID_PATTERN, issueEndpointKey, liveEndpointKeys, revokeEndpointKey } from './endpoint-keys.ts';
import { endpointKeyView, endpointView, replicaView, trafficView } from './endpoint-view.ts';

// /v1/endpoints: a renter's inference endpoints and their keys (README.md in this folder). Thin:
// inputs are validated at the boundary (workers/http/validator.ts), the service does the rest.
// Another account's endpoint answers 404, as one that does not exist.

export const endpointIdParam = z.object({ id: z.string().min(1).max(64) });
export const endpointKeyParam = endpointIdParam.extend({
  keyId: z.string().regex(ENDPOINT_KEY_ID_PATTERN, 'must be a key id as GET /v1/endpoints/{id}/keys lists it'),
});

export const endpointsApp = new Hono<AppEnv>()
  .use(requireAccount)
  .post('/', jsonInput(endpointCreateSchema), async (c) => {
    const input = c.req.valid('json');
    const account = c.var.account;
    const idem = requestIdempotencyKey(c, account.id);
    const maxPrice = maxPriceOf(input.maxPricePerGpuHour, c.var.config.TOKEN_DECIMALS)!;
    if (maxPrice <= 0n) throw badRequest('invalid_request', 'maxPricePerGpuHour: must be more than 0.');
    const edge = edgeLocation(c.req.raw);
    const { endpoint, replayed } = await createEndpoint(
      endpointsContext(c.env, c.var.db),
      {
        accountId: account.id,
        request: input,
        // No regions asked: start near the renter's edge location, else wherever callers turn up.
        regions: input.regions ?? (edge ? [edge] : []),
        maxPrice,
        idempotencyKey: idem.fromClient ? idem.key : null,
        requireFirstHold: true,
      },
      Date.now(),
    );
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(endpointView(endpoint, c.var.config.TOKEN_DECIMALS), replayed ? 200 : 201);
  })
  .get('/', queryInput(endpointListQuerySchema), async (c) => {
    const query = c.req.valid('query');
    const [createdAt, id] = query.cursor?.split('.') ?? [];
    const before = createdAt && id && /^\d+$/.test(createdAt) ? { createdAt: Number(createdAt), id } : undefined;
    const rows = await endpointsOfAccount(c.var.db, c.var.account.id, { before, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return c.json({
      endpoints: page.map((e) => endpointView(e, c.var.config.TOKEN_DECIMALS)),
      nextCursor: rows.length > query.limit && last ? `${last.createdAt}.${last.id}` : null,
    });
  })
  .get('/:id', paramInput(endpointIdParam), async (c) => {
    const ctx = endpointsContext(c.env, c.var.db);
    const endpoint = await endpointOfAccount(ctx, c.var.account.id, c.req.valid('param').id);
    const details = await endpointDetails(ctx, endpoint, Date.now());
    const decimals = c.var.config.TOKEN_DECIMALS;
    return c.json({
      ...endpointView(endpoint, decimals),
      replicaSet: details.replicas.map((r) => replicaView(r, decimals)),
      traffic: trafficView(details.traffic, TRAFFIC_VIEW_MINUTES),
      hold: formatAmount(details.hold, decimals),
    });
  })
  .patch('/:id', paramInput(endpointIdParam), jsonInput(endpointPatchSchema), async (c) => {
    const ctx = endpointsContext(c.env, c.var.db);
    const patch = c.req.valid('json');
    const maxPrice = maxPriceOf(patch.maxPricePerGpuHour, c.var.config.TOKEN_DECIMALS);
    if (maxPrice !== null && maxPrice <= 0n) throw badRequest('invalid_request', 'maxPricePerGpuHour: must be more than 0.');
    const endpoint = await endpointOfAccount(ctx, c.var.account.id, c.req.valid('param').id);
    const changed = await patchEndpoint(ctx, endpoint, patch, maxPrice, Date.now());
    return c.json(endpointView(changed, c.var.config.TOKEN_DECIMALS));
  })
  .delete('/:id', paramInput(endpointIdParam), async (c) => {
    const ctx = endpointsContext(c.env, c.var.db);
    const endpoint = await endpointOfAccount(ctx, c.var.account.id, c.req.valid('param').id);
    return c.json(endpointView(await deleteEndpoint(ctx, endpoint, Date.now()), c.var.config.TOKEN_DECIMALS));
  })
  .post('/:id/keys', paramInput(endpointIdParam), jsonInput(endpointKeyCreateSchema), async (c) => {
    const endpoint = await liveEndpointOf(c, c.req.valid('param').id);
    const { key, row } = await issueEndpointKey(c.var.db, endpoint.id, c.req.valid('json').name, Date.now());
    return c.json({ ...endpointKeyView(row), key }, 201);
  })
  .get('/:id/keys', paramInput(endpointIdParam), async (c) => {
    const endpoint = await endpointOfAccount({ db: c.var.db }, c.var.account.id, c.req.valid('param').id);
    return c.json({ keys: (await liveEndpointKeys(c.var.db, endpoint.id)).map(endpointKeyView) });
  })
  .delete('/:id/keys/:keyId', paramInput(endpointKeyParam), async (c) => {
    const { id, keyId } = c.req.valid('param');
    const endpoint = await endpointOfAccount({ db: c.var.db }, c.var.account.id, id);
    return c.json(endpointKeyView(await revokeEndpointKey(c.var.db, endpoint.id, keyId, Date.now())));
  });

/** An endpoint that can still get keys: the account's, not deleted. */
async function liveEndpointOf(c: { var: AppEnv['Variables'] }, id: string) {
  const endpoint = await endpointOfAccount({ db: c.var.db }, c.var.account.id, id);
  if (endpoint.status === 'deleted') throw new AppError(409, 'endpoint_deleted', 'This endpoint is deleted: it takes no new keys.');
  return endpoint;
}
