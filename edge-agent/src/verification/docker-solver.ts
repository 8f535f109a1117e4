// Real hosts answer challenges on the GPU: a small CUDA program in a container (int8 GEMM with
// int32 accumulation on the GPU (edge-agent/verify-cuda), SHA-256 row chaining on the host side of the container),
// run with exactly this command. The image's contract: print one JSON line
// `{"kind":"matmul-int8-v1","digests":"<base64 of 8·n bytes>"}` and exit 0.
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { CHALLENGE_KIND, DIGEST_BYTES, type MatmulChallenge } from '../../../protocol/matmul-challenge.ts';
import { AgentError } from '../errors.ts';

export const DEFAULT_VERIFY_IMAGE = 'ghcr.io/gridplane/verify-cuda:1';

export interface DockerSolverOptions {
  /** The docker binary; tests put a stand-in first on PATH. */
  dockerPath?: string;
  image?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The exact argv: no network, read-only root, all GPUs, removed afterwards. */
export function dockerArgs(challenge: MatmulChallenge, image = DEFAULT_VERIFY_IMAGE): string[] {
  return [
    'run',
    '--rm',
    '--gpus',
    'all',
    '--network',
    'none',
    '--read-only',
    image,
    'solve',
    '--kind',
    CHALLENGE_KIND,
    '--seed',
    challenge.seed,
    '--n',
    String(challenge.n),
    '--products',
    String(challenge.products),
  ];
}

const OutputSchema = z.object({ kind: z.literal(CHALLENGE_KIND), digests: z.string() });

export function solveWithDocker(challenge: MatmulChallenge, options: DockerSolverOptions = {}): Promise<Uint8Array> {
  const file = options.dockerPath ?? 'docker';
  return new Promise((resolve, reject) => {
    execFile(
      file,
      dockerArgs(challenge, options.image),
      { timeout: options.timeoutMs ?? 600_000, signal: options.signal, maxBuffer: 1 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new AgentError(
              'verify_docker_failed',
              `docker challenge run failed: ${error.message.split('\n')[0]}${stderr ? ` — ${stderr.trim().slice(0, 300)}` : ''}`,
              { cause: error },
            ),
          );
          return;
        }
        const line = stdout.trim().split('\n').at(-1) ?? '';
        let parsed: z.infer<typeof OutputSchema>;
        try {
          parsed = OutputSchema.parse(JSON.parse(line));
        } catch (cause) {
          reject(new AgentError('verify_docker_output', `docker challenge run printed no answer: ${line.slice(0, 200)}`, { cause }));
          return;
        }
        const digests = new Uint8Array(Buffer.from(parsed.digests, 'base64'));
        if (digests.length !== challenge.n * DIGEST_BYTES) {
          reject(
            new AgentError(
              'verify_docker_output',
              `docker challenge run answered ${digests.length} bytes, expected ${challenge.n * DIGEST_BYTES}`,
            ),
          );
          return;
        }
        resolve(digests);
      },
    );
  });
}
