// Runs the real `gridplane-agent` CLI as a child process, the way an operator would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/local-stack.ts';

const BIN = join(repoRoot, 'edge-agent/bin/gridplane-agent.mjs');

export interface AgentSetup {
  url: string;
  name: string;
  lat: number;
  lon: number;
  country: string;
  simulateGpus: string;
  price?: string;
  owner?: string;
}

export interface AgentProcess {
  nodeId: string;
  home: string;
  /** The agent's process id (to pause it with SIGSTOP in fault tests). */
  pid: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function initAgent(setup: AgentSetup): { nodeId: string; home: string } {
  const home = join(mkdtempSync(join(tmpdir(), 'gridplane-agent-')), 'home');
  const result = spawnSync(
    process.execPath,
    [
      BIN,
      'init',
      '--home',
      home,
      '--url',
      setup.url,
      '--owner',
      setup.owner ?? '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM',
      '--name',
      setup.name,
      `--lat=${setup.lat}`,
      `--lon=${setup.lon}`,
      '--country',
      setup.country,
      '--price-per-gpu-hour',
      setup.price ?? '1.250000',
      '--simulate-gpus',
      setup.simulateGpus,
      '--json',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`agent init failed: ${result.stderr}${result.stdout}`);
  const line = result.stdout.split('\n').find((l) => l.includes('nodeId'));
  const nodeId = (JSON.parse(line!) as { nodeId: string }).nodeId;
  return { nodeId, home };
}

export function runAgent(agent: { nodeId: string; home: string }, extraArgs: string[] = []): AgentProcess {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'run', '--home', agent.home, '--json', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    ...agent,
    pid: child.pid!,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** Polls until `check` returns a value, or fails with what was last seen. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
