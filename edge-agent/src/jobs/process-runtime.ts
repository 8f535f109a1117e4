// Runs a job's command as a plain local process: for development hosts (`--simulate-gpus`) and
// tests. SIMULATED — no container, no image, no GPU: the image is ignored, the command runs
// with the job's env in a fresh temporary directory, in its own process group so stop() ends
// everything it started.
// An endpoint replica's server listens on the host port itself, told in env `PORT` (there is no
// container port to map, so the spec's port is not used).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerRuntime, ExitStatus, RunningJob, StartRequest } from './runtime.ts';

export interface ProcessRuntimeConfig {
  /** Milliseconds between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
}

export function createProcessRuntime(config: ProcessRuntimeConfig = {}): ContainerRuntime {
  const grace = config.stopGraceMs ?? 5_000;
  return {
    name: 'process (simulated)',
    simulated: true,
    async start({ spec, gpuIndexes, onOutput, publish }: StartRequest): Promise<RunningJob> {
      const dir = await mkdtemp(join(tmpdir(), `gridplane-${spec.id}-`));
      const [file, ...args] = spec.command.length > 0 ? spec.command : ['true'];
      // Only what a command needs to run, plus the job's own env: the agent's environment (its
      // key paths, tokens) is not the job's business.
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        LANG: process.env.LANG ?? 'C.UTF-8',
        ...spec.env,
        GRIDPLANE_JOB_ID: spec.id,
        GRIDPLANE_SIMULATED: '1',
        CUDA_VISIBLE_DEVICES: gpuIndexes.join(','),
        ...(publish ? { PORT: String(publish.hostPort) } : {}),
      };
      const child = spawn(file!, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      child.stdout.setEncoding('utf8').on('data', (d: string) => onOutput('stdout', d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => onOutput('stderr', d));
      const exited = new Promise<ExitStatus>((resolve) => {
        child.once('error', (err) => resolve({ exitCode: null, error: err.message }));
        child.once('close', (code) => resolve({ exitCode: code }));
      }).finally(() => rm(dir, { recursive: true, force: true }).catch(() => undefined));
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      return {
        exited,
        async stop() {
          signalGroup('SIGTERM');
          const timer = setTimeout(() => signalGroup('SIGKILL'), grace);
          await exited;
          clearTimeout(timer);
        },
      };
    },
  };
}
