// Which replica serves one request to an endpoint URL (/e/{id}/…): the ready replicas in order of
// expected time to first byte from where the caller is. Pure: the gateway (workers/gateway/)
// keeps the inputs in the isolate and calls this once per request, so it must stay cheap
// (test/bench/endpoints: well under 0.2 ms of CPU with 50 replicas).
//
// Expected TTFB of replica r for a caller in cell c =
//     RTT estimate caller → r's node       (the quote's RTT model, workers/routing/rtt-model.ts)
//   + excess(c, r)                          (what r takes beyond that RTT in practice, learned)
//   + inflight(r) · loadMsPerInflight       (requests this isolate has open on r)
//
// excess(c, r) is an EWMA of (measured TTFB − RTT estimate) for requests from cell c served by r:
// the server's own time to first byte plus whatever the model gets wrong about that path. A
// replica nobody in c has been served by yet is assumed to take the median excess of the
// replicas that have been measured from c (the same server image runs everywhere, so most of the
// excess is shared), so measuring one replica neither favours nor punishes the others. A
// replica that is slow in practice (an overloaded GPU, a bad route the probes did not see)
// measures a higher excess than its peers and loses its place.

import { geoCell, type LatLon } from '../routing/geo.ts';
import {
  clientView,
  DEFAULT_RTT_PARAMS,
  estimateFromProfile,
  type ClientView,
  type NodeRttProfile,
  type ProbeIndex,
  type RttModelParams,
} from '../routing/rtt-model.ts';

export interface RouteReplica {
  readonly replicaId: string;
  readonly nodeId: string;
  /** The node's RTT profile (profileNode over the probe points the caller's view is built on). */
  readonly profile: NodeRttProfile;
}

/** The gateway's per-isolate knowledge, read by the ranking. */
export interface RouteObservations {
  /** Requests this isolate has open on the replica now. */
  inflight(replicaId: string): number;
  /** Learned excess TTFB (ms) of requests from `cell` served by the replica; undefined: never measured. */
  excessMs(cell: string, replicaId: string): number | undefined;
}

export interface RouteParams {
  /** Expected TTFB added per request already open on the replica (it shares its GPU with them). */
  readonly loadMsPerInflight: number;
  /** EWMA weight of a new TTFB sample. */
  readonly ewmaAlpha: number;
  readonly rtt: RttModelParams;
}

export const DEFAULT_ROUTE_PARAMS: RouteParams = {
  loadMsPerInflight: 25,
  ewmaAlpha: 0.2,
  rtt: DEFAULT_RTT_PARAMS,
};

/** Where the caller is, as the ranking needs it: the RTT model's view, and the cell TTFBs are learned per. */
export interface CallerView {
  readonly cell: string;
  readonly view: ClientView | null;
}

/** The cell a caller without a known location counts under: its TTFBs are learned apart from located callers'. */
export const UNKNOWN_CELL = 'unknown';

export function callerView(location: LatLon | null, index: ProbeIndex, p: RouteParams = DEFAULT_ROUTE_PARAMS): CallerView {
  if (location === null) return { cell: UNKNOWN_CELL, view: null };
  return { cell: geoCell(location.lat, location.lon), view: clientView(location, index, p.rtt) };
}

export interface RankedReplica {
  readonly replica: RouteReplica;
  readonly expectedMs: number;
  readonly rttMs: number;
}

/**
 * The replicas in the order to try them: lowest expected TTFB first, ties by replica id, so the
 * order does not depend on the order they came in. Every replica given is ranked: the caller has
 * already removed those not ready or out of this isolate's rotation.
 */
export function rankReplicas(
  replicas: readonly RouteReplica[],
  caller: CallerView,
  seen: RouteObservations,
  p: RouteParams = DEFAULT_ROUTE_PARAMS,
): RankedReplica[] {
  const n = replicas.length;
  const rtt = new Float64Array(n);
  const excess = new Float64Array(n);
  const measured: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = replicas[i]!;
    // Without the caller's location every replica is equally far: load and learned excess decide.
    rtt[i] = caller.view !== null && caller.view.index === r.profile.index ? estimateFromProfile(caller.view, r.profile, p.rtt) : 0;
    const e = seen.excessMs(caller.cell, r.replicaId);
    excess[i] = e === undefined ? Number.NaN : e;
    if (e !== undefined) measured.push(e);
  }
  const typical = measured.length === 0 ? 0 : median(measured);
  const ranked: RankedReplica[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = replicas[i]!;
    const e = excess[i]!;
    // biome-ignore lint/suspicious/noSelfCompare: `e === e` is false only for NaN (no sample yet); this runs per replica per request
    const expectedMs = rtt[i]! + (e === e ? e : typical) + seen.inflight(r.replicaId) * p.loadMsPerInflight;
    ranked[i] = { replica: r, expectedMs, rttMs: rtt[i]! };
  }
  ranked.sort(
    (a, b) =>
      a.expectedMs - b.expectedMs || (a.replica.replicaId < b.replica.replicaId ? -1 : a.replica.replicaId > b.replica.replicaId ? 1 : 0),
  );
  return ranked;
}

/** The new learned excess after a request whose first byte came `ttfbMs` after it was sent, where the model said `rttMs`. */
export function learnExcess(previous: number | undefined, ttfbMs: number, rttMs: number, p: RouteParams = DEFAULT_ROUTE_PARAMS): number {
  const sample = Math.max(0, ttfbMs - rttMs);
  return previous === undefined ? sample : previous + p.ewmaAlpha * (sample - previous);
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}
