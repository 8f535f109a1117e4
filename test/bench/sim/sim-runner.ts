import { spawn } from 'node:child_process';

// Runs the fault simulator's test file (test/worker/sim.test.ts, in workerd) with the seed
// options as environment variables, and collects the one `SIM_RESULT {json}` line per seed it
// prints. Shared by `npm run sim` and the bench.

export interface SeedResult {
  seed: number;
  ok: boolean;
  steps: number;
  ms: number;
  phases: { setupMs: number; stepsMs: number; quiesceMs: number };
  faults: Record<string, number>;
  ops: Record<string, number>;
}

export interface SimRun {
  exitCode: number;
  results: SeedResult[];
}

export function runSimulator(env: { seeds?: number; seed?: number; steps?: number }, echo: boolean): Promise<SimRun> {
  const vars: Record<string, string> = {};
  if (env.seeds !== undefined) vars.SIM_SEEDS = String(env.seeds);
  if (env.seed !== undefined) vars.SIM_SEED = String(env.seed);
  if (env.steps !== undefined) vars.SIM_STEPS = String(env.steps);
  const child = spawn('npx', ['vitest', 'run', '--config', 'test/worker/vitest.config.ts', 'test/worker/sim.test.ts'], {
    env: { ...process.env, ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const results: SeedResult[] = [];
  let buffered = '';
  const onData = (chunk: Buffer, to: NodeJS.WriteStream) => {
    if (echo) to.write(chunk);
    buffered += chunk.toString('utf8');
    let at: number;
    while ((at = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      const found = line.indexOf('SIM_RESULT ');
      if (found >= 0) results.push(JSON.parse(line.slice(found + 'SIM_RESULT '.length)) as SeedResult);
    }
  };
  child.stdout.on('data', (c: Buffer) => onData(c, process.stdout));
  child.stderr.on('data', (c: Buffer) => onData(c, process.stderr));
  return new Promise((resolve) => child.on('close', (code) => resolve({ exitCode: code ?? 1, results })));
}

/** Steps per second over the simulation steps alone, and faults injected per kind, summed over seeds. */
export function summarize(results: SeedResult[]) {
  const steps = results.reduce((n, r) => n + r.steps, 0);
  const stepsMs = results.reduce((n, r) => n + r.phases.stepsMs, 0);
  const faults: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
  return {
    seeds: results.length,
    failed: results.filter((r) => !r.ok).length,
    steps,
    stepsPerSecond: stepsMs > 0 ? (steps * 1000) / stepsMs : 0,
    faults,
  };
}
