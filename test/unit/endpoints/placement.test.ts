import { describe, expect, it } from 'vitest';
import { choosePlacements, poorlyServedTraffic, type PointCandidates } from '../../../workers/endpoints/placement.ts';
import { nextBill } from '../../../workers/endpoints/replica-billing.ts';
import { rolloutPlan } from '../../../workers/endpoints/rollout.ts';
import { desiredReplicas } from '../../../workers/endpoints/scaling.ts';

const region = (lat: number, lon: number) => ({ lat, lon, source: 'region' as const, requests: 0 });
const traffic = (lat: number, lon: number, requests: number) => ({ lat, lon, source: 'traffic' as const, requests });
const c = (nodeId: string, owner: string, estRttMs: number) => ({ nodeId, owner, estRttMs });

describe('choosePlacements', () => {
  it('serves asked regions in order, then the worst-served point', () => {
    const points: PointCandidates[] = [
      { point: region(48.9, 2.3), servedRttMs: Infinity, candidates: [c('par1', 'a', 3), c('par2', 'b', 4), c('tyo1', 'c', 230)] },
      { point: region(35.7, 139.7), servedRttMs: Infinity, candidates: [c('tyo1', 'c', 2), c('par1', 'a', 230)] },
    ];
    const out = choosePlacements({ count: 3, points, usedNodes: new Set(), usedOwners: new Set(), goodRttMs: 50 });
    expect(out.map((p) => [p.nodeId, p.point])).toEqual([
      ['par1', 0],
      ['tyo1', 1],
      ['par2', 0],
    ]);
  });

  it('prefers nodes of operators without a replica, and never a node that has one', () => {
    const points: PointCandidates[] = [
      { point: region(0, 0), servedRttMs: Infinity, candidates: [c('n1', 'a', 5), c('n2', 'a', 6), c('n3', 'b', 9)] },
    ];
    expect(choosePlacements({ count: 2, points, usedNodes: new Set(), usedOwners: new Set(), goodRttMs: 50 }).map((p) => p.nodeId)).toEqual(
      ['n1', 'n3'],
    );
    expect(
      choosePlacements({ count: 1, points, usedNodes: new Set(['n1']), usedOwners: new Set(['a']), goodRttMs: 50 }).map((p) => p.nodeId),
    ).toEqual(['n3']);
    // Same operator only when nothing else is left.
    expect(choosePlacements({ count: 3, points, usedNodes: new Set(), usedOwners: new Set(), goodRttMs: 50 }).map((p) => p.nodeId)).toEqual(
      ['n1', 'n3', 'n2'],
    );
  });

  it('places near traffic whose nearest replica is far, and says so to the scaler', () => {
    const points: PointCandidates[] = [
      { point: region(48.9, 2.3), servedRttMs: 4, candidates: [c('par2', 'b', 4)] },
      { point: traffic(40.7, -74, 120), servedRttMs: 80, candidates: [c('nyc1', 'd', 3)] },
    ];
    expect(poorlyServedTraffic(points, 50, new Set(['par1']))).toBe(true);
    expect(choosePlacements({ count: 1, points, usedNodes: new Set(['par1']), usedOwners: new Set(['a']), goodRttMs: 50 })[0]!.nodeId).toBe(
      'nyc1',
    );
    expect(poorlyServedTraffic([{ ...points[1]!, servedRttMs: 20 }], 50, new Set())).toBe(false);
  });
});

