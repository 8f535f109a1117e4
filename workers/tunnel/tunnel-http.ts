// The HTTP face of the tunnel object for the gateway: the headers it reads and writes, the named
// timeouts, which headers cross to the replica and back, and the error responses.
import { errorBody } from '../errors.ts';
import { STRIPPED_REQUEST_HEADERS, STRIPPED_RESPONSE_HEADERS } from '../../protocol/tunnel.ts';

export const TUNNEL_HEADERS = {
  /** Gateway → tunnel object: which replica of this node the request is for. Required. */
  replica: 'gridplane-replica',
  /** Gateway → tunnel object: time to the response head for this request, ms (default `TUNNEL_TIMEOUTS.headMs`). */
  headTimeout: 'gridplane-head-timeout-ms',
  /** Gateway → tunnel object: longest wait between two response chunks, ms (default `TUNNEL_TIMEOUTS.idleMs`). */
  idleTimeout: 'gridplane-idle-timeout-ms',
  /** Tunnel object → gateway, on errors the tunnel made: the code (also in the error body). */
  error: 'gridplane-tunnel-error',
  /** Tunnel object → gateway, with `error`: `0` when the request reached no replica (any method may be retried elsewhere), else `1`. */
  requestSent: 'gridplane-request-sent',
} as const;

/** Every wait has one of these (milliseconds). */
export const TUNNEL_TIMEOUTS = {
  /** Request sent → response head. A model server answers its head before it generates. */
  headMs: 30_000,
  /** Between two response chunks once the head came (a slow token stream still sends within this). */
  idleMs: 60_000,
  /** The most a gateway may ask for either one. */
  maxMs: 300_000,
  /** Longest silence from an agent's socket (it pings every 20 s) before the tunnel counts as down. */
  silentSocketMs: 90_000,
} as const;

export function timeoutFrom(headers: Headers, name: string, fallback: number): number {
  const raw = headers.get(name);
  if (raw === null || !/^\d{1,9}$/.test(raw)) return fallback;
  return Math.min(Math.max(Number(raw), 1), TUNNEL_TIMEOUTS.maxMs);
}

/** Caller headers the replica sees: hop-by-hop headers, credentials, ours and the edge's own (cf-*) stay behind. */
export function requestHeadersForReplica(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (STRIPPED_REQUEST_HEADERS.has(name) || isInternal(name) || name.startsWith('cf-')) return;
    out.push([name, value]);
  });
  return out;
}

/** Replica headers the caller sees. `gridplane-*` never passes: a replica must not forge the tunnel's error headers. */
export function responseHeadersFromReplica(pairs: readonly (readonly [string, string])[]): Headers {
  const headers = new Headers();
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    if (STRIPPED_RESPONSE_HEADERS.has(name) || isInternal(name)) continue;
    try {
      headers.append(name, value);
    } catch {
      // A header name or value the Fetch API refuses is dropped, not a failed request.
    }
  }
  return headers;
}

function isInternal(name: string): boolean {
  return name.startsWith('gridplane-') || name.startsWith('x-gridplane-');
}

export type TunnelErrorCode =
  | 'bad_request'
  | 'tunnel_down'
  | 'tunnel_busy'
  | 'replica_unknown'
  | 'replica_failed'
  | 'upstream_timeout'
  | 'body_too_large'
  | 'headers_too_large'
  | 'tunnel_protocol';

const STATUS: Record<TunnelErrorCode, number> = {
  bad_request: 400,
  tunnel_down: 503,
  tunnel_busy: 503,
  replica_unknown: 503,
  replica_failed: 502,
  upstream_timeout: 504,
  body_too_large: 413,
  headers_too_large: 431,
  tunnel_protocol: 502,
};

export interface TunnelFailure {
  code: TunnelErrorCode;
  message: string;
  /** Whether any byte of the request may have reached a replica. */
  sent: boolean;
}

export function tunnelErrorResponse(failure: TunnelFailure): Response {
  return Response.json(errorBody(failure.code, failure.message), {
    status: STATUS[failure.code],
    headers: { [TUNNEL_HEADERS.error]: failure.code, [TUNNEL_HEADERS.requestSent]: failure.sent ? '1' : '0' },
  });
}
