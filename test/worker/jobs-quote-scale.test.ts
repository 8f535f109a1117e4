import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { quoteScale, scaleRows } from '../bench/jobs/quote-scale.ts';
import { api } from './helpers/agent.ts';

// The quote path at 1k, 10k and 100k registered nodes, in workerd with real D1: the figures of
// the jobs bench, and a guard that a quote reads a small, bounded number of rows (K per model and
// cell, not every node near the renter) while still finding nodes closer than nearest-geographic.

describe('quotes at scale', () => {
  it('reads a bounded number of rows at 100,000 nodes and routes close to the best node', { timeout: 600_000 }, async () => {
    const points = await quoteScale(api, {
      seed: 20261121,
      sizes: [1_000, 10_000, 100_000],
      quotesPerSize: 60,
      adminToken: env.ADMIN_TOKEN!,
    });
    for (const row of scaleRows(points, 'workerd + local D1 (vitest)'))
      console.log(`${row.name}: ${typeof row.value === 'number' ? row.value.toFixed(2) : row.value} ${row.unit} (${row.note ?? ''})`);
    const at100k = points.find((p) => p.nodes === 100_000)!;
    expect(at100k.maxRowsRead).toBeLessThan(5_000);
    expect(at100k.medianRowsRead).toBeLessThan(1_000);
    expect(at100k.meanAddedMs).toBeLessThan(at100k.nearestMeanAddedMs);
  });
});
