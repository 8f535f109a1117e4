import { describe, expect, it } from 'vitest';
import { choosePlacements, poorlyServedTraffic, type DemandPoint, type PointCandidates } from '../../../workers/endpoints/placement.ts';
import { keptForTraffic, rolloutPlan } from '../../../workers/endpoints/rollout.ts';
import { desiredReplicas } from '../../../workers/endpoints/scaling.ts';

// Ticks of the pure scaling policy as tend.ts runs it (scale, then roll-out plan, then placement),
// with a made-up RTT table: a replica placed for poorly served traffic must not be stopped by the
// next tick's scale-down and placed again by the one after (the e2e run saw 11–14 in a row).

const GOOD = 50;
const paris = { lat: 48.9, lon: 2.3, source: 'traffic' as const, requests: 40 };
const tokyo = { lat: 35.7, lon: 139.7, source: 'traffic' as const, requests: 25 };
/** Estimated RTT from each point (by index) to each node. */
const RTT: Record<string, number[]> = { par1: [3, 230], par2: [5, 232], tyo1: [231, 4], tyo2: [233, 6] };
const owner = (id: string) => `op-${id}`;

function simulate(points: DemandPoint[], ticks: number, min: number, max: number, start: string[] = ['par1']) {
  const live = start.map((nodeId, i) => ({ id: `s${i}`, nodeId, placedAt: i }));
  const events: string[] = [];
  let next = 1;
  for (let t = 1; t <= ticks; t++) {
    const used = new Set(live.map((r) => r.nodeId));
    const view: PointCandidates[] = points.map((point, i) => ({
      point,
      servedRttMs: Math.min(Infinity, ...live.map((r) => RTT[r.nodeId]![i]!)),
      candidates: Object.keys(RTT)
        .filter((n) => !used.has(n))
        .sort((a, b) => RTT[a]![i]! - RTT[b]![i]!)
        .map((n) => ({ nodeId: n, owner: owner(n), estRttMs: RTT[n]![i]! })),
    }));
    const replicas = live.map((r) => ({ id: r.id, generation: 1, state: 'ready', placedAt: r.placedAt }));
    const traffic = { points, reach: live.map((r) => ({ id: r.id, rttMs: RTT[r.nodeId]! })), goodRttMs: GOOD };
    const decision = desiredReplicas({
      minReplicas: min,
      maxReplicas: max,
      targetInflight: 4,
      idleS: null,
      lastActiveAt: t * 60_000,
      nowMs: t * 60_000,
      current: live.length,
      inflight: 0,
      poorlyServedTraffic: poorlyServedTraffic(view, GOOD, used),
      keptForTraffic: keptForTraffic(1, replicas, traffic),
    });
    const plan = rolloutPlan(1, decision.desired, replicas, traffic);
    for (const id of plan.stop) {
      events.push(`stop ${live.find((r) => r.id === id)!.nodeId}`);
      live.splice(
        live.findIndex((r) => r.id === id),
        1,
      );
    }
    const usedNow = new Set(live.map((r) => r.nodeId));
    const viewNow = view.map((p, i) => ({ ...p, servedRttMs: Math.min(Infinity, ...live.map((r) => RTT[r.nodeId]![i]!)) }));
    for (const c of choosePlacements({
      count: plan.add,
      points: viewNow,
      usedNodes: usedNow,
      usedOwners: new Set([...usedNow].map(owner)),
      goodRttMs: GOOD,
    })) {
      events.push(`place ${c.nodeId}`);
      live.push({ id: `r${next++}`, nodeId: c.nodeId, placedAt: t * 60_000 });
    }
  }
  return { events, nodes: live.map((r) => r.nodeId).sort() };
}

describe('scaling hysteresis', () => {
  it('min 1 / max 3, traffic from Paris and Tokyo: Tokyo is placed once and kept', () => {
    const { events, nodes } = simulate([paris, tokyo], 30, 1, 3);
    expect(events).toEqual(['place tyo1']);
    expect(nodes).toEqual(['par1', 'tyo1']);
  });

  it('a replica no traffic point needs still steps down, one per tick, to min', () => {
    // Load gone, only Paris calls: the Tokyo replica (newest) is stopped and never placed again.
    const { events, nodes } = simulate([paris], 30, 1, 3, ['par1', 'tyo1']);
    expect(events).toEqual(['stop tyo1']);
    expect(nodes).toEqual(['par1']);
  });

  it('an idle endpoint scales to zero even where traffic kept a replica (the idle rule wins)', () => {
    // Both replicas serve a traffic point well (the protection would keep them), but no request
    // came for idleS: scale to zero stops both (the e2e run waited 150 s for this before the fix).
    const replicas = [
      { id: 's0', generation: 1, state: 'ready', placedAt: 0 },
      { id: 's1', generation: 1, state: 'ready', placedAt: 1 },
    ];
    const traffic = {
      points: [paris, tokyo],
      reach: [
        { id: 's0', rttMs: RTT.par1! },
        { id: 's1', rttMs: RTT.tyo1! },
      ],
      goodRttMs: GOOD,
    };
    const decision = desiredReplicas({
      minReplicas: 0,
      maxReplicas: 3,
      targetInflight: 4,
      idleS: 60,
      lastActiveAt: 0,
      nowMs: 61_000,
      current: 2,
      inflight: 0,
      poorlyServedTraffic: false,
      keptForTraffic: keptForTraffic(1, replicas, traffic),
    });
    expect(decision).toEqual({ desired: 0, reason: 'idle' });
    expect(rolloutPlan(1, decision.desired, replicas, traffic).stop.sort()).toEqual(['s0', 's1']);
  });
});
