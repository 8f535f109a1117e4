import { describe, expect, it } from 'vitest';
import type { LatLon } from '../../../workers/routing/geo.ts';
import { rankCandidates, type RouteRequest, type RoutingNode } from '../../../workers/routing/rank.ts';
import { buildRoutingTable } from '../../../workers/routing/routing-table.ts';
import { DEFAULT_ROUTING_WEIGHTS, RoutingWeightsSchema, type RoutingWeights } from '../../../workers/routing/routing-weights.ts';
import { buildProbeIndex, DEFAULT_RTT_PARAMS } from '../../../workers/routing/rtt-model.ts';

const PROBES = new Map<string, LatLon>([
  ['FRA', { lat: 50.11, lon: 8.68 }],
  ['LON', { lat: 51.51, lon: -0.13 }],
]);
const PARIS = { lat: 48.86, lon: 2.35 };

function node(id: string, over: Partial<RoutingNode> = {}): RoutingNode {
  return {
    id,
    status: 'online',
    suspended: false,
    location: PARIS,
    gpus: [{ model: 'RTX 4090', vramMb: 24_564, count: 2 }],
    pricePerGpuHour: 1_000_000n,
    reputation: 0.9,
    uptime: 0.99,
    stake: 0n,
    probes: [
      { target: 'FRA', rttMs: 9 },
      { target: 'LON', rttMs: 8 },
    ],
    ...over,
  };
}

const request: RouteRequest = { gpu: { model: '4090', count: 1 }, client: PARIS };
const rank = (nodes: RoutingNode[], req: RouteRequest = request, weights: RoutingWeights = DEFAULT_ROUTING_WEIGHTS, limit = 10) =>
  rankCandidates(req, nodes, PROBES, weights, limit).map((c) => c.nodeId);

describe('eligibility', () => {
  it('keeps only online nodes', () => {
    expect(rank([node('a'), node('b', { status: 'offline' })])).toEqual(['a']);
  });
  it('drops suspended nodes', () => {
    expect(rank([node('a'), node('b', { suspended: true })])).toEqual(['a']);
  });
  it('needs enough free GPUs of the model, not counting those committed to jobs', () => {
    const req = { ...request, gpu: { model: 'RTX 4090', count: 2 } };
    const busy = node('busy', { gpus: [{ model: 'RTX 4090', vramMb: 24_564, count: 2, committed: 1 }] });
    const split = node('split', {
      gpus: [
        { model: 'RTX 4090', vramMb: 24_564, count: 1 },
        { model: 'RTX 4090', vramMb: 24_564, count: 3, committed: 2 },
      ],
    });
    const other = node('other', { gpus: [{ model: 'RTX 3090', vramMb: 24_576, count: 8 }] });
    expect(rank([busy, split, other, node('free')], req).sort()).toEqual(['free', 'split']);
  });
  it('matches the model the way people type it, and any model when none is asked', () => {
    const a100 = node('a100', { gpus: [{ model: 'A100 80GB', vramMb: 81_920, count: 1 }] });
    const h100 = node('h100', { gpus: [{ model: 'H100 80GB', vramMb: 81_920, count: 1 }] });
    expect(rank([a100, h100], { ...request, gpu: { model: 'NVIDIA A100', count: 1 } })).toEqual(['a100']);
    expect(rank([a100, h100], { ...request, gpu: { count: 1 } }).sort()).toEqual(['a100', 'h100']);
    expect(rank([a100, h100], { ...request, gpu: { model: 'V100', count: 1 } })).toEqual([]);
  });
  it('needs enough VRAM per GPU', () => {
    const small = node('small', { gpus: [{ model: 'RTX 4090', vramMb: 24_564, count: 4 }] });
    const big = node('big', { gpus: [{ model: 'RTX 4090', vramMb: 49_152, count: 1 }] });
    expect(rank([small, big], { ...request, gpu: { model: '4090', minVramMb: 40_000, count: 1 } })).toEqual(['big']);
  });
  it('respects the price cap, inclusive, exactly in base units', () => {
    const cap = 9_007_199_254_740_993n; // 2^53 + 1: a float cannot tell it from 2^53
    const nodes = [
      node('at', { pricePerGpuHour: cap }),
      node('over', { pricePerGpuHour: cap + 1n }),
      node('under', { pricePerGpuHour: 2_000_000n }),
    ];
    expect(rank(nodes, { ...request, maxPricePerGpuHour: cap }).sort()).toEqual(['at', 'under']);
    expect(rank(nodes, { ...request, maxPricePerGpuHour: 1_999_999n })).toEqual([]);
  });
});

