// `npm run sim -- --seeds N` runs N seeds of the fault simulator from a random start;
// `npm run sim -- --seed S [--steps K]` (or SIM_SEED=S SIM_STEPS=K npm run sim) replays one seed.
// Without options it runs the fixed seeds that `npm test` runs. A failure prints its seed and trace.
import { runSimulator, summarize } from './sim-runner.ts';

function option(name: string): number | undefined {
  const at = process.argv.indexOf(`--${name}`);
  const text = at >= 0 ? process.argv[at + 1] : process.env[`SIM_${name.toUpperCase()}`];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, not ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

const run = await runSimulator({ seeds: option('seeds'), seed: option('seed'), steps: option('steps') }, true);
const s = summarize(run.results);
console.log(`\nsimulator: ${s.seeds} seeds, ${s.failed} failed, ${s.steps} steps, ${s.stepsPerSecond.toFixed(1)} steps/s`);
console.log(
  `faults injected: ${
    Object.entries(s.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'
  }`,
);
process.exit(run.exitCode);
