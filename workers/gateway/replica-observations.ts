import { learnExcess, type RouteObservations, type RouteParams, DEFAULT_ROUTE_PARAMS } from '../endpoints/route-request.ts';

// What this isolate has seen of each replica: requests open on it now, the learned excess time
// to first byte per (caller cell, replica), and which replicas are out of its rotation after a
// failure. Held in memory only: each isolate learns from the traffic it serves (no shared write
// per request), and a new isolate starts from the RTT model alone.

/** How long a replica that failed stays out of this isolate's rotation, unless the table shows it come back sooner. */
export const ROTATION_COOL_OFF_MS = 15_000;
/** Bound on the learned (cell, replica) pairs kept: cleared wholesale when full (cheap, and relearned in a few requests). */
const MAX_LEARNED = 50_000;

interface OutOfRotation {
  until: number;
  /** The routing table has shown the replica not ready since it failed here. */
  sawNotReady: boolean;
}

export class ReplicaObservations implements RouteObservations {
  private readonly open = new Map<string, number>();
  private readonly learned = new Map<string, number>();
  private readonly out = new Map<string, OutOfRotation>();

  constructor(private readonly params: RouteParams = DEFAULT_ROUTE_PARAMS) {}

  inflight(replicaId: string): number {
    return this.open.get(replicaId) ?? 0;
  }

  excessMs(cell: string, replicaId: string): number | undefined {
    return this.learned.get(`${cell}|${replicaId}`);
  }

  started(replicaId: string): void {
    this.open.set(replicaId, this.inflight(replicaId) + 1);
  }

  finished(replicaId: string): void {
    const n = this.inflight(replicaId) - 1;
    if (n > 0) this.open.set(replicaId, n);
    else this.open.delete(replicaId);
  }

  /** A first byte arrived `ttfbMs` after the request left, where the RTT model expected `rttMs`. */
  measured(cell: string, replicaId: string, ttfbMs: number, rttMs: number): void {
    const key = `${cell}|${replicaId}`;
    if (this.learned.size >= MAX_LEARNED && !this.learned.has(key)) this.learned.clear();
    this.learned.set(key, learnExcess(this.learned.get(key), ttfbMs, rttMs, this.params));
  }

  /** The replica failed before its first byte: out of this isolate's rotation now. */
  failed(replicaId: string, nowMs: number): void {
    this.out.set(replicaId, { until: nowMs + ROTATION_COOL_OFF_MS, sawNotReady: false });
  }

  /**
   * What a fresh routing table says of a replica that is out of rotation: once the table has
   * shown it not ready (its node reported the failure, or its tunnel closed) and then ready again,
   * it is back before the cool-off ends.
   */
  tableSays(replicaId: string, ready: boolean): void {
    const entry = this.out.get(replicaId);
    if (!entry) return;
    if (!ready) entry.sawNotReady = true;
    else if (entry.sawNotReady) this.out.delete(replicaId);
  }

  inRotation(replicaId: string, nowMs: number): boolean {
    const entry = this.out.get(replicaId);
    if (!entry) return true;
    if (nowMs < entry.until) return false;
    this.out.delete(replicaId);
    return true;
  }
}
