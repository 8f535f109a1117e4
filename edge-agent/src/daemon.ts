// Over 300 lines: the node's lifecycle in order (identity, GPUs, register, heartbeat, stream, tunnel, jobs, replicas, shutdown); each part is in its own module, and this file is the order they run in.
// The node's lifecycle: load identity and config → detect GPUs → register → heartbeat loop.
// It runs until `signal` aborts (SIGINT/SIGTERM in the CLI, a test's AbortController in tests);
// in-flight requests are aborted with it. Clock, randomness, sleep and fetch are injectable so a
// test can check the schedule without waiting for it.
import { DEFAULT_BACKOFF_CAP_MS, backoffDelayMs } from './backoff.ts';
import { loadConfig, withOverrides, type ConfigOverrides } from './config.ts';
import { ControlPlaneClient, ControlPlaneError } from './control-plane-client.ts';
import { describeInventory, type GpuMetric, type GpuSnapshot } from './gpu-source.ts';
import { loadIdentity, type Identity } from './identity.ts';
import { createLogger, type Logger } from './log.ts';
import { measureProbes, type ProbePoint } from './probes.ts';
import { gpuSourceFor, registrationBody } from './registration.ts';
import { createSignedFetch } from './signed-fetch.ts';
import { createChallengeLoop } from './verification/challenge-loop.ts';
import { dockerSolver } from './verification/challenge-runner.ts';
import { DEFAULT_VERIFY_IMAGE } from './verification/docker-solver.ts';
import { createImagePuller } from './verification/image-pull.ts';
import { sleep as realSleep, type Sleep } from './sleep.ts';
import { AGENT_VERSION } from './version.ts';
import { ReplicaManager } from './endpoints/replica-manager.ts';
import type { ReplicaTiming } from './endpoints/replica-timing.ts';
import { runTunnel, type Tunnel } from './endpoints/tunnel-client.ts';
import { createDockerRuntime } from './jobs/docker-runtime.ts';
import { GpuPool } from './jobs/gpu-pool.ts';
import { JobRunner, type HostGpu } from './jobs/job-runner.ts';
import { runJobStream } from './jobs/job-stream.ts';
import { createProcessRuntime } from './jobs/process-runtime.ts';
import type { ContainerRuntime } from './jobs/runtime.ts';

/** Until the control plane names an interval, heartbeats (and the first backoff) use this. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
export const PROBE_REFRESH_MS = 10 * 60_000;
const PROBE_RETRY_MS = 60_000;

export interface DaemonOptions {
  home: string;
  signal: AbortSignal;
  logger?: Logger;
  /** Settings that replace the config file's for this run only. */
  overrides?: ConfigOverrides;
  /** A fixed heartbeat interval instead of the server's `nextHeartbeatS`. */
  intervalMs?: number;
  backoffCapMs?: number;
  probeRefreshMs?: number;
  requestTimeoutMs?: number;
  probeTimeoutMs?: number;
  now?: () => number;
  random?: () => number;
  sleep?: Sleep;
  fetch?: typeof globalThis.fetch;
  /** The job runtime; default: Docker on a real host, local processes with simulated GPUs. */
  runtime?: ContainerRuntime;
  /** The verification image pulled at start on a real host; default DEFAULT_VERIFY_IMAGE. */
  verifyImage?: string;
  /** The docker CLI for the image pull, challenges and jobs; `docker` on PATH by default. */
  dockerPath?: string;
  /** Keep the WebSocket job stream closed (jobs then come with heartbeat answers only). */
  noJobStream?: boolean;
  /** Keep the endpoints tunnel closed: no replicas run on this node. */
  noTunnel?: boolean;
  /** Endpoint replicas' start timeout, health intervals, restarts and receipt interval (tests). */
  replicaTiming?: Partial<ReplicaTiming>;
}

export interface DaemonSummary {
  nodeId: string;
  registrations: number;
  heartbeats: number;
}

