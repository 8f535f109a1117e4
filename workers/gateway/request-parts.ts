import type { LatLon } from '../routing/geo.ts';

// What the gateway reads from a caller's request before it goes to a replica: the endpoint id
// and the path after it, the endpoint key, and where the caller is. Pure.

/** `/e/{endpointId}` and what follows, as the caller wrote it (not decoded: the replica sees the same bytes). */
export function splitEndpointPath(pathname: string): { endpointId: string; rest: string } | null {
  const match = /^\/e\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!match) return null;
  return { endpointId: match[1]!, rest: match[2] ?? '/' };
}

/**
 * The endpoint key: `Authorization: Bearer <key>` (so an OpenAI client works unchanged with the
 * key as its API key) or `x-gridplane-key: <key>` (for clients that set Authorization to
 * something else). Both are stripped before the replica (protocol/tunnel.ts). Null: none sent.
 */
export function endpointKeyOf(headers: Headers): string | null {
  const direct = headers.get('x-gridplane-key')?.trim();
  if (direct) return direct;
  const auth = headers.get('authorization')?.trim() ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  return bearer ? bearer[1]! : null;
}

/** Header a test or a developer sets to say where the caller is; honoured only outside production. */
export const CLIENT_LOCATION_HEADER = 'x-gridplane-client-location';

/**
 * Where the caller is: Cloudflare's `cf` latitude/longitude of the connecting client, or outside
 * production the `x-gridplane-client-location: lat,lon` header (tests and the local stack have
 * no `cf` location). Null when neither says (the ranking then goes by load and measured TTFB).
 */
export function callerLocation(request: Request, honourHeader: boolean): LatLon | null {
  if (honourHeader) {
    const header = request.headers.get(CLIENT_LOCATION_HEADER);
    if (header !== null) return parseLatLon(header);
  }
  const cf = (request as { cf?: { latitude?: unknown; longitude?: unknown } }).cf;
  if (cf?.latitude === undefined || cf.longitude === undefined) return null;
  return parseLatLon(`${String(cf.latitude)},${String(cf.longitude)}`);
}

export function parseLatLon(text: string): LatLon | null {
  const parts = text.split(',');
  if (parts.length !== 2) return null;
  const lat = Number(parts[0]!.trim());
  const lon = Number(parts[1]!.trim());
  if (parts.some((p) => p.trim() === '') || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return null;
  return { lat, lon };
}

/** Methods RFC 9110 §9.2.2 makes idempotent: safe to send again after a replica may have seen them. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Whether a request that failed before its first response byte may go to another replica:
 * always when nothing reached the replica's node, otherwise only for idempotent methods (a POST
 * that reached a replica may have started generating; sending it again could run it twice).
 */
export function mayRetryElsewhere(method: string, requestSent: boolean): boolean {
  return !requestSent || IDEMPOTENT.has(method.toUpperCase());
}
