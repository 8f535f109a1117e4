// Runs a job as a Docker container on a real GPU host. The exact commands:
//
//   docker run --name gridplane-<jobId> --label gridplane.job=<jobId> --gpus "device=<i,j>"
//              --init --pull missing --security-opt no-new-privileges --pids-limit <n>
//              [--cpus <c>] [--memory <m>] --env NAME … <image> <command…>
//   docker stop --time <s> gridplane-<jobId>        on stop()
//   docker rm -f gridplane-<jobId>                   after the exit, always
//
// Secrets: each env variable is passed as `--env NAME` (no value on the argv, none in a label);
// the value sits only in the environment of the `docker run` process, which the Docker CLI
// forwards to the container. Labels carry the job id and nothing else.
import { spawn } from 'node:child_process';
import type { ContainerRuntime, ExitStatus, RunningJob, StartRequest } from './runtime.ts';

export interface DockerRuntimeConfig {
  /** The docker CLI; `docker` on PATH by default. */
  dockerPath?: string;
  /** `--cpus`, e.g. "8"; unset: no limit. */
  cpus?: string;
  /** `--memory`, e.g. "32g"; unset: no limit. */
  memory?: string;
  pidsLimit?: number;
  stopTimeoutS?: number;
}

export const containerName = (jobId: string) => `gridplane-${jobId}`;

export function dockerRunArgs(request: Pick<StartRequest, 'spec' | 'gpuIndexes'>, config: DockerRuntimeConfig = {}): string[] {
  const { spec, gpuIndexes } = request;
  const args = [
    'run',
    '--name',
    containerName(spec.id),
    '--label',
    `gridplane.job=${spec.id}`,
    // The quotes are part of the value: docker's --gpus parser needs them around a list.
    '--gpus',
    `"device=${gpuIndexes.join(',')}"`,
    '--init',
    '--pull',
    'missing',
    '--security-opt',
    'no-new-privileges',
    '--pids-limit',
    String(config.pidsLimit ?? 4096),
  ];
  if (config.cpus) args.push('--cpus', config.cpus);
  if (config.memory) args.push('--memory', config.memory);
  for (const name of Object.keys(spec.env).sort()) args.push('--env', name);
  args.push(spec.image, ...spec.command);
  return args;
}

export function createDockerRuntime(config: DockerRuntimeConfig = {}): ContainerRuntime {
  const docker = config.dockerPath ?? 'docker';
  const run = (args: string[]) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(docker, args, { stdio: 'ignore' });
      child.once('error', () => resolve(null));
      child.once('close', (code) => resolve(code));
    });
  return {
    name: 'docker',
    simulated: false,
    async start(request: StartRequest): Promise<RunningJob> {
      const { spec, onOutput } = request;
      const name = containerName(spec.id);
      // A container left over from a crash of this agent would block the name.
      await run(['rm', '-f', name]);
      const child = spawn(docker, dockerRunArgs(request, config), {
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.setEncoding('utf8').on('data', (d: string) => onOutput('stdout', d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => onOutput('stderr', d));
      const exited = new Promise<ExitStatus>((resolve) => {
        child.once('error', (err) => resolve({ exitCode: null, error: `docker: ${err.message}` }));
        // docker run exits with the container's code; 125–127 are docker's own failures.
        child.once('close', (code) =>
          resolve(code !== null && code >= 125 && code <= 127 ? { exitCode: code, error: `docker run failed with ${code}` } : { exitCode: code }),
        );
      }).then(async (status) => {
        await run(['rm', '-f', name]);
        return status;
      });
      return {
        exited,
        async stop() {
          await run(['stop', '--time', String(config.stopTimeoutS ?? 10), name]);
          await exited;
        },
      };
    },
  };
}
