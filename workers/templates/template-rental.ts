import { AppError } from '../errors.ts';
import { validate } from '../http/body.ts';
import { formatAmount } from '../lib/amounts.ts';
import { randomSecret } from '../lib/ids.ts';
import { balanceOf } from '../ledger/ledger.service.ts';
import type { EndpointsContext } from '../endpoints/endpoints-context.ts';
import { createEndpoint } from '../endpoints/endpoints.service.ts';
import { getEndpointByIdempotencyKey, type EndpointRow } from '../endpoints/endpoints.repo.ts';
import { endpointCreateSchema } from '../endpoints/endpoint-input.schema.ts';
import { issueEndpointKey, liveEndpointKeys } from '../endpoints/endpoint-keys.ts';
import { fillPlaceholders, type Template } from './templates.ts';

// A rental of a template (chat /rent): an endpoint with one replica (min = max = 1) that stops by
// itself at the end of the chosen time (`stop_at`, the endpoints cron), created through the
// endpoints service like POST /v1/endpoints, and what the renter needs to reach it: the URL, the
// token or endpoint key, and the one command to connect.

export interface TemplateRentalInput {
  accountId: string;
  template: Template;
  gpu: { model: string; count: number };
  durationS: number;
  /** Base units per GPU-hour: the quote's best price, so no dearer node is used. */
  maxPricePerGpuHour: bigint;
  /** Where the renter is: the replica is placed near it. */
  near: { lat: number; lon: number };
  /** The custom template's image (and port), named by the renter. */
  image?: string;
  port?: number;
  /** Per quote and chat user: a double tap rents once. */
  idempotencyKey: string;
}

export interface TemplateRental {
  endpoint: EndpointRow;
  replayed: boolean;
  url: string;
  /** The server's own token (`token` templates); null for key templates. */
  token: string | null;
  /** A new endpoint key (`key` templates), shown once; null when the rental was a replay that already showed one. */
  key: string | null;
  connect: { label: string; text: string }[];
  /** At most this much is billed over the whole rental (cap × GPUs × hours). */
  maxCost: bigint;
}

const TOKEN_ENV = 'GP_TOKEN';

export async function rentTemplate(
  ctx: EndpointsContext,
  input: TemplateRentalInput,
  origin: string,
  nowMs: number,
): Promise<TemplateRental> {
  const t = input.template;
  const image = t.image ?? input.image;
  if (!image) throw new AppError(400, 'invalid_request', `image: the ${t.name} template runs the image you name.`);
  const maxCost = (input.maxPricePerGpuHour * BigInt(input.gpu.count) * BigInt(input.durationS)) / 3600n;
  // Each run makes a fresh token, so the request (and its hash) differs between a tap and its
  // repeat: a repeat is found by its key first, and a racing one by the conflict it gets.
  const earlier = await getEndpointByIdempotencyKey(ctx.db, input.idempotencyKey);
  if (earlier) return rentalView(ctx, t, earlier, true, origin, maxCost, nowMs);
  const balance = BigInt(await balanceOf(ctx.db, input.accountId));
  const decimals = ctx.config.TOKEN_DECIMALS;
  if (balance < maxCost) {
    throw new AppError(
      402,
      'insufficient_funds',
      `This rental costs up to ${formatAmount(maxCost, decimals)} tokens; your balance is ${formatAmount(balance, decimals)}. /deposit adds funds.`,
    );
  }
  const token = t.access === 'token' ? randomSecret(24) : null;
  const env = Object.fromEntries(
    Object.entries(t.env).map(([k, v]) => [k, (token === null ? v : v.replaceAll('{token}', token)).replaceAll('{origin}', origin)]),
  );
  const simulated = ctx.config.templateRuntime === 'process';
  // The same schema as POST /v1/endpoints: the catalogue and a renter's image meet the API's rules.
  const request = validate(endpointCreateSchema, {
    name: `${t.id} rental`,
    image,
    command: simulated ? t.simulatedCommand : t.command,
    env,
    port: input.port ?? t.port,
    healthPath: t.healthPath,
    gpu: { model: input.gpu.model, count: input.gpu.count, ...(t.minVramMb > 0 ? { minVramMb: t.minVramMb } : {}) },
    replicas: { min: 1, max: 1 },
    regions: [input.near],
    maxPricePerGpuHour: formatAmount(input.maxPricePerGpuHour, decimals),
    scaling: { targetInflight: 4, idleS: null },
    // A browser cannot send the endpoint key's header: token templates check their own token.
    public: t.access === 'token',
    pathPrefix: t.pathPrefix,
  });
  let created: EndpointRow;
  try {
    created = (
      await createEndpoint(
        ctx,
        {
          accountId: input.accountId,
          request,
          regions: [input.near],
          maxPrice: input.maxPricePerGpuHour,
          idempotencyKey: input.idempotencyKey,
          stopAt: nowMs + input.durationS * 1000,
        },
        nowMs,
      )
    ).endpoint;
  } catch (error) {
    const winner =
      error instanceof AppError && error.code === 'idempotency_conflict'
        ? await getEndpointByIdempotencyKey(ctx.db, input.idempotencyKey)
        : undefined;
    if (!winner) throw error;
    return rentalView(ctx, t, winner, true, origin, maxCost, nowMs);
  }
  return rentalView(ctx, t, created, false, origin, maxCost, nowMs);
}

async function rentalView(
  ctx: EndpointsContext,
  t: Template,
  endpoint: EndpointRow,
  replayed: boolean,
  origin: string,
  maxCost: bigint,
  nowMs: number,
): Promise<TemplateRental> {
  const simulated = ctx.config.templateRuntime === 'process';
  // A replay shows the token again (it is the renter's, in their private chat); a key is shown
  // once, so a replay issues one only if the first run stopped before it did.
  const shownToken = t.access === 'token' ? ((JSON.parse(endpoint.env) as Record<string, string>)[TOKEN_ENV] ?? null) : null;
  let key: string | null = null;
  if (t.access === 'key' && (!replayed || (await liveEndpointKeys(ctx.db, endpoint.id)).length === 0)) {
    key = (await issueEndpointKey(ctx.db, endpoint.id, 'chat rental', nowMs)).key;
  }
  const url = endpointUrl(origin, endpoint.id);
  const lines = (simulated && t.simulatedConnect) || t.connect;
  const values = { url, ...(shownToken ? { token: shownToken } : {}), ...(key ? { key } : {}) };
  return {
    endpoint,
    replayed,
    url,
    token: shownToken,
    key,
    connect: lines.map((l) => ({ label: l.label, text: fillPlaceholders(l.text, values) })),
    maxCost,
  };
}

export const endpointUrl = (origin: string, endpointId: string) => `${origin}/e/${endpointId}/`;
