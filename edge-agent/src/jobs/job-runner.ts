// Runs the jobs the control plane assigns to this node: accept → start → stream logs → finish
// with a receipt. Events go out in order, one job at a time each, retried until the control
// plane has them; their ids are derived from the job (`<job>:accepted`, `<job>:log:<seq>` …),
// so a resend after a crash or a lost answer is recognised as a duplicate and changes nothing.
import type * as z from 'zod';
import type { agentEventSchema } from '../../../protocol/job-events.ts';
import type { Logger } from '../log.ts';
import { sleep as realSleep, type Sleep } from '../sleep.ts';
import { redactor } from './redact.ts';
import { GpuPool, type HostGpu } from './gpu-pool.ts';
import { checkJobSpec } from './job-spec.ts';
import type { ContainerRuntime, JobSpec, OutputStream, RunningJob } from './runtime.ts';

/** An event as the protocol declares it (protocol/job-events.ts); the Worker validates it with the same schema. */
export type JobEvent = z.input<typeof agentEventSchema>;

/** `gone`: the control plane says the job is not this node's (any more): stop it, send nothing else. */
export type ReportResult = 'ok' | 'gone';
export type Reporter = (jobId: string, event: JobEvent) => Promise<ReportResult>;

export type { HostGpu } from './gpu-pool.ts';

export interface JobRunnerOptions {
  runtime: ContainerRuntime;
  report: Reporter;
  /** The host's GPUs, or the pool the agent shares with its endpoint replicas. */
  gpus: HostGpu[] | GpuPool;
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
  sleep?: Sleep;
  /** Log chunks go out at least this often while output flows. */
  logFlushMs?: number;
}

interface Active {
  spec: JobSpec;
  gpuIndexes: number[];
  running: RunningJob | null;
  stopReason: 'timeout' | 'stopped' | null;
  /** Events of this job, sent one after another. */
  queue: Promise<void>;
  gone: boolean;
  seq: number;
  buffers: Record<OutputStream, string>;
  flushTimer: ReturnType<typeof setTimeout> | null;
  redact: (text: string) => string;
  done: Promise<void>;
}

const MAX_LOG_CHUNK = 8 * 1024;
const RETRY_CAP_MS = 10_000;

