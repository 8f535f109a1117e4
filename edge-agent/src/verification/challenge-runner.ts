// Answers the control plane's hardware challenges (workers/verification/README.md):
// signed GET /v1/nodes/{id}/challenges, solve, signed POST …/challenges/{cid}/answer.
// Simulated nodes solve on the CPU and say so; real hosts solve on the GPU through Docker.
import { ChallengeOutcomeSchema, ChallengePollSchema, type ChallengeAnswer } from '../../../protocol/challenge-messages.ts';
import { CHALLENGE_KIND, solveChallenge, type MatmulChallenge } from '../../../protocol/matmul-challenge.ts';
import type { Logger } from '../log.ts';
import type { SignedFetch } from '../signed-fetch.ts';
import { solveWithDocker, type DockerSolverOptions } from './docker-solver.ts';

export type Solver = (challenge: MatmulChallenge, signal?: AbortSignal) => Promise<Uint8Array>;

export const cpuSolver: Solver = (challenge) => solveChallenge(challenge);
export const dockerSolver =
  (options: DockerSolverOptions = {}): Solver =>
  (challenge, signal) =>
    solveWithDocker(challenge, { ...options, signal });

export interface ChallengeRunOptions {
  send: SignedFetch;
  nodeId: string;
  /** Simulated hosts answer on the CPU; anything else needs the GPU solver. */
  simulated: boolean;
  gpuSolver?: Solver;
  log?: Logger;
  signal?: AbortSignal;
  now?: () => number;
}

export interface ChallengeResult {
  id: string;
  device: 'gpu' | 'cpu';
  elapsedMs: number;
  status: 'passed' | 'failed';
  failure: string | null;
}

export async function answerChallenges(options: ChallengeRunOptions): Promise<ChallengeResult[]> {
  const now = options.now ?? Date.now;
  const base = `/v1/nodes/${encodeURIComponent(options.nodeId)}/challenges`;
  const res = await options.send({ method: 'GET', path: base, signal: options.signal });
  if (!res.ok) throw new Error(`GET ${base} → ${res.status} ${(await res.text()).slice(0, 200)}`);
  const { challenges } = ChallengePollSchema.parse(await res.json());
  const results: ChallengeResult[] = [];
  for (const challenge of challenges) {
    if (challenge.kind !== CHALLENGE_KIND) {
      options.log?.warn('challenge_unknown', `challenge ${challenge.id} is of kind ${challenge.kind}, which this agent cannot answer`);
      continue;
    }
    const device = options.simulated || challenge.simulated ? 'cpu' : 'gpu';
    const solver = device === 'cpu' ? cpuSolver : (options.gpuSolver ?? dockerSolver());
    const tag = device === 'cpu' ? 'SIMULATED (CPU) ' : '';
    // A GPU run takes seconds to minutes: say it started, so a quiet log is not taken for a hang.
    options.log?.info(
      'challenge_solving',
      `${tag}solving hardware challenge ${challenge.id} (n=${challenge.n}, ${challenge.products} products) on the ${device.toUpperCase()}`,
      { id: challenge.id },
    );
    const started = now();
    const digests = await solver(challenge, options.signal);
    const elapsedMs = now() - started;
    const answer = await options.send({
      method: 'POST',
      path: `${base}/${encodeURIComponent(challenge.id)}/answer`,
      body: { digests: Buffer.from(digests).toString('base64'), elapsedMs, device } satisfies ChallengeAnswer,
      signal: options.signal,
    });
    if (!answer.ok) throw new Error(`answer ${challenge.id} → ${answer.status} ${(await answer.text()).slice(0, 200)}`);
    const outcome = ChallengeOutcomeSchema.parse(await answer.json());
    if (outcome.status === 'passed')
      options.log?.info('challenge_passed', `${tag}hardware challenge passed in ${elapsedMs} ms`, { id: challenge.id });
    else
      options.log?.warn('challenge_failed', `${tag}hardware challenge failed: ${outcome.failure}`, {
        id: challenge.id,
        elapsedMs,
        deadlineMs: challenge.deadlineMs,
      });
    results.push({ id: challenge.id, device, elapsedMs, status: outcome.status, failure: outcome.failure });
  }
  return results;
}
