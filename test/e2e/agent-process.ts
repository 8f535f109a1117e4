// Runs the real `gridplane-agent` CLI as a child process, the way an operator would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/local-stack.ts';

const BIN = join(repoRoot, 'edge-agent/bin/gridplane-agent.mjs');

/** Which node runs which agent entry: by default this Node and the checkout's bin (tsx). */
export interface AgentLauncher {
  node: string;
  entry: string;
}
const CHECKOUT: AgentLauncher = { node: process.execPath, entry: BIN };

export interface AgentSetup {
  url: string;
  name: string;
  lat: number;
  lon: number;
  country: string;
  simulateGpus: string;
  price?: string;
  owner?: string;
  /** Another node or entry, e.g. the machine's Node 20 running the built bundle. */
  launcher?: AgentLauncher;
}

export interface AgentProcess {
  nodeId: string;
  home: string;
  /** The agent's process id (to pause it with SIGSTOP in fault tests). */
  pid: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function initAgent(setup: AgentSetup): { nodeId: string; home: string; launcher: AgentLauncher } {
  const home = join(mkdtempSync(join(tmpdir(), 'gridplane-agent-')), 'home');
  const launcher = setup.launcher ?? CHECKOUT;
  const result = spawnSync(
    launcher.node,
    [
      launcher.entry,
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
  return { nodeId, home, launcher };
}

export function runAgent(agent: { nodeId: string; home: string; launcher?: AgentLauncher }, extraArgs: string[] = []): AgentProcess {
  const launcher = agent.launcher ?? CHECKOUT;
  const child: ChildProcess = spawn(launcher.node, [launcher.entry, 'run', '--home', agent.home, '--json', ...extraArgs], {
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
