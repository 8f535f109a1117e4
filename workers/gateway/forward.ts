import { errorBody } from '../errors.ts';
import type { Env } from '../env.ts';
import { TUNNEL_HEADERS, TUNNEL_TIMEOUTS } from '../tunnel/tunnel-http.ts';
import { tunnelFor } from '../tunnel/tunnel-stub.ts';
import type { CallerView, RankedReplica } from '../endpoints/route-request.ts';
import { CLIENT_LOCATION_HEADER, mayRetryElsewhere } from './request-parts.ts';
import type { RequestBody } from './replay-body.ts';
import type { ReplicaObservations } from './replica-observations.ts';

// Sends one caller's request to the ranked replicas through their nodes' tunnel objects
// (workers/tunnel/, one per node), in order, until one answers: the first response head ends
// the search and its body streams to the caller as it comes. A replica that fails before its
// first byte is taken out of this isolate's rotation at once, and the request moves on when the
// rules allow it (request-parts.ts `mayRetryElsewhere`): any method when the tunnel says nothing
// reached the replica, idempotent methods otherwise. Every wait is bounded (named below).

/** Replicas tried per request at most: enough to get past a dead node or two, not a fan-out over the fleet. */
export const MAX_ATTEMPTS = 3;
/** Request → response head, per attempt, asked of the tunnel object (it answers `upstream_timeout` past it). */
export const HEAD_TIMEOUT_MS = TUNNEL_TIMEOUTS.headMs;
/** Our own bound on one attempt, in case the tunnel object itself never answers (it has its own timeout: this is the backstop). */
export const ATTEMPT_GUARD_MS = HEAD_TIMEOUT_MS + 5_000;
export type ForwardOutcome =
  | { kind: 'answered'; response: Response; replicaId: string; ttfbMs: number }
  | { kind: 'failed'; response: Response };

export interface ForwardRequest {
  method: string;
  /** Path and query after `/e/{id}`, or the whole `/e/{id}/…` when the endpoint keeps its prefix. */
  pathAndQuery: string;
  headers: Headers;
  body: RequestBody;
}

/** Headers that are ours and never reach a replica (the tunnel strips credentials and hop-by-hop headers itself). */
const GATEWAY_ONLY = [CLIENT_LOCATION_HEADER];

function tunnelRequest(req: ForwardRequest, replicaId: string, body: BodyInit | null): Request {
  const headers = new Headers(req.headers);
  for (const name of GATEWAY_ONLY) headers.delete(name);
  headers.set(TUNNEL_HEADERS.replica, replicaId);
  headers.set(TUNNEL_HEADERS.headTimeout, String(HEAD_TIMEOUT_MS));
  return new Request(`https://node-tunnel${req.pathAndQuery}`, { method: req.method, headers, body, redirect: 'manual' });
}

/** The gateway's own error answer, in the protocol's body. */
export function gatewayError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json(errorBody(code, message), { status, headers });
}

/** The tunnel object's answer without its internal headers (the caller sees the protocol error body only). */
function withoutTunnelHeaders(res: Response): Response {
  const headers = new Headers(res.headers);
  headers.delete(TUNNEL_HEADERS.error);
  headers.delete(TUNNEL_HEADERS.requestSent);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** Tunnel codes that mean "this replica could not take it": the caller hears one code for all of them, and when to come back. */
const UNAVAILABLE = new Set(['tunnel_down', 'tunnel_busy', 'replica_unknown']);

function callerFacing(code: string, res: Response): Response {
  if (!UNAVAILABLE.has(code)) return withoutTunnelHeaders(res);
  void res.body?.cancel();
  return gatewayError(503, 'replica_unavailable', `No replica of this endpoint could take the request (last: ${code}).`, {
    'Retry-After': String(RETRY_AFTER_S),
  });
}

/** Retry-After on answers that say "no replica now": the cool-off after which a failed replica is tried again. */
export const RETRY_AFTER_S = 5;

const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The replica's response, streamed chunk by chunk (an identity TransformStream: nothing is
 * collected), with `done` called once the body ends, fails or the caller goes away (its
 * cancellation reaches the tunnel object, which resets the stream at the agent).
 */
export function streamed(res: Response, done: () => void, waitUntil: (p: Promise<unknown>) => void): Response {
  const headers = new Headers(res.headers);
  headers.delete(TUNNEL_HEADERS.error);
  headers.delete(TUNNEL_HEADERS.requestSent);
  if (res.body === null || NULL_BODY.has(res.status)) {
    done();
    return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, statusText: res.statusText, headers });
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  waitUntil(res.body.pipeTo(writable).then(done, done));
  return new Response(readable, { status: res.status, statusText: res.statusText, headers });
}