describe('desiredReplicas', () => {
  const base = {
    minReplicas: 1,
    maxReplicas: 4,
    targetInflight: 4,
    idleS: null,
    lastActiveAt: 0,
    nowMs: 1_000_000,
    current: 1,
    inflight: 0,
    poorlyServedTraffic: false,
  };
  it('scales on in-flight load between min and max, stepping down one at a time', () => {
    expect(desiredReplicas({ ...base, inflight: 9 }).desired).toBe(3);
    expect(desiredReplicas({ ...base, inflight: 100 }).desired).toBe(4);
    expect(desiredReplicas({ ...base, current: 4, inflight: 0 }).desired).toBe(3);
    expect(desiredReplicas({ ...base, current: 2, inflight: 0 }).desired).toBe(1);
  });
  it('scales to zero after the idle time only when set, and never with requests in flight', () => {
    expect(desiredReplicas({ ...base, idleS: 60, lastActiveAt: 1_000_000 - 60_000 }).desired).toBe(0);
    expect(desiredReplicas({ ...base, idleS: 60, lastActiveAt: 1_000_000 - 59_000 }).desired).toBe(1);
    expect(desiredReplicas({ ...base, idleS: 60, lastActiveAt: 0, inflight: 1 }).desired).toBe(1);
    expect(desiredReplicas({ ...base, minReplicas: 0, lastActiveAt: 0 }).desired).toBe(1);
  });
  it('adds one replica for poorly served traffic, within max', () => {
    expect(desiredReplicas({ ...base, current: 2, poorlyServedTraffic: true }).desired).toBe(3);
    expect(desiredReplicas({ ...base, current: 3, poorlyServedTraffic: true }).desired).toBe(4);
    expect(desiredReplicas({ ...base, current: 4, inflight: 16, poorlyServedTraffic: true }).desired).toBe(4);
  });
});

describe('rolloutPlan', () => {
  const r = (id: string, generation: number, state: string, placedAt: number) => ({ id, generation, state, placedAt });
  it('adds one new replica at a time and stops an old one per new ready one', () => {
    const old = [r('o1', 1, 'ready', 1), r('o2', 1, 'ready', 2)];
    expect(rolloutPlan(2, 2, old)).toEqual({ add: 1, stop: [] });
    expect(rolloutPlan(2, 2, [...old, r('n1', 2, 'starting', 3)])).toEqual({ add: 0, stop: [] });
    expect(rolloutPlan(2, 2, [...old, r('n1', 2, 'ready', 3)])).toEqual({ add: 1, stop: ['o2'] });
    expect(rolloutPlan(2, 2, [r('o1', 1, 'ready', 1), r('n1', 2, 'ready', 3), r('n2', 2, 'ready', 4)])).toEqual({ add: 0, stop: ['o1'] });
  });
  it('scales the current generation: not-ready replicas stop first', () => {
    expect(rolloutPlan(1, 1, [r('a', 1, 'ready', 1), r('b', 1, 'starting', 2)])).toEqual({ add: 0, stop: ['b'] });
    expect(rolloutPlan(1, 3, [r('a', 1, 'ready', 1)])).toEqual({ add: 2, stop: [] });
  });
});

describe('nextBill', () => {
  const row = {
    pricePerGpuHour: 3_600_000,
    gpuCount: 2,
    readySince: null,
    readyMs: 10_000,
    receiptReadyMs: 10_000,
    billedMs: 0,
    billedAmount: 0,
    billedFee: 0,
  };
  it('bills min(observed, receipt) at price × GPUs, the fee within it', () => {
    expect(nextBill(row, 0, 1000, 1_000_000n)).toEqual({ billedMs: 10_000, amount: 20_000n, fee: 2_000n, operator: 18_000n });
    expect(nextBill({ ...row, receiptReadyMs: 4_000 }, 0, 1000, 1_000_000n)?.amount).toBe(8_000n);
    expect(nextBill({ ...row, billedMs: 10_000, billedAmount: 20_000, billedFee: 2_000 }, 0, 1000, 1_000_000n)).toBeNull();
  });
  it('bills only the milliseconds the hold covers', () => {
    expect(nextBill(row, 0, 0, 5_000n)).toEqual({ billedMs: 2_500, amount: 5_000n, fee: 0n, operator: 5_000n });
    expect(nextBill(row, 0, 0, 0n)).toBeNull();
  });
});
