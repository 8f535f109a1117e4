// How many replicas an endpoint wants. Pure.
//
//   idle     = idleS is set and no request for idleS seconds (and none in flight) → 0 (scale to
//              zero, whatever min says: min applies while the endpoint is in use)
//   floor    = max(min, 1, kept for traffic): a used endpoint keeps at least one replica, and
//              never scales below the replicas traffic needs (hysteresis: stopping one of those
//              would make the "+1 for poorly served traffic" rule place it again next tick;
//              rollout.ts keptForTraffic, placement.ts stopsKeepingTraffic says why it cannot cycle)
//   need     = ceil(in-flight requests / target in-flight per replica)
//   want     = need, +1 when traffic comes from a place no replica serves well
//   desired  = clamp(want, floor, max); going down, at most one replica per tick, so a short lull
//              does not drop replicas that the next burst needs again

export interface ScaleInput {
  minReplicas: number;
  maxReplicas: number;
  targetInflight: number;
  idleS: number | null;
  lastActiveAt: number;
  nowMs: number;
  /** Replicas the endpoint has now (placed, starting, ready or unhealthy). */
  current: number;
  /** Requests in flight over all its replicas (the tunnels' load counters). */
  inflight: number;
  poorlyServedTraffic: boolean;
  /** Replicas that cannot stop without leaving traffic poorly served (rollout.ts keptForTraffic). */
  keptForTraffic?: number;
}

export interface ScaleDecision {
  desired: number;
  reason: 'idle' | 'load' | 'min' | 'max' | 'traffic' | 'step_down';
}

export function desiredReplicas(i: ScaleInput): ScaleDecision {
  if (i.idleS !== null && i.inflight === 0 && i.nowMs - i.lastActiveAt >= i.idleS * 1000) return { desired: 0, reason: 'idle' };
  const floor = Math.max(i.minReplicas, 1, i.keptForTraffic ?? 0);
  const need = Math.ceil(i.inflight / Math.max(1, i.targetInflight));
  let want = need;
  let reason: ScaleDecision['reason'] = 'load';
  if (i.poorlyServedTraffic && Math.max(need, i.current) < i.maxReplicas) {
    want = Math.max(need, i.current) + 1;
    reason = 'traffic';
  }
  const target = Math.min(Math.max(want, floor), i.maxReplicas);
  // Going down, one replica per tick (checked before min/max name the reason).
  if (target < i.current - 1) return { desired: i.current - 1, reason: 'step_down' };
  if (want <= floor) return { desired: target, reason: floor > Math.max(i.minReplicas, 1) ? 'traffic' : 'min' };
  if (want >= i.maxReplicas) return { desired: target, reason: 'max' };
  return { desired: target, reason };
}