type Attempt = { kind: 'response'; res: Response } | { kind: 'threw'; error: unknown } | { kind: 'guard' };

async function attempt(env: Env, nodeId: string, request: Request): Promise<Attempt> {
  const stub = tunnelFor(env, nodeId);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<Attempt>((resolve) => (timer = setTimeout(() => resolve({ kind: 'guard' }), ATTEMPT_GUARD_MS)));
  const call: Promise<Attempt> = (stub.fetch(request) as Promise<Response>).then(
    (res: Response): Attempt => ({ kind: 'response', res }),
    (error: unknown): Attempt => ({ kind: 'threw', error }),
  );
  const first = await Promise.race([call, guard]);
  clearTimeout(timer);
  // An answer that comes after the guard fired is dropped: cancel its body so the tunnel resets the stream.
  if (first.kind === 'guard') void call.then((late: Attempt) => (late.kind === 'response' ? late.res.body?.cancel() : undefined));
  return first;
}

export async function forward(
  env: Env,
  ranked: readonly RankedReplica[],
  req: ForwardRequest,
  caller: CallerView,
  seen: ReplicaObservations,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<ForwardOutcome> {
  let failure: Response | null = null;
  for (let i = 0; i < ranked.length && i < MAX_ATTEMPTS; i++) {
    const { replica, rttMs } = ranked[i]!;
    // A streamed body was handed to the first replica; it cannot be sent again.
    if (i > 0 && req.body.kind === 'stream') break;
    const body: BodyInit | null =
      req.body.kind === 'none'
        ? null
        : req.body.kind === 'bytes'
          ? (req.body.bytes as Uint8Array<ArrayBuffer>)
          : (req.body.stream as ReadableStream<Uint8Array<ArrayBuffer>>);
    const sentAt = Date.now();
    seen.started(replica.replicaId);
    const result = await attempt(env, replica.nodeId, tunnelRequest(req, replica.replicaId, body));
    const now = Date.now();
    if (result.kind !== 'response') {
      // The tunnel object failed or never answered: whether the request reached the replica is unknown.
      seen.finished(replica.replicaId);
      seen.failed(replica.replicaId, now);
      failure =
        result.kind === 'guard'
          ? gatewayError(504, 'upstream_timeout', `The replica did not answer within ${Math.round(ATTEMPT_GUARD_MS / 1000)} s.`)
          : gatewayError(502, 'replica_unavailable', 'The replica could not be reached.');
      if (result.kind === 'threw') console.error('tunnel object fetch failed', replica.nodeId, result.error);
      if (!mayRetryElsewhere(req.method, true)) break;
      continue;
    }
    const res = result.res;
    const code = res.headers.get(TUNNEL_HEADERS.error);
    if (code === null) {
      seen.measured(caller.cell, replica.replicaId, now - sentAt, rttMs);
      // A WebSocket the replica accepted: the caller gets its end as it is. It may stay open for
      // hours, so it is not counted as a request open on the replica in this isolate's ranking.
      if (res.status === 101) {
        seen.finished(replica.replicaId);
        return { kind: 'answered', response: res, replicaId: replica.replicaId, ttfbMs: now - sentAt };
      }
      return {
        kind: 'answered',
        response: streamed(res, () => seen.finished(replica.replicaId), waitUntil),
        replicaId: replica.replicaId,
        ttfbMs: now - sentAt,
      };
    }
    seen.finished(replica.replicaId);
    // The tunnel's own errors below 500 are about the request (too large, malformed): the same at any replica.
    if (res.status < 500) return { kind: 'failed', response: withoutTunnelHeaders(res) };
    // A busy tunnel is full, not broken: skip it for this request only.
    if (code !== 'tunnel_busy') seen.failed(replica.replicaId, now);
    const sent = res.headers.get(TUNNEL_HEADERS.requestSent) !== '0';
    if (failure?.body) await failure.body.cancel();
    failure = callerFacing(code, res);
    if (!mayRetryElsewhere(req.method, sent)) break;
  }
  return {
    kind: 'failed',
    response:
      failure ??
      gatewayError(503, 'replica_unavailable', 'No replica of this endpoint could take the request.', {
        'Retry-After': String(RETRY_AFTER_S),
      }),
  };
}
