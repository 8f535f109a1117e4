import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { describeFailure, runSeed, type SimResult } from './sim/sim-run.ts';

// The seeded fault simulator (test/worker/sim/README.md) over the real domain code, real D1 and
// the litesvm chain. `npm test` runs the fixed seeds below; `npm run sim -- --seeds N` runs N
// seeds from a random start, `SIM_SEED=<seed> npm run sim` replays one.

(globalThis as { isSecureContext?: boolean }).isSecureContext ??= true;

// Chosen so that together they inject every fault kind (RPC timeout and clock skew come from seed 1).
const FIXED_SEEDS = [0x51a1, 1, 0x7e57ab1e];
const FIXED_STEPS = 60;

interface Options {
  seeds?: string;
  seed?: string;
  steps?: string;
}

const options = JSON.parse(env.SIM_OPTIONS || '{}') as Options;
const steps = options.steps ? Number(options.steps) : FIXED_STEPS;
const seeds: number[] = options.seed
  ? [Number(options.seed)]
  : options.seeds
    ? Array.from({ length: Number(options.seeds) }, (_, i) => (Date.now() + i * 0x9e3779b1) >>> 0)
    : FIXED_SEEDS;

const results: SimResult[] = [];

describe('seeded fault simulation', () => {
  for (const seed of seeds) {
    it(`seed ${seed} keeps every invariant through ${steps} steps and after the faults stop`, { timeout: 300_000 }, async () => {
      const result = await runSeed(seed, { steps });
      results.push(result);
      // One line the sim script and the bench read (steps/s, faults per kind).
      console.log(
        `SIM_RESULT ${JSON.stringify({ seed: result.seed, ok: result.ok, steps: result.steps, ms: Math.round(result.ms), phases: result.phases, faults: result.faults, ops: result.ops, opMs: result.opMs })}`,
      );
      if (!result.ok || options.seed) console.log(describeFailure(result));
      expect(result.violations, describeFailure(result)).toEqual([]);
    });
  }

  // The fixed seeds really inject crashes: a run without them proves little. Counted over the
  // seeds together: seed 1 drew 2 crashes in each of 5 runs alone (one under CPU load) and 0 once
  // beside three other worker files. Something outside the seed decides where an armed crash lands
  // (the system's own random draws, such as re-verification picks, or the real clock its shards
  // read); not pinned down. A random seed may draw none.
  if (!options.seed && !options.seeds) {
    it('the fixed seeds together inject crashes', () => {
      expect(results).toHaveLength(FIXED_SEEDS.length);
      const crashes = results.reduce((sum, r) => sum + (r.faults.crash ?? 0), 0);
      expect(crashes).toBeGreaterThan(0);
    });
  }
});
