import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { badRequest } from '../errors.ts';
import { jsonInput } from '../http/validator.ts';
import { formatAmount, parseAmount } from '../lib/amounts.ts';
import { quoteRequestSchema } from './job-input.schema.ts';
import { modelsFor, runQuote } from './jobs.service.ts';

/** `request.cf.latitude/longitude`: where Cloudflare's edge places the caller; absent locally. */
export function edgeLocation(request: Request): { lat: number; lon: number } | null {
  const cf = (request as Request & { cf?: { latitude?: string; longitude?: string } }).cf;
  const lat = Number.parseFloat(cf?.latitude ?? '');
  const lon = Number.parseFloat(cf?.longitude ?? '');
  return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
}

export function clientLocation(request: Request, given: { lat: number; lon: number } | undefined): { lat: number; lon: number } {
  const where = given ?? edgeLocation(request);
  if (!where)
    throw badRequest(
      'client_location_required',
      'Say where the renter is with "client": { "lat", "lon" }; this request carries no edge location.',
    );
  return where;
}

export function maxPriceOf(text: string | undefined, decimals: number): bigint | null {
  if (text === undefined) return null;
  const parsed = parseAmount(text, decimals);
  if (!parsed.ok) throw badRequest('invalid_request', `maxPricePerGpuHour: ${parsed.reason}.`);
  return BigInt(parsed.baseUnits);
}

export const quotesApp = new Hono<AppEnv>().post('/', jsonInput(quoteRequestSchema, { anyContentType: true }), async (c) => {
  const input = c.req.valid('json');
  const decimals = c.var.config.TOKEN_DECIMALS;
  const client = clientLocation(c.req.raw, input.client);
  const result = await runQuote(
    { db: c.var.db, env: c.env, config: c.var.config },
    {
      models: modelsFor(input.gpu.model),
      minVramMb: input.gpu.minVramMb ?? 0,
      count: input.gpu.count,
      maxPricePerGpuHour: maxPriceOf(input.maxPricePerGpuHour, decimals),
      client,
      limit: input.limit,
    },
    Date.now(),
  );
  // D1's own count of rows this quote read, for operators and the bench.
  c.header('X-Gridplane-Rows-Read', String(result.rowsRead));
  return c.json({
    candidates: result.candidates.map((k) => ({
      nodeId: k.nodeId,
      pricePerGpuHour: formatAmount(k.pricePerGpuHour, decimals),
      estRttMs: k.estRttMs,
      score: k.score,
      location: k.location,
    })),
    client,
    meta: { rowsRead: result.rowsRead, queries: result.queries, rings: result.rings, nodesConsidered: result.nodesConsidered },
  });
});
