// One replica's life on this host: take its GPUs, start its server on a free loopback port, poll
// its health path until it answers 2xx (bounded by the start timeout), keep checking it, restart
// it when it exits (a few times), and stop it when asked. States go out through `setState`; the
// manager (replica-manager.ts) turns them into messages and counts the ready time.
import type { ReplicaState } from '../../../protocol/tunnel.ts';
import { sameGpuModel, type GpuPool } from '../jobs/gpu-pool.ts';
import { redactor } from '../jobs/redact.ts';
import type { ContainerRuntime, ExitStatus, RunningJob } from '../jobs/runtime.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../sleep.ts';
import { checkHealth } from './health-check.ts';
import { runSpecOf, type AgentReplicaSpec } from './replica-spec.ts';
import type { ReplicaTiming } from './replica-timing.ts';

/** The part of the manager's record a replica's run reads and writes. */
export interface ReplicaHandle {
  readonly id: string;
  state: ReplicaState;
  reason?: string;
  /** The loopback port of its server while it runs; null otherwise. */
  port: number | null;
  /** Aborted when the replica is no longer wanted (or the agent stops). */
  readonly stop: AbortController;
  setState(state: ReplicaState, reason?: string): void;
}

export interface ReplicaRunDeps {
  runtime: ContainerRuntime;
  gpus: GpuPool;
  log: Logger;
  now: () => number;
  timing: ReplicaTiming;
  pickPort: () => Promise<number>;
}

type Outcome = { kind: 'stopped' } | { kind: 'exited'; reason: string } | { kind: 'failed'; reason: string };

/** Kept of a replica's output: its last line goes into a failure's reason. */
const TAIL_CHARS = 2048;
const TAIL_LINE_CHARS = 200;

/** Resolves when the replica is stopped or has failed for good; its GPUs are free again then. */
export async function runReplica(handle: ReplicaHandle, spec: AgentReplicaSpec, deps: ReplicaRunDeps): Promise<void> {
  const { model, count } = spec.gpus;
  const gpuIndexes = deps.gpus.take([{ matches: (m) => model === null || sameGpuModel(model, m), count }]);
  if (gpuIndexes === null) {
    handle.setState('failed', `not enough free GPUs on this node: ${count}${model ? ` × ${model}` : ''} wanted`);
    return;
  }
  const restarts: number[] = [];
  try {
    while (!handle.stop.signal.aborted) {
      const outcome = await attempt(handle, spec, gpuIndexes, deps);
      if (outcome.kind === 'stopped') return;
      if (outcome.kind === 'failed') {
        handle.setState('failed', outcome.reason);
        return;
      }
      const at = deps.now();
      const recent = restarts.filter((t) => at - t < deps.timing.restartWindowMs);
      if (recent.length >= deps.timing.maxRestarts) {
        handle.setState(
          'failed',
          `${outcome.reason}; ${recent.length} restarts within ${duration(deps.timing.restartWindowMs)}, not restarting again`,
        );
        return;
      }
      restarts.splice(0, restarts.length, ...recent, at);
      handle.setState('starting', `${outcome.reason}; restart ${restarts.length} of ${deps.timing.maxRestarts}`);
      await sleep(deps.timing.restartDelayMs, handle.stop.signal);
    }
  } finally {
    deps.gpus.release(gpuIndexes);
  }
}

/** One start of the server, until it exits, fails to become healthy, or is stopped. */
async function attempt(handle: ReplicaHandle, spec: AgentReplicaSpec, gpuIndexes: number[], deps: ReplicaRunDeps): Promise<Outcome> {
  let tail = '';
  const redact = redactor(spec.env);
  const lastLine = () => {
    const line = redact(tail)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .at(-1);
    return line === undefined ? '' : `; last output: ${line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS - 1)}…` : line}`;
  };
  const hostPort = await deps.pickPort();
  if (deps.runtime.simulated) {
    deps.log.info(
      'replica_simulated',
      `SIMULATED replica ${handle.id}: its command runs as a local process on port ${hostPort}; image ${spec.image} is not used`,
      { replica: handle.id },
    );
  }
  let running: RunningJob;
  try {
    running = await deps.runtime.start({
      spec: runSpecOf(spec),
      gpuIndexes,
      publish: { hostPort, containerPort: spec.port },
      onOutput: (_stream, chunk) => {
        tail = (tail + chunk).slice(-TAIL_CHARS);
      },
    });
  } catch (err) {
    return { kind: 'failed', reason: `could not start: ${err instanceof Error ? err.message : String(err)}` };
  }
  handle.port = hostPort;
  const watch = new AbortController();
  const onStop = () => watch.abort();
  handle.stop.signal.addEventListener('abort', onStop, { once: true });
  if (handle.stop.signal.aborted) watch.abort();
  let outcome: Outcome = { kind: 'stopped' };
  try {
    outcome = await Promise.race([
      running.exited.then((status): Outcome => ({ kind: 'exited', reason: `${describeExit(status)}${lastLine()}` })),
      new Promise<Outcome>((resolve) => {
        if (watch.signal.aborted) resolve({ kind: 'stopped' });
        watch.signal.addEventListener('abort', () => resolve({ kind: 'stopped' }), { once: true });
      }),
      watchHealth(handle, spec, hostPort, deps, watch.signal).then(
        (failure): Outcome => (failure === null ? { kind: 'stopped' } : { kind: 'failed', reason: `${failure}${lastLine()}` }),
      ),
    ]);
  } finally {
    watch.abort();
    handle.stop.signal.removeEventListener('abort', onStop);
    handle.port = null;
    // A replica that never became healthy, or one no longer wanted, is stopped before it counts as gone.
    if (outcome.kind !== 'exited') await running.stop();
  }
  return outcome;
}

/**
 * Polls the health path until it answers 2xx, then checks it every interval. Resolves with a
 * reason when the start timeout passes first (at most one health timeout late), with null once
 * `signal` aborts.
 */
async function watchHealth(
  handle: ReplicaHandle,
  spec: AgentReplicaSpec,
  port: number,
  deps: ReplicaRunDeps,
  signal: AbortSignal,
): Promise<string | null> {
  const { timing, now } = deps;
  const deadline = now() + timing.startTimeoutMs;
  for (;;) {
    // A whole health timeout even near the deadline, so the last check says what the server answers.
    const result = await checkHealth(port, spec.healthPath, timing.healthTimeoutMs, signal);
    if (signal.aborted) return null;
    if (result.ok) break;
    if (now() >= deadline) {
      return `not healthy within ${duration(timing.startTimeoutMs)}: GET ${spec.healthPath} ${result.detail}`;
    }
    await sleep(Math.min(timing.startPollMs, Math.max(0, deadline - now())), signal);
  }
  handle.setState('ready');
  let failures = 0;
  while (!signal.aborted) {
    await sleep(timing.healthIntervalMs, signal);
    if (signal.aborted) break;
    const result = await checkHealth(port, spec.healthPath, timing.healthTimeoutMs, signal);
    if (signal.aborted) break;
    if (result.ok) {
      failures = 0;
      if (handle.state === 'unhealthy') handle.setState('ready');
    } else if (++failures >= timing.unhealthyAfter && handle.state === 'ready') {
      handle.setState('unhealthy', `GET ${spec.healthPath} ${result.detail} (${failures} checks in a row)`);
    }
  }
  return null;
}

function describeExit(status: ExitStatus): string {
  if (status.error) return `exited: ${status.error}`;
  return status.exitCode === null ? 'exited by a signal' : `exited with code ${status.exitCode}`;
}

/** "600 s", or "700 ms" for what is not whole seconds (tests use those). */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
