// Runs a job as a Docker container on a real GPU host. The exact commands:
//
//   docker network inspect gridplane-jobs                 once per agent run, and when missing:
//   docker network create --driver bridge --opt com.docker.network.bridge.name=gp-jobs0
//          --opt com.docker.network.bridge.enable_icc=false --label gridplane.network=jobs gridplane-jobs
//   docker rm -f gridplane-<jobId>                        a leftover of a crash would block the name
//   docker run --name gridplane-<jobId> --label gridplane.job=<jobId> --gpus "device=<i,j>"
//              --init --pull missing --cap-drop ALL --security-opt no-new-privileges
//              --pids-limit <n> --memory <m> --memory-swap <m> [--cpus <c>] --network <net>
//              [--publish 127.0.0.1:<host port>:<port>]     an endpoint replica's server only
//              --cidfile <private>/cid [--env-file <private>/env] <image> <command…>
//   docker stop --time <s> gridplane-<jobId>              on stop()
//   docker rm -f gridplane-<jobId>                        after the exit, always
//
// The host is safe from what it runs: no capabilities, no privilege gain through setuid files,
// bounded processes and memory (no swap beyond it), and a network of its own (README: what the
// agent does, and the DOCKER-USER rules the operator adds for private ranges and metadata).
//
// A job's env reaches the container and nothing else. The docker CLI runs with the agent's own
// environment, never the job's: a renter's PATH, LD_PRELOAD, DOCKER_HOST or DOCKER_CONTEXT
// would otherwise choose which binary runs, what it loads, and which engine it talks to. The
// values go in an env file, mode 0600 in a fresh 0700 directory, that docker reads while it parses
// its flags, before it creates the container (and the --cidfile); the file is removed as soon as
// the cidfile exists. No value is on an argv, in a label or in a name.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { checkRunSpec } from './job-spec.ts';
import type { ContainerRuntime, ExitStatus, PublishedPort, RunSpec, RunningJob, StartRequest } from './runtime.ts';

/** The network the agent creates and runs jobs on unless the operator names another. */
export const DEFAULT_JOB_NETWORK = 'gridplane-jobs';
/** Its Linux bridge, named so the operator's firewall rules can match it (`-i gp-jobs0`). */
export const JOB_BRIDGE = 'gp-jobs0';
/** Share of the host's memory that jobs may use together; the rest is the host's. */
export const JOB_MEMORY_SHARE = 0.9;
const CIDFILE_POLL_MS = 25;

export interface DockerRuntimeConfig {
  /** The docker CLI; `docker` on PATH by default. */
  dockerPath?: string;
  /** `--cpus`, e.g. "8"; unset: no limit. */
  cpus?: string;
  /** A fixed `--memory` for every job, e.g. "32g"; unset: `memoryMbPerGpu` × the job's GPUs. */
  memory?: string;
  /** Memory per GPU of a job, in MiB; default: JOB_MEMORY_SHARE of the host's memory split over `hostGpuCount`. */
  memoryMbPerGpu?: number;
  /** GPUs on this host, for the default memory split. */
  hostGpuCount?: number;
  pidsLimit?: number;
  stopTimeoutS?: number;
  /** `--network`: default DEFAULT_JOB_NETWORK (created by the agent); `none`; or one the operator made. */
  network?: string;
}

export interface JobFiles {
  cidFile: string;
  /** Null when the job has no env. */
  envFile: string | null;
}

export const containerName = (jobId: string) => `gridplane-${jobId}`;

/** JOB_MEMORY_SHARE of the host's memory, split evenly over its GPUs, in MiB (at least 256). */
export function defaultMemoryMbPerGpu(hostMemoryBytes: number, hostGpuCount: number): number {
  return Math.max(256, Math.floor((hostMemoryBytes * JOB_MEMORY_SHARE) / Math.max(1, hostGpuCount) / 2 ** 20));
}

export function networkCreateArgs(name: string): string[] {
  return [
    'network',
    'create',
    '--driver',
    'bridge',
    '--opt',
    `com.docker.network.bridge.name=${JOB_BRIDGE}`,
    // Jobs of different renters on this host do not reach each other.
    '--opt',
    'com.docker.network.bridge.enable_icc=false',
    '--label',
    'gridplane.network=jobs',
    name,
  ];
}

/** One NAME=VALUE per line, as docker's env-file parser reads it (job-spec.ts keeps values to one line). */
export function envFileText(env: Record<string, string>): string {
  return Object.keys(env)
    .sort()
    .map((name) => `${name}=${env[name]}\n`)
    .join('');
}

/** Refuses, as an error, a spec that job-spec.ts would refuse: the runtime never trusts its caller. */
function assertRunnable(spec: RunSpec): void {
  const checked = checkRunSpec(spec);
  if (!checked.ok) throw new Error(`refused: ${checked.reason}`);
}

/**
 * `--publish 127.0.0.1:<host>:<container>`: a replica's server is reachable from this host's
 * loopback only (the agent's tunnel client connects there), never from the host's other
 * addresses, whatever the host's firewall says. A network of `none` cannot publish anything.
 */