export async function startDaemon(options: DaemonOptions): Promise<DaemonSummary> {
  const { signal } = options;
  const log = options.logger ?? createLogger();
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const capMs = options.backoffCapMs ?? DEFAULT_BACKOFF_CAP_MS;
  const probeRefreshMs = options.probeRefreshMs ?? PROBE_REFRESH_MS;

  // 1. Identity and config.
  const identity: Identity = await loadIdentity(options.home);
  const config = withOverrides(await loadConfig(options.home), options.overrides);
  const summary: DaemonSummary = { nodeId: identity.nodeId, registrations: 0, heartbeats: 0 };
  log.info('start', `gridplane-agent ${AGENT_VERSION} starting`, { node: identity.nodeId, controlPlane: config.controlPlaneUrl });

  // 2. GPUs. A host whose GPUs cannot be read at start has nothing to offer: fail loudly.
  const gpus = gpuSourceFor(config, random);
  const tag = gpus.simulated ? 'SIMULATED ' : '';
  let snapshot: GpuSnapshot | null = await gpus.read(signal);
  if (gpus.simulated) {
    log.warn(
      'simulated',
      `SIMULATED GPUs: ${describeInventory(snapshot.inventory)} — declared for development, not real hardware; reported to the network as simulated`,
    );
  } else {
    log.info('gpus', `GPUs: ${gpus.describe(snapshot)}`);
  }

  const client = new ControlPlaneClient({
    signedFetch: createSignedFetch(identity, config.controlPlaneUrl, { fetch: options.fetch, now }),
    timeoutMs: options.requestTimeoutMs,
  });
  // A real host pulls the verification image now, with progress, so the first challenge does not wait on it.
  const verifyImage = gpus.simulated
    ? null
    : createImagePuller({ image: options.verifyImage ?? DEFAULT_VERIFY_IMAGE, dockerPath: options.dockerPath, log, signal, now });
  verifyImage?.ensure().catch(() => undefined); // logged by the puller; retried before each challenge poll
  const challenges = createChallengeLoop({
    identity,
    controlPlaneUrl: config.controlPlaneUrl,
    simulated: gpus.simulated,
    log,
    signal,
    fetch: options.fetch,
    now,
    prepare: verifyImage?.ensure,
    gpuSolver: dockerSolver({ dockerPath: options.dockerPath, image: options.verifyImage }),
  });

  // Jobs: a runner over the container runtime, fed by the stream and by heartbeat answers.
  // Endpoint replicas run on the same runtime and take their GPUs from the same pool.
  const jobGpus = hostGpus(snapshot.inventory);
  const gpuPool = new GpuPool(jobGpus);
  const runtime =
    options.runtime ??
    (gpus.simulated
      ? createProcessRuntime()
      : createDockerRuntime({ network: config.jobNetwork, hostGpuCount: jobGpus.length, dockerPath: options.dockerPath }));
  if (runtime.simulated) log.warn('simulated_runtime', 'SIMULATED job runtime: jobs run as local processes, without containers or GPUs');
  const runner = new JobRunner({
    runtime,
    report: (jobId, event) => client.jobEvent(identity.nodeId, jobId, event, jobSignal(signal)),
    gpus: gpuPool,
    log,
    signal,
    now,
  });
  let stream: Promise<boolean> | null = null;
  let tunnel: Tunnel | null = null;
  const replicas = new ReplicaManager({
    runtime,
    gpus: gpuPool,
    identity,
    send: (m) => tunnel?.send(m),
    log,
    now,
    timing: options.replicaTiming,
  });
  // The tunnel outlives `signal` until the replicas are stopped, so their last states and
  // receipts still reach the control plane.
  const tunnelStop = new AbortController();
  let fatal: unknown = null;

  // 3 and 4. Register, then heartbeat; back off while the control plane is away.
  let registered = false;
  let intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_MS;
  let failures = 0;
  let reRegistrations = 0;
  let probes: ProbePoint[] = [];
  let nextProbeFetchAt = -Infinity;

  while (!signal.aborted) {
    let stage: 'register' | 'heartbeat' = 'register';
    try {
      if (!registered) {
        snapshot ??= await gpus.read(signal);
        const { created, node } = await client.register(registrationBody(config, snapshot.inventory), signal);
        snapshot = null;
        registered = true;
        summary.registrations++;
        log.info('registered', `${tag}node ${created ? 'registered' : 're-registered (details updated)'}`, {
          node: identity.nodeId,
          status: node.status,
        });
      }
      stage = 'heartbeat';
      if (now() >= nextProbeFetchAt) {
        try {
          probes = await client.listProbes(signal);
          nextProbeFetchAt = now() + probeRefreshMs;
          log.info('probes', `probe points: ${probes.length} (${probes.filter((p) => p.url).length} with a URL to time)`);
        } catch (err) {
          if (signal.aborted) break;
          nextProbeFetchAt = now() + Math.min(PROBE_RETRY_MS, probeRefreshMs);
          log.warn('probes_failed', `could not fetch probe points, keeping ${probes.length} known: ${message(err)}`);
        }
      }
      const probeResults = await measureProbes(probes, { fetch: options.fetch, signal, timeoutMs: options.probeTimeoutMs });
      const metrics = await readMetrics(gpus.read.bind(gpus), signal, log);
      if (signal.aborted) break;
      const answer = await client.heartbeat(
        identity.nodeId,
        { gpus: metrics, probes: probeResults, runningJobs: runner.runningJobs() },
        signal,
      );
      summary.heartbeats++;
      if (failures > 0) log.info('recovered', `control plane is back after ${failures} failed attempt${failures === 1 ? '' : 's'}`);
      failures = 0;
      reRegistrations = 0;
      intervalMs = options.intervalMs ?? answer.nextHeartbeatS * 1000;
      log.info('heartbeat', `${tag}heartbeat ok`, { gpus: metrics.length, probes: probeResults.length, nextInMs: intervalMs });
      challenges.tick();
      // A control plane with a job stream says so in its answer; then offers arrive at once.
      if (answer.stream && !options.noJobStream) {
        stream ??= runJobStream({
          identity,
          controlPlaneUrl: config.controlPlaneUrl,
          path: answer.stream.path,
          log,
          signal,
          now,
          onJob: (job) => runner.offer(job),
          onStop: (jobId, reason) => runner.stop(jobId, reason),
        });
      }
      // The endpoints tunnel, from a control plane that talks to agents over WebSockets (one that
      // names the job stream); an older one has no tunnel route to retry against.
      if (answer.stream && !options.noTunnel) {
        tunnel ??= runTunnel({
          identity,
          controlPlaneUrl: config.controlPlaneUrl,
          log,
          signal: tunnelStop.signal,
          onControl: (message) => {
            if (message.type === 'replicas') replicas.apply(message.replicas);
          },
          portOf: (replicaId) => replicas.portOf(replicaId),
        });
      }
      for (const job of answer.jobs) runner.offer(job);
      for (const jobId of answer.stopJobs) runner.stop(jobId, 'the control plane does not assign it to this node');
      await sleep(intervalMs, signal);
    } catch (err) {
      if (signal.aborted) break;
      if (!(err instanceof ControlPlaneError)) {
        fatal = err;
        break;
      }
      if (stage === 'heartbeat' && err.status === 404 && err.serverCode === 'node_not_found') {
        registered = false;
        reRegistrations++;
        log.warn('node_not_found', `control plane does not know this node: ${err.message}; registering again`);
        // Register at once the first time; if the node keeps vanishing, fall through to backoff.
        if (reRegistrations === 1) continue;
      } else if (err.failure === 'rejected') {
        log.error(`${stage}_rejected`, `${stage} rejected: ${err.message}`);
        if (stage === 'register' && !isRetryableRejection(err)) {
          fatal = err;
          break;
        }
      }
      const delay = backoffDelayMs(failures, { baseMs: intervalMs, capMs }, random);
      failures++;
      const what = err.failure === 'unreachable' ? 'unreachable' : err.failure === 'server' ? 'failing' : 'refusing';
      log.warn('backoff', `control plane ${what}; retry ${failures} in ${(delay / 1000).toFixed(1)}s`, {
        cause: err.message,
        delayMs: delay,
      });
      await sleep(delay, signal);
    }
  }
  // Jobs and replicas stop on any way out, a fatal error included: the process runtime's process
  // groups would outlive the agent.
  await Promise.all([runner.shutdown(), replicas.shutdown()]);
  tunnelStop.abort();
  if (fatal !== null) throw fatal;
  await Promise.race([Promise.all([stream, tunnel?.done]), realSleep(2_000)]);
  log.info('stopped', 'stopped', { heartbeats: summary.heartbeats });
  return summary;
}

