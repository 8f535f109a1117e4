import { describe, expect, it } from 'vitest';
import { cpuRows, quoteCpu } from '../../bench/jobs/quote-cpu.ts';

// The real quote code (workers/jobs/quote.service.ts) over an in-memory registry answering each ring
// as the D1 pre-filter does: at 100,000 nodes a quote ranks a few dozen candidates, not the
// thousands of its neighbourhood, and still routes closer than nearest-geographic. Its CPU time
// is printed (the bench's figure); the bound asserted is the candidate count, which is what the
// CPU time follows and which does not depend on how loaded the machine is.

describe('quote CPU at 100,000 nodes', () => {
  it('ranks a bounded candidate set and keeps the routing quality', { timeout: 300_000 }, async () => {
    const points = await quoteCpu({ seed: 20261121, sizes: [100_000], renters: 60 });
    for (const row of cpuRows(points))
      console.log(`${row.name}: ${typeof row.value === 'number' ? row.value.toFixed(2) : row.value} ${row.unit} (${row.note ?? ''})`);
    const [at100k] = points;
    expect(at100k!.medianCandidates).toBeLessThan(300);
    expect(at100k!.meanAddedMs).toBeLessThan(at100k!.nearestMeanAddedMs);
  });
});
