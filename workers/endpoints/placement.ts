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
    (p) => p.point.source === 'traffic' && p.point.requests > 0 && p.servedRttMs > goodRttMs && p.candidates.some((c) => !usedNodes.has(c.nodeId) && c.estRttMs < p.servedRttMs),
  );
}
