// Where an endpoint's new replicas go. Pure: the I/O side (endpoint-placement.ts) asks the quote
// for eligible nodes around each demand point and estimates how well the existing replicas serve
// each point; this decides.
//
// Demand points, in order: the regions the renter asked for, then the places traffic comes from
// (busiest first). Each new replica goes to the first point that no replica serves well yet
// (estimated RTT above `goodRttMs`), or, when every point is served, to the worst-served one;
// there it takes the quote's best candidate (the quote already ranks by latency from that point,
// price, reputation, stake, uptime), skipping nodes that hold a replica of this endpoint and
// preferring operators that hold none. Every pick updates how well each point is served.

export interface DemandPoint {
  lat: number;
  lon: number;
  source: 'region' | 'traffic';
  /** Requests seen from there recently (traffic); 0 for asked regions. */
  requests: number;
}

export interface PlacementCandidate {
  nodeId: string;
  /** The operator's wallet: replicas on one operator's nodes fail together more often. */
  owner: string;
  /** Estimated RTT from the demand point this candidate was found for. */
  estRttMs: number;
}

export interface PointCandidates {
  point: DemandPoint;
  /** Eligible nodes near the point, best first (the quote's order). */
  candidates: readonly PlacementCandidate[];
  /** Best estimated RTT from the point to an existing replica; Infinity when there is none. */
  servedRttMs: number;
}

export interface PlacementInput {
  count: number;
  points: readonly PointCandidates[];
  /** Nodes and operators already holding a live replica of this endpoint. */
  usedNodes: ReadonlySet<string>;
  usedOwners: ReadonlySet<string>;
  goodRttMs: number;
}

export interface PlacementChoice {
  nodeId: string;
  owner: string;
  /** Index into `points` of the point it was placed for. */
  point: number;
}

export function choosePlacements(input: PlacementInput): PlacementChoice[] {
  const served = input.points.map((p) => p.servedRttMs);
  const usedNodes = new Set(input.usedNodes);
  const usedOwners = new Set(input.usedOwners);
  const out: PlacementChoice[] = [];
  while (out.length < input.count) {
    const order = pointOrder(served, input.goodRttMs);
    let picked: PlacementChoice | null = null;
    for (const p of order) {
      const candidates = input.points[p]!.candidates.filter((c) => !usedNodes.has(c.nodeId));
      const best = candidates.find((c) => !usedOwners.has(c.owner)) ?? candidates[0];
      if (best) {
        picked = { nodeId: best.nodeId, owner: best.owner, point: p };
        break;
      }
    }
    if (!picked) break;
    out.push(picked);
    usedNodes.add(picked.nodeId);
    usedOwners.add(picked.owner);
    input.points.forEach((p, i) => {
      const c = p.candidates.find((x) => x.nodeId === picked.nodeId);
      if (c && c.estRttMs < served[i]!) served[i] = c.estRttMs;
    });
  }
  return out;
}

/** Points not yet served well, in their given order; then the served ones, worst first. */
function pointOrder(served: readonly number[], goodRttMs: number): number[] {
  const idx = served.map((_, i) => i);
  const poor = idx.filter((i) => served[i]! > goodRttMs);
  const good = idx.filter((i) => served[i]! <= goodRttMs).sort((a, b) => served[b]! - served[a]! || a - b);
  return [...poor, ...good];
}

/** Whether traffic comes from somewhere no replica serves well and a node there could: reason to scale out. */
export function poorlyServedTraffic(points: readonly PointCandidates[], goodRttMs: number, usedNodes: ReadonlySet<string>): boolean {
  return points.some(
    (p) =>
      p.point.source === 'traffic' &&
      p.point.requests > 0 &&
      p.servedRttMs > goodRttMs &&
      p.candidates.some((c) => !usedNodes.has(c.nodeId) && c.estRttMs < p.servedRttMs),
  );
}

/** A live replica and its estimated RTT from each demand point (same order as the points). */
export interface ReplicaReach {
  id: string;
  rttMs: readonly number[];
}

/**
 * The scale-down's side of `poorlyServedTraffic` (hysteresis, so adding and stopping cannot undo
 * each other): up to `count` of `order` (best to stop first) that may stop one after the other.
 * A replica may not stop when, without it (and those picked before it), some traffic point would
 * be served worse than `goodRttMs` and it serves that point better than the rest: exactly the
 * case in which `poorlyServedTraffic` would ask for a replica again (its node freed is a candidate
 * at the same RTT), so the next tick would place it back (the e2e run: 11–14 replicas placed and
 * stopped in a row, each a cold start billed to the renter). Why this cannot oscillate: a stop
 * leaves every traffic point either served well or served exactly as before, so it never makes
 * `poorlyServedTraffic` true where it was false; and a replica placed for a poorly served point is
 * by construction better there than the rest, so it is kept while that traffic lasts. It goes when
 * the traffic does (the point leaves the 15-minute window) or when the RTTs change.
 * Needs the same RTT estimate for a node as candidate and as replica (endpoint-placement.ts).
 */
export function stopsKeepingTraffic(
  points: readonly DemandPoint[],
  reach: readonly ReplicaReach[],
  order: readonly string[],
  count: number,
  goodRttMs: number,
): string[] {
  const left = new Map(reach.map((r) => [r.id, r.rttMs]));
  const out: string[] = [];
  for (const id of order) {
    if (out.length >= count) break;
    const mine = left.get(id);
    if (mine) {
      left.delete(id);
      const needed = points.some((p, i) => {
        if (p.source !== 'traffic' || p.requests <= 0) return false;
        let rest = Number.POSITIVE_INFINITY;
        for (const rtt of left.values()) rest = Math.min(rest, rtt[i] ?? Number.POSITIVE_INFINITY);
        return rest > goodRttMs && (mine[i] ?? Number.POSITIVE_INFINITY) < rest;
      });
      if (needed) {
        left.set(id, mine);
        continue;
      }
    }
    out.push(id);
  }
  return out;
}
