// Which replicas to add and which to stop, given how many the endpoint wants. Pure.
//
// Scaling: replicas of the current generation are added or stopped to reach `desired` (not-ready
// ones stopped first, then the newest). Image roll-out (PATCH with a new image bumps the
// generation): old-generation replicas keep serving while new ones start, one at a time; each
// old one stops once enough new ones are ready to replace it:
//   keep old = max(0, desired − new ready)      (the newest old ones stop first)
//   add new  = at most one not-ready new replica at a time while old ones remain (a surge of one),
//              all that is missing once none remain
// So capacity never drops below min(desired, ready replicas) during a roll-out, and a new image
// that never becomes ready never takes the old ones down.
// Scaling down never stops a replica that traffic needs (`stopsKeepingTraffic`, placement.ts: the
// hysteresis against place-then-stop cycles); `keptForTraffic` tells the scaler how many those are.

import { stopsKeepingTraffic, type DemandPoint, type ReplicaReach } from './placement.ts';

export interface RolloutReplica {
  id: string;
  generation: number;
  state: string;
  placedAt: number;
}

export interface RolloutPlan {
  add: number;
  stop: string[];
}

/** Where the demand is and how far each live replica is from it (placementView). */
export interface TrafficReach {
  points: readonly DemandPoint[];
  reach: readonly ReplicaReach[];
  goodRttMs: number;
}

const byAge = (a: RolloutReplica, b: RolloutReplica) => b.placedAt - a.placedAt || (a.id < b.id ? 1 : -1);
/** The current generation's scale-down order: not-ready ones first, then the newest. */
const stopOrder = (current: readonly RolloutReplica[]) =>
  [...current].sort((a, b) => Number(a.state === 'ready') - Number(b.state === 'ready') || byAge(a, b)).map((r) => r.id);

/** How many of the current generation cannot stop without leaving traffic poorly served (the scaler's floor). */
export function keptForTraffic(generation: number, live: readonly RolloutReplica[], traffic: TrafficReach): number {
  const current = live.filter((r) => r.generation === generation);
  return current.length - stopsKeepingTraffic(traffic.points, traffic.reach, stopOrder(current), current.length, traffic.goodRttMs).length;
}

export function rolloutPlan(generation: number, desired: number, live: readonly RolloutReplica[], traffic?: TrafficReach): RolloutPlan {
  const current = live.filter((r) => r.generation === generation);
  const old = live.filter((r) => r.generation !== generation).sort(byAge);
  const ready = current.filter((r) => r.state === 'ready');
  const stop: string[] = [];
  // Current generation above desired: stop not-ready ones first, then the newest, skipping those
  // traffic needs (with the scaler's floor from keptForTraffic, enough others are left to stop).
  if (current.length > desired) {
    const order = stopOrder(current);
    const n = current.length - desired;
    // Scaling to zero (the idle rule) stops them all: traffic protection keeps replicas while
    // traffic comes, and an idle endpoint has none.
    const protect = traffic && desired > 0;
    stop.push(...(protect ? stopsKeepingTraffic(traffic.points, traffic.reach, order, n, traffic.goodRttMs) : order.slice(0, n)));
  }
  const readyKept = Math.min(ready.length, desired);
  const keepOld = Math.max(0, desired - readyKept);
  stop.push(...old.slice(0, Math.max(0, old.length - keepOld)).map((r) => r.id));
  const currentKept = Math.min(current.length, desired);
  const missing = Math.max(0, desired - currentKept);
  const oldLeft = old.length - Math.max(0, old.length - keepOld);
  const starting = current.filter((r) => r.state !== 'ready').length;
  const add = oldLeft > 0 ? (starting === 0 ? Math.min(1, missing) : 0) : missing;
  return { add, stop };
}