export function publishArgs(publish: PublishedPort, network: string): string[] {
  const port = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!port(publish.hostPort) || !port(publish.containerPort))
    throw new Error(`refused: ports must be 1-65535 (${publish.hostPort}, ${publish.containerPort})`);
  if (network === 'none') throw new Error('an endpoint replica needs a network to publish its port: jobNetwork is "none"');
  return ['--publish', `127.0.0.1:${publish.hostPort}:${publish.containerPort}`];
}

export function dockerRunArgs(
  request: Pick<StartRequest, 'spec' | 'gpuIndexes' | 'publish'>,
  config: DockerRuntimeConfig,
  files: JobFiles,
): string[] {
  const { spec, gpuIndexes } = request;
  assertRunnable(spec);
  const memory =
    config.memory ?? `${(config.memoryMbPerGpu ?? defaultMemoryMbPerGpu(totalmem(), config.hostGpuCount ?? 1)) * gpuIndexes.length}m`;
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
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--pids-limit',
    String(config.pidsLimit ?? 4096),
    '--memory',
    memory,
    // Equal to --memory: no swap on top of it (docker's default would add as much again).
    '--memory-swap',
    memory,
  ];
  if (config.cpus) args.push('--cpus', config.cpus);
  args.push('--network', config.network ?? DEFAULT_JOB_NETWORK);
  if (request.publish) args.push(...publishArgs(request.publish, config.network ?? DEFAULT_JOB_NETWORK));
  args.push('--cidfile', files.cidFile);
  if (files.envFile !== null) args.push('--env-file', files.envFile);
  // Everything after the image is the container's argv: docker stops reading flags there.
  args.push(spec.image, ...spec.command);
  return args;
}

export function createDockerRuntime(config: DockerRuntimeConfig = {}): ContainerRuntime {
  const docker = config.dockerPath ?? 'docker';
  const network = config.network ?? DEFAULT_JOB_NETWORK;
  // The host's own network namespace would give a job everything the host can reach.
  if (network === 'host') throw new Error('jobs cannot run on the host network');
  // The agent's own environment (spawn's default), never the job's.
  const run = (args: string[]) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(docker, args, { stdio: 'ignore' });
      child.once('error', () => resolve(null));
      child.once('close', (code) => resolve(code));
    });

  let networkReady: Promise<void> | null = null;
  const ensureNetwork = (): Promise<void> => {
    if (network === 'none') return Promise.resolve();
    networkReady ??= (async () => {
      if ((await run(['network', 'inspect', network])) === 0) return;
      if (network !== DEFAULT_JOB_NETWORK) {
        throw new Error(`the job network "${network}" does not exist: create it, or leave jobNetwork unset to use ${DEFAULT_JOB_NETWORK}`);
      }
      const created = await run(networkCreateArgs(network));
      // Another start may have made it meanwhile; only a network that is there will do.
      if (created !== 0 && (await run(['network', 'inspect', network])) !== 0) {
        throw new Error(`could not create the job network ${network} (docker network create exited with ${created})`);
      }
    })().catch((err: unknown) => {
      networkReady = null; // the next job tries again
      throw err;
    });
    return networkReady;
  };

  return {
    name: 'docker',
    simulated: false,
    async start(request: StartRequest): Promise<RunningJob> {
      const { spec, onOutput } = request;
      assertRunnable(spec);
      if (request.publish) publishArgs(request.publish, network); // refused before any docker call
      const name = containerName(spec.id);
      await ensureNetwork();
      await run(['rm', '-f', name]);

      const dir = await mkdtemp(join(tmpdir(), 'gridplane-job-')); // mode 0700
      const files: JobFiles = { cidFile: join(dir, 'cid'), envFile: Object.keys(spec.env).length > 0 ? join(dir, 'env') : null };
      let args: string[];
      try {
        if (files.envFile !== null) await writeFile(files.envFile, envFileText(spec.env), { mode: 0o600, flag: 'wx' });
        args = dockerRunArgs(request, config, files);
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      const child = spawn(docker, args, { stdio: ['ignore', 'pipe', 'pipe'] });

      // The cidfile appears once docker has read its flags, env file included: then the values
      // live only in the container's config, and the file goes.
      const removeEnvFile = () => (files.envFile === null ? Promise.resolve() : rm(files.envFile, { force: true }));
      const poll = setInterval(() => {
        if (!existsSync(files.cidFile)) return;
        clearInterval(poll);
        void removeEnvFile();
      }, CIDFILE_POLL_MS);

      child.stdout.setEncoding('utf8').on('data', (d: string) => onOutput('stdout', d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => onOutput('stderr', d));
      const exited = new Promise<ExitStatus>((resolve) => {
        child.once('error', (err) => resolve({ exitCode: null, error: `docker: ${err.message}` }));
        // docker run exits with the container's code; 125–127 are docker's own failures.
        child.once('close', (code) =>
          resolve(
            code !== null && code >= 125 && code <= 127 ? { exitCode: code, error: `docker run failed with ${code}` } : { exitCode: code },
          ),
        );
      }).then(async (status) => {
        clearInterval(poll);
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
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