export class JobRunner {
  readonly #o: Required<Omit<JobRunnerOptions, 'now' | 'sleep' | 'logFlushMs' | 'gpus'>> & {
    now: () => number;
    sleep: Sleep;
    logFlushMs: number;
  };
  readonly #jobs = new Map<string, Active>();
  /** Jobs this runner finished or refused; offers of them again (heartbeat echo) are ignored. */
  readonly #seen = new Set<string>();
  readonly #pool: GpuPool;

  constructor(options: JobRunnerOptions) {
    this.#o = { now: Date.now, sleep: realSleep, logFlushMs: 250, ...options };
    this.#pool = options.gpus instanceof GpuPool ? options.gpus : new GpuPool(options.gpus);
  }

  /** Job ids this node is running, for heartbeats. */
  runningJobs(): string[] {
    return [...this.#jobs.keys()];
  }

  /**
   * An offer from the stream or a heartbeat answer; duplicates are ignored. An offer this host
   * will not run (job-spec.ts) is refused with its reason; one that names no job is ignored.
   */
  offer(raw: unknown): void {
    const checked = checkJobSpec(raw);
    if (!checked.ok) {
      const { jobId, reason } = checked;
      if (jobId === null) {
        this.#o.log.warn('job_unreadable', `ignored a job offer that names no job: ${reason}`);
        return;
      }
      if (this.#jobs.has(jobId) || this.#seen.has(jobId)) return;
      this.#seen.add(jobId);
      this.#o.log.warn('job_refused', `job ${jobId}: refused, nothing runs: ${reason}`, { job: jobId });
      void this.#refuse(jobId, reason);
      return;
    }
    const spec = checked.spec;
    if (this.#jobs.has(spec.id) || this.#seen.has(spec.id)) return;
    this.#seen.add(spec.id);
    const gpuIndexes = this.#allocate(spec);
    if (gpuIndexes === null) {
      this.#o.log.warn('job_rejected', `job ${spec.id}: not enough free GPUs of the allocated models; refusing`, { job: spec.id });
      void this.#send(spec.id, { eventId: `${spec.id}:rejected`, kind: 'rejected', reason: 'the GPUs are busy' });
      return;
    }
    const active: Active = {
      spec,
      gpuIndexes,
      running: null,
      stopReason: null,
      queue: Promise.resolve(),
      gone: false,
      seq: 0,
      buffers: { stdout: '', stderr: '' },
      flushTimer: null,
      redact: redactor(spec.env),
      done: Promise.resolve(),
    };
    this.#jobs.set(spec.id, active);
    active.done = this.#run(active).finally(() => {
      this.#pool.release(active.gpuIndexes);
      this.#jobs.delete(spec.id);
    });
  }

  /** The control plane withdrew the job (cancelled, moved): stop it. */
  stop(jobId: string, reason: string): void {
    const active = this.#jobs.get(jobId);
    if (!active) return;
    this.#o.log.info('job_stop', `job ${jobId}: stopping (${reason})`, { job: jobId });
    active.stopReason ??= 'stopped';
    void active.running?.stop();
  }

  /** Stops every job and waits until their last events are sent (or the signal gives up). */
  async shutdown(): Promise<void> {
    for (const id of this.#jobs.keys()) this.stop(id, 'agent stopping');
    await Promise.all([...this.#jobs.values()].map((a) => a.done));
  }

  #allocate(spec: JobSpec): number[] | null {
    const picked = this.#pool.take(spec.gpus.allocation.map(([model, count]) => ({ matches: (m: string) => m === model, count })));
    if (picked !== null && picked.length !== spec.gpus.count) {
      this.#pool.release(picked);
      return null;
    }
    return picked;
  }

  /**
   * The job fails with the reason as its message. `rejected` would hand it to the next node,
   * which refuses it too; the failure event reaches the renter, and a job that never started
   * bills nothing. The control plane takes `finished` only after `accepted`, hence both.
   */
  async #refuse(jobId: string, reason: string): Promise<void> {
    await this.#send(jobId, { eventId: `${jobId}:accepted`, kind: 'accepted' });
    await this.#send(jobId, {
      eventId: `${jobId}:finished`,
      kind: 'finished',
      exitCode: null,
      reason: 'error',
      receipt: { gpuSeconds: 0, runSeconds: 0 },
      message: `refused by the agent: ${reason}`.slice(0, 500),
    });
  }

  async #run(active: Active): Promise<void> {
    const { spec } = active;
    const log = this.#o.log;
    await this.#send(spec.id, { eventId: `${spec.id}:accepted`, kind: 'accepted' });
    if (active.gone) return;
    log.info(
      'job_accepted',
      `${this.#o.runtime.simulated ? 'SIMULATED ' : ''}job ${spec.id}: accepted (${spec.image}, ${spec.gpus.count} GPU, ${spec.durationS}s) on runtime ${this.#o.runtime.name}`,
      { job: spec.id },
    );
    if (this.#o.runtime.simulated) {
      this.#log(
        active,
        'system',
        `SIMULATED: running the command as a local process on a development host; image ${spec.image} is not used.\n`,
      );
    }
    let startedAt = this.#o.now();
    try {
      active.running = await this.#o.runtime.start({
        spec,
        gpuIndexes: active.gpuIndexes,
        onOutput: (stream, chunk) => this.#output(active, stream, chunk),
      });
      startedAt = this.#o.now();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.#send(spec.id, {
        eventId: `${spec.id}:finished`,
        kind: 'finished',
        exitCode: null,
        reason: 'error',
        receipt: { gpuSeconds: 0, runSeconds: 0 },
        message: `could not start: ${message}`.slice(0, 500),
      });
      return;
    }
    // A stop that came while the runtime was starting.
    if (active.stopReason !== null || active.gone) void active.running.stop();
    await this.#send(spec.id, { eventId: `${spec.id}:started`, kind: 'started' });
    const deadline = setTimeout(() => {
      active.stopReason ??= 'timeout';
      void active.running?.stop();
    }, spec.durationS * 1000);
    const status = await active.running.exited;
    clearTimeout(deadline);
    const runSeconds = Math.max(0, (this.#o.now() - startedAt) / 1000);
    this.#flush(active, true);
    const reason = active.stopReason ?? (status.error ? 'error' : 'exited');
    log.info(
      'job_finished',
      `job ${spec.id}: ${reason}${status.exitCode !== null ? ` with exit code ${status.exitCode}` : ''} after ${runSeconds.toFixed(1)}s`,
      { job: spec.id },
    );
    await this.#send(spec.id, {
      eventId: `${spec.id}:finished`,
      kind: 'finished',
      exitCode: status.exitCode === null ? null : Math.min(255, Math.max(-1, status.exitCode)),
      reason,
      receipt: { gpuSeconds: spec.gpus.count * Math.ceil(runSeconds), runSeconds: Math.round(runSeconds * 1000) / 1000 },
      ...(status.error ? { message: status.error.slice(0, 500) } : {}),
    });
  }

  #output(active: Active, stream: OutputStream, chunk: string): void {
    active.buffers[stream] += chunk;
    if (active.buffers[stream].length >= MAX_LOG_CHUNK) this.#flush(active, false);
    else active.flushTimer ??= setTimeout(() => this.#flush(active, true), this.#o.logFlushMs);
  }

  /** Sends buffered output. Without `all`, only whole lines go, so a secret is never cut in two. */
  #flush(active: Active, all: boolean): void {
    if (active.flushTimer) clearTimeout(active.flushTimer);
    active.flushTimer = null;
    for (const stream of ['stdout', 'stderr'] as const) {
      const buffer = active.buffers[stream];
      const cut = all || buffer.length >= 2 * MAX_LOG_CHUNK ? buffer.length : buffer.lastIndexOf('\n') + 1;
      if (cut === 0) continue;
      active.buffers[stream] = buffer.slice(cut);
      for (let i = 0; i < cut; i += MAX_LOG_CHUNK) this.#log(active, stream, buffer.slice(i, Math.min(cut, i + MAX_LOG_CHUNK)));
    }
    if (!all && (active.buffers.stdout || active.buffers.stderr))
      active.flushTimer = setTimeout(() => this.#flush(active, true), this.#o.logFlushMs);
  }

  #log(active: Active, stream: OutputStream | 'system', text: string): void {
    const seq = active.seq++;
    void this.#send(active.spec.id, { eventId: `${active.spec.id}:log:${seq}`, kind: 'log', seq, stream, data: active.redact(text) });
  }

  /** Queues the event behind the job's earlier ones; retries until sent, refused, or the agent stops. */
  #send(jobId: string, event: JobEvent): Promise<void> {
    const active = this.#jobs.get(jobId);
    const attempt = async () => {
      if (active?.gone) return;
      for (let failures = 0; ; failures++) {
        try {
          const result = await this.#o.report(jobId, event);
          if (result === 'gone' && active) {
            active.gone = true;
            this.#o.log.warn('job_gone', `job ${jobId}: the control plane no longer assigns it to this node; stopping`, { job: jobId });
            void active.running?.stop();
          }
          return;
        } catch (err) {
          if (this.#o.signal.aborted && failures >= 3) return;
          const delay = Math.min(RETRY_CAP_MS, 250 * 2 ** failures);
          this.#o.log.warn(
            'job_event_retry',
            `job ${jobId}: ${event.kind} not delivered (${err instanceof Error ? err.message : String(err)}); retry in ${delay} ms`,
            { job: jobId },
          );
          await this.#o.sleep(delay);
        }
      }
    };
    if (!active) return attempt();
    active.queue = active.queue.then(attempt);
    return active.queue;
  }
}