describe('ranking', () => {
  const latencyOnly = RoutingWeightsSchema.parse({ ...DEFAULT_ROUTING_WEIGHTS, price: 0, reputation: 0, stake: 0, uptime: 0 });

  it('prefers the nearer node, the cheaper node, the more reputable node', () => {
    const berlin = node('berlin', {
      location: { lat: 52.52, lon: 13.4 },
      probes: [
        { target: 'FRA', rttMs: 12 },
        { target: 'LON', rttMs: 20 },
      ],
    });
    expect(rank([berlin, node('paris')])).toEqual(['paris', 'berlin']);
    expect(rank([node('dear', { pricePerGpuHour: 3_000_000n }), node('cheap')])).toEqual(['cheap', 'dear']);
    expect(rank([node('meh', { reputation: 0.2 }), node('good', { reputation: 1 })])).toEqual(['good', 'meh']);
  });

  it('lets latency outweigh a small price difference, and a large one outweigh latency', () => {
    const far = {
      location: { lat: 51.51, lon: -0.13 },
      probes: [
        { target: 'FRA', rttMs: 11 },
        { target: 'LON', rttMs: 3 },
      ],
    };
    expect(rank([node('far-cheap', { ...far, pricePerGpuHour: 900_000n }), node('near')])).toEqual(['near', 'far-cheap']);
    expect(rank([node('far-cheap', { ...far, pricePerGpuHour: 100_000n }), node('near')])).toEqual(['far-cheap', 'near']);
  });

  it('breaks exact ties by id, deterministically, whatever the input order', () => {
    const nodes = ['c', 'a', 'd', 'b'].map((id) => node(id));
    expect(rank(nodes)).toEqual(['a', 'b', 'c', 'd']);
    expect(rank([...nodes].reverse())).toEqual(['a', 'b', 'c', 'd']);
  });

  it('returns at most `limit`, best first, with the quote fields', () => {
    const nodes = Array.from({ length: 50 }, (_, i) =>
      node(`n${String(i).padStart(2, '0')}`, { location: { lat: 48.86 + i * 0.2, lon: 2.35 } }),
    );
    const out = rankCandidates(request, nodes, PROBES, latencyOnly, 5);
    expect(out.map((c) => c.nodeId)).toEqual(['n00', 'n01', 'n02', 'n03', 'n04']);
    for (let i = 1; i < out.length; i++) expect(out[i - 1]?.score).toBeGreaterThanOrEqual(out[i]?.score ?? 0);
    expect(out[0]).toMatchObject({ pricePerGpuHour: 1_000_000n, location: PARIS });
    expect(out[0]?.estRttMs).toBeGreaterThan(0);
    expect(rankCandidates(request, nodes, PROBES, latencyOnly, 0)).toEqual([]);
  });

  it('gives the same answer from a node list and from a routing table', () => {
    const nodes = Array.from({ length: 200 }, (_, i) =>
      node(`n${i}`, {
        location: { lat: 40 + (i % 20), lon: -5 + (i % 13) },
        pricePerGpuHour: BigInt(500_000 + ((i * 7919) % 1_000_000)),
        reputation: (i % 10) / 10,
        stake: BigInt(i) * 100_000_000n,
      }),
    );
    const index = buildProbeIndex(PROBES);
    const table = buildRoutingTable(nodes, index, DEFAULT_RTT_PARAMS);
    expect(rankCandidates(request, table, index, DEFAULT_ROUTING_WEIGHTS, 15)).toEqual(
      rankCandidates(request, nodes, index, DEFAULT_ROUTING_WEIGHTS, 15),
    );
    // The pruned top-k equals a full sort of every candidate.
    const all = rankCandidates(request, nodes, index, DEFAULT_ROUTING_WEIGHTS, 1000);
    expect(all).toHaveLength(200);
    expect(rankCandidates(request, table, index, DEFAULT_ROUTING_WEIGHTS, 15)).toEqual(all.slice(0, 15));
  });

  it('refuses a table built for other probe points', () => {
    const table = buildRoutingTable([node('a')], buildProbeIndex(PROBES), DEFAULT_RTT_PARAMS);
    expect(() => rankCandidates(request, table, new Map(PROBES), DEFAULT_ROUTING_WEIGHTS, 1)).toThrow(/probe points/);
  });
});

describe('RoutingWeightsSchema', () => {
  const raw = { latency: 0.6, price: 0.2, reputation: 0.1, stake: 0.05, uptime: 0.05, latencyRefMs: 30, stakeHalfBaseUnits: '1000000' };
  it('parses configuration, stake as a base-unit string', () => {
    expect(RoutingWeightsSchema.parse(raw).stakeHalfBaseUnits).toBe(1_000_000n);
    expect(RoutingWeightsSchema.parse(DEFAULT_ROUTING_WEIGHTS)).toEqual(DEFAULT_ROUTING_WEIGHTS);
  });
  it.each([
    ['a negative weight', { price: -1 }],
    ['all weights zero', { latency: 0, price: 0, reputation: 0, stake: 0, uptime: 0 }],
    ['a zero latency reference', { latencyRefMs: 0 }],
    ['a non-number weight', { latency: '0.5' }],
    ['a fractional stake', { stakeHalfBaseUnits: '1.5' }],
    ['a zero stake half-point', { stakeHalfBaseUnits: 0 }],
    ['a missing field', { uptime: undefined }],
  ])('rejects %s', (_, change) => {
    expect(RoutingWeightsSchema.safeParse({ ...raw, ...change }).success).toBe(false);
  });
});
