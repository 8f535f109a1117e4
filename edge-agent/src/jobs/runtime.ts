// The container runtime interface the job runner drives. Two implementations: Docker for real GPU
// hosts (docker-runtime.ts) and plain local processes for development and tests
// (process-runtime.ts, clearly labelled simulated). Both honour the same contract:
// start → output chunks → exactly one exit; stop() ends it; cleanup is the runtime's own business.
import type { RunSpec } from './job-spec.ts';

// The offer's schema lives in job-spec.ts, with the agent's own (strict) check of every field.
export { JobSpecSchema, type JobSpec, type RunSpec } from './job-spec.ts';

export type OutputStream = 'stdout' | 'stderr';

export interface ExitStatus {
  /** The command's exit code; null when it died by a signal or never started. */
  exitCode: number | null;
  /** Set when the runtime itself failed (image missing, docker not found …). */
  error?: string;
}

/**
 * A server port reachable from this host: an endpoint replica's (endpoints/replica-manager.ts).
 * The process runtime's server listens on `hostPort` itself, told in env `PORT`; Docker publishes
 * the container's `containerPort` on 127.0.0.1:`hostPort`, never on another address.
 */
export interface PublishedPort {
  hostPort: number;
  containerPort: number;
}

export interface StartRequest {
  /** A job's spec, or a replica's: the runtime reads only id, image, command and env. */
  spec: RunSpec;
  /** Host GPU indexes given to this job. */
  gpuIndexes: number[];
  /** Jobs publish nothing; a replica's server port. */
  publish?: PublishedPort;
  onOutput(stream: OutputStream, chunk: string): void;
}

export interface RunningJob {
  readonly exited: Promise<ExitStatus>;
  /** Asks the job to end (SIGTERM / docker stop), then forces it after the runtime's grace. */
  stop(): Promise<void>;
}

export interface ContainerRuntime {
  readonly name: string;
  /** True for the process runtime: nothing runs in a container or on a real GPU. */
  readonly simulated: boolean;
  start(request: StartRequest): Promise<RunningJob>;
}
