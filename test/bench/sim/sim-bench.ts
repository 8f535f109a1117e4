import type { BenchRow } from '../bench-table.ts';
import { runSimulator, summarize } from './sim-runner.ts';

/** The fault simulator's fixed seeds: steps per second (steps alone, invariant checks included) and faults per kind. */
export async function simBench(): Promise<BenchRow[]> {
  const run = await runSimulator({}, false);
  const s = summarize(run.results);
  return [
    {
      name: 'seeds (failed)',
      value: `${s.seeds} (${s.failed})`,
      unit: 'seeds',
      note: run.exitCode === 0 ? '' : 'the sim test file failed',
    },
    { name: 'simulation steps', value: s.steps, unit: 'steps' },
    {
      name: 'step rate',
      value: s.stepsPerSecond,
      unit: 'steps/s',
      note: 'each step: one operation, its faults and every invariant check (workerd, real D1)',
    },
    ...Object.entries(s.faults)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([kind, n]) => ({ name: `faults: ${kind}`, value: n, unit: 'injected' })),
  ];
}
