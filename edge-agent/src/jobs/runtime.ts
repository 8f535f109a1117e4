// The container runtime interface the job runner drives. Two implementations: Docker for real GPU
// hosts (docker-runtime.ts) and plain local processes for development and tests
// (process-runtime.ts, clearly labelled simulated). Both honour the same contract:
// start → output chunks → exactly one exit; stop() ends it; cleanup is the runtime's own business.
import { z } from 'zod';

export const JobSpecSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  image: z.string().min(1).max(255),
  command: z.array(z.string()).max(64),
  env: z.record(z.string(), z.string()),
  gpus: z.object({ count: z.number().int().positive(), allocation: z.array(z.tuple([z.string(), z.number().int().positive()])) }),
  durationS: z.number().int().positive(),
  acceptBy: z.number(),
  assignedAt: z.number(),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

export type OutputStream = 'stdout' | 'stderr';

export interface ExitStatus {
  /** The command's exit code; null when it died by a signal or never started. */
  exitCode: number | null;
  /** Set when the runtime itself failed (image missing, docker not found …). */
  error?: string;
}

export interface StartRequest {
  spec: JobSpec;
  /** Host GPU indexes given to this job. */
  gpuIndexes: number[];
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
