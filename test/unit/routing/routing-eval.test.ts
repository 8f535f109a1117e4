import { describe, expect, it } from 'vitest';
import { addedLatency, DEFAULT_EVAL_OPTIONS, runRoutingEval } from '../../bench/routing/routing-eval.ts';
import { buildWorld } from '../../bench/routing/synthetic-world.ts';

// The routing model must keep beating nearest-geographic on the structured synthetic world.
// Seeds other than the bench's, so the property is not one tuned world's accident.
describe('routing quality on the synthetic world', () => {
  it.each([11, 12, 13])('seed %i: the model adds well under half the latency nearest-geographic adds', (seed) => {
    const options = { ...DEFAULT_EVAL_OPTIONS, seed, nodes: 1500, renters: 250 };
    const q = addedLatency(buildWorld(options), options);
    expect(q.oracle.mean).toBe(0);
    expect(q.nearest.mean).toBeGreaterThan(4); // the world has structure worth modelling
    expect(q.model.mean).toBeLessThan(q.nearest.mean * 0.5);
    expect(q.model.p90).toBeLessThan(q.nearest.p90);
    expect(q.random.mean).toBeGreaterThan(q.nearest.mean);
  });

  it('reports the bench rows with stable names', () => {
    const rows = runRoutingEval({ nodes: 400, renters: 40, timingSizes: [200, 400] });
    const names = rows.map((r) => r.name);
    for (const s of ['nearest', 'model', 'oracle', 'random']) {
      expect(names).toContain(`routing.added_latency.mean.${s}`);
      expect(names).toContain(`routing.added_latency.p90.${s}`);
    }
    expect(names).toContain('routing.quote_time.table.400');
    expect(names).toContain('routing.quote_time.table.400_vs_200');
    for (const r of rows) expect(Number.isFinite(r.value)).toBe(true);
  });
});