/** One entry per physical GPU, indexed the way nvidia-smi (or the simulation) numbers them. */
function hostGpus(inventory: { model: string; count: number }[]): HostGpu[] {
  const out: HostGpu[] = [];
  for (const g of inventory) for (let i = 0; i < g.count; i++) out.push({ index: out.length, model: g.model });
  return out;
}

/**
 * Job events outlive the daemon's signal a little: the last `finished` of a job stopped on
 * shutdown should still reach the control plane, so they get a short grace after the abort.
 */
function jobSignal(signal: AbortSignal): AbortSignal {
  if (!signal.aborted) return AbortSignal.timeout(30_000);
  return AbortSignal.timeout(5_000);
}

/** A GPU read that fails mid-run is reported and the heartbeat goes out without GPU metrics. */
async function readMetrics(read: (signal?: AbortSignal) => Promise<GpuSnapshot>, signal: AbortSignal, log: Logger): Promise<GpuMetric[]> {
  try {
    return (await read(signal)).metrics;
  } catch (err) {
    if (!signal.aborted) log.warn('gpu_read_failed', `could not read GPU metrics: ${message(err)}`);
    return [];
  }
}

/** Registration 4xx answers mean the config is wrong, except these, which time can fix. */
function isRetryableRejection(err: ControlPlaneError): boolean {
  return err.status === 408 || err.status === 429 || err.serverCode === 'stale_request' || err.serverCode === 'replayed_request';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
