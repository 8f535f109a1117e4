// The renter-independent route rank stored on `node_gpus.route_rank`: how good a node is for
// any renter before the renter's distance is known. Quotes read the K best rows per (GPU model,
// cell) by this rank (workers/jobs/quote.repo.ts), then rank those few with the renter's real latency.
//
// The rank is kept by SQL triggers (db/migrations/0013_quote_route_rank_triggers.sql), so every
// writer of nodes, node_gpus and gpu_commitments keeps it current without knowing about it. This
// function is the same formula in TypeScript; test/worker/jobs-route-rank.test.ts checks that the
// triggers and this function agree. Change both together.
//
// The weights mirror DEFAULT_ROUTING_WEIGHTS (latency 0.55, price 0.25, reputation 0.10, uptime
// 0.07, stake 0.03). Latency here is only the node's own measured excess over the geographic
// baseline (its access line and local detours): the renter's distance is added at quote time.
// Price scores against a fixed 1 token per GPU-hour (at 6 decimals) instead of the cheapest offer,
// which is renter-dependent. The pre-filter only orders nodes within one (model, cell); the
// final score uses the configured weights.

import { clientView, DEFAULT_RTT_PARAMS, estimateFromProfile, profileNode, type ProbeIndex, type RttNode } from './rtt-model.ts';

export const ROUTE_RANK_SCALE = 10_000;
/** An unmeasured node is assumed this far over the baseline (DEFAULT_RTT_PARAMS.unmeasuredExcessMs). */
export const UNMEASURED_EXCESS_MS = 15;
const LATENCY_REF_MS = 30;
const PRICE_HALF = 1_000_000;
const STAKE_HALF = 1_000_000_000;

export interface RouteRankInput {
  status: string;
  eligible: boolean;
  suspended: boolean;
  /** Free GPUs of this group. */
  free: number;
  rttExcessMs: number | null;
  pricePerGpuHour: number;
  reputation: number;
  onlineMs: number;
  lastSeenAt: number;
  registeredAt: number;
  stakeTotal: number;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/**
 * 0 when the group cannot take a job now; otherwise 10 001 − ⌊score × 10 000⌋: a position, lower
 * is better, so the pre-filter walks its index forwards from the first rank above 0 (one row read
 * for a (model, cell) with nothing to offer, where a backwards walk reads two).
 */
export function routeRank(n: RouteRankInput): number {
  if (n.status !== 'online' || !n.eligible || n.suspended || n.free <= 0) return 0;
  const score =
    (0.55 * LATENCY_REF_MS) / (LATENCY_REF_MS + Math.max(0, n.rttExcessMs ?? UNMEASURED_EXCESS_MS)) +
    (0.25 * PRICE_HALF) / (PRICE_HALF + n.pricePerGpuHour) +
    0.1 * clamp01(n.reputation) +
    0.07 * clamp01(n.onlineMs / Math.max(1, n.lastSeenAt - n.registeredAt)) +
    (0.03 * n.stakeTotal) / (n.stakeTotal + STAKE_HALF);
  return ROUTE_RANK_SCALE + 1 - Math.trunc(ROUTE_RANK_SCALE * score);
}

/**
 * The node's own latency excess for the rank: the RTT model's estimate for a renter standing at
 * the node, less the fibre-free baseline of zero distance. Unlike the profile's typical excess it
 * reads the residuals towards the probe points nearest the node, as a quote from nearby does, so
 * a node backhauled to a far hub (small residuals far away, large ones near) ranks as slow as it
 * is. Rounded to 0.1 ms so a fold moves a rank only when it really changed; null: nothing measured.
 */
export function nodeRttExcess(node: RttNode, index: ProbeIndex): number | null {
  const profile = profileNode(node, index, DEFAULT_RTT_PARAMS);
  if (!profile.residualMs.some((r) => !Number.isNaN(r))) return null;
  const local = estimateFromProfile(clientView(node, index, DEFAULT_RTT_PARAMS), profile, DEFAULT_RTT_PARAMS);
  return Math.round((local - DEFAULT_RTT_PARAMS.baseMs) * 10) / 10;
}
