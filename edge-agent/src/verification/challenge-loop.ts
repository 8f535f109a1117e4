// The daemon's hook for hardware challenges: after a heartbeat, if a poll is due, answer any
// open challenge in the background so heartbeats keep their rhythm while a GPU run takes its
// seconds. One run at a time; a failure is logged and retried at the next poll.
import type { Identity } from '../identity.ts';
import type { Logger } from '../log.ts';
import { createSignedFetch } from '../signed-fetch.ts';
import { answerChallenges, type Solver } from './challenge-runner.ts';

/** Challenges live an hour on the control plane; polling every five minutes leaves room to spare. */
export const CHALLENGE_POLL_MS = 5 * 60_000;

export interface ChallengeLoopOptions {
  identity: Identity;
  controlPlaneUrl: string;
  simulated: boolean;
  log: Logger;
  signal: AbortSignal;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  pollMs?: number;
  gpuSolver?: Solver;
  /** Runs before each poll until it succeeds (the verification image pull): challenges are only fetched once the solver can start at once. */
  prepare?: () => Promise<void>;
}

export function createChallengeLoop(options: ChallengeLoopOptions): { tick(): void; idle(): Promise<void> } {
  const now = options.now ?? Date.now;
  const send = createSignedFetch(options.identity, options.controlPlaneUrl, { fetch: options.fetch, now });
  let nextAt = -Infinity;
  let running: Promise<void> | null = null;
  return {
    tick() {
      if (running || options.signal.aborted || now() < nextAt) return;
      nextAt = now() + (options.pollMs ?? CHALLENGE_POLL_MS);
      running = Promise.resolve()
        .then(() => options.prepare?.())
        .then(() =>
          answerChallenges({
            send,
            nodeId: options.identity.nodeId,
            simulated: options.simulated,
            gpuSolver: options.gpuSolver,
            log: options.log,
            signal: options.signal,
            now,
          }),
        )
        .then(() => undefined)
        .catch((err: unknown) => {
          if (!options.signal.aborted)
            options.log.warn('challenge_error', `hardware challenge not answered: ${err instanceof Error ? err.message : String(err)}`);
        })
        .finally(() => {
          running = null;
        });
    },
    idle: () => running ?? Promise.resolve(),
  };
}
