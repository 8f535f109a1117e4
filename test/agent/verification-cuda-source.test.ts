import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VERIFY_IMAGE, dockerArgs, solveWithDocker } from '../../edge-agent/src/verification/docker-solver.ts';
import { getConfig } from '../../workers/config.ts';
import { challengeShape, randomSeed, secretSample } from '../../workers/verification/challenge-policy.ts';
import { checkAnswer, solveChallenge, type MatmulChallenge } from '../../protocol/matmul-challenge.ts';

// The verify-cuda image's source (edge-agent/verify-cuda): its CPU reference build, compiled here
// from the same challenge.h the CUDA kernel uses, must answer challenges exactly as the TypeScript
// solver does and be accepted by the control plane's checker. If nvcc is installed, verify.cu
// itself must also compile.

const run = promisify(execFile);
const sourceDir = fileURLToPath(new URL('../../edge-agent/verify-cuda/', import.meta.url));

// Shapes as the control plane issues them (workers/verification/challenge-policy.ts), with the
// real-host shape scaled down through configuration so the CPU run stays small: a simulated
// node's default, and two real-host shapes whose products cover every (p & 3, p >>> 2) key case.
const config = getConfig({ ENVIRONMENT: 'test', VERIFY_MATRIX_N: '48', VERIFY_PRODUCTS: '6' } as unknown as Parameters<
  typeof getConfig
>[0]);
const smallConfig = getConfig({ ENVIRONMENT: 'test', VERIFY_MATRIX_N: '17', VERIFY_PRODUCTS: '9' } as unknown as Parameters<
  typeof getConfig
>[0]);
function issued(cfg: typeof config, simulated: boolean): MatmulChallenge & { sample: number[] } {
  const shape = challengeShape(cfg, [{ model: 'H100', count: 1 }], simulated);
  return { seed: randomSeed(), n: shape.n, products: shape.products, sample: secretSample(shape.n, cfg.VERIFY_SAMPLE_ROWS) };
}
const challenges = [issued(config, true), issued(config, false), issued(smallConfig, false)];

let dir = '';
let binary = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'verify-cuda-'));
  binary = join(dir, 'verify-host');
  await run('g++', ['-O2', '-std=c++17', '-Wall', '-Wextra', '-Werror', '-o', binary, join(sourceDir, 'verify-host.cpp')], {
    timeout: 120_000,
  });
}, 120_000);

/** The arguments the agent passes after the image name, i.e. what the image's ENTRYPOINT receives. */
const imageArgs = (c: MatmulChallenge) => {
  const args = dockerArgs(c);
  return args.slice(args.indexOf(DEFAULT_VERIFY_IMAGE) + 1);
};

async function onPath(name: string): Promise<string | null> {
  for (const entry of (process.env.PATH ?? '').split(delimiter)) {
    if (!entry) continue;
    const candidate = join(entry, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

describe('verify-cuda source (challenge.h through the verify-host.cpp reference build)', () => {
  it('prints exactly the TypeScript solver answer in the docker-solver output format, for issued challenges', async () => {
    expect(challenges.map((c) => [c.n, c.products])).toEqual([
      [64, 1],
      [48, 6],
      [17, 9],
    ]);
    for (const challenge of challenges) {
      const { stdout, stderr } = await run(binary, imageArgs(challenge), { encoding: 'utf8' });
      const expected = Buffer.from(await solveChallenge(challenge)).toString('base64');
      expect(stderr).toBe('');
      expect(stdout).toBe(`${JSON.stringify({ kind: 'matmul-int8-v1', digests: expected })}\n`);
    }
  });

  it('answers through the agent’s docker solver (container stand-in execs the binary) and the control plane accepts it', async () => {
    // `docker run --rm --gpus all --network none --read-only <image> …`: drop the 8 docker words, run the rest.
    const docker = join(dir, 'docker');
    await writeFile(docker, `#!/bin/sh\n[ "$8" = '${DEFAULT_VERIFY_IMAGE}' ] || exit 9\nshift 8\nexec '${binary}' "$@"\n`);
    await chmod(docker, 0o755);
    for (const challenge of challenges) {
      const digests = await solveWithDocker(challenge, { dockerPath: docker });
      expect(await checkAnswer(challenge, challenge.sample, digests)).toEqual({ ok: true });
      const everyRow = Array.from({ length: challenge.n }, (_, i) => i);
      expect(await checkAnswer(challenge, everyRow, digests)).toEqual({ ok: true });
      // A different seed's answer is refused, so the acceptance above is not vacuous.
      const other = { ...challenge, seed: randomSeed() };
      expect(await checkAnswer(other, everyRow, digests)).toMatchObject({ ok: false, reason: 'wrong_answer' });
    }
  });

  it('refuses arguments outside the contract with exit 2 and a message on stderr', async () => {
    const good = challenges[1]!;
    const bad: string[][] = [
      [],
      ['check', '--kind', 'matmul-int8-v1', '--seed', good.seed, '--n', '8', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v2', '--seed', good.seed, '--n', '8', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed.toUpperCase().replace(/^./, 'A'), '--n', '8', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed.slice(2), '--n', '8', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed, '--n', '0', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed, '--n', '65537', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed, '--n', '8', '--products', '4097'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed, '--n', '8x', '--products', '1'],
      ['solve', '--kind', 'matmul-int8-v1', '--seed', good.seed, '--n', '8'],
    ];
    for (const args of bad) {
      const failure = await run(binary, args, { encoding: 'utf8' }).then(
        () => null,
        (err: { code?: number; stdout?: string; stderr?: string }) => err,
      );
      expect(failure, args.join(' ')).not.toBeNull();
      expect(failure!.code, args.join(' ')).toBe(2);
      expect(failure!.stdout).toBe('');
      expect(failure!.stderr).toMatch(/usage: .* solve --kind matmul-int8-v1/);
    }
  });

  it('image files agree with the agent: Dockerfile entrypoint receives `solve …`, README names DEFAULT_VERIFY_IMAGE; verify.cu compiles with nvcc -c when nvcc is on PATH', async () => {
    const dockerfile = await readFile(join(sourceDir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/verify-cuda"\]$/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(await readFile(join(sourceDir, 'README.md'), 'utf8')).toContain(DEFAULT_VERIFY_IMAGE);

    const nvcc = await onPath('nvcc');
    if (nvcc) {
      const object = join(dir, 'verify.o');
      await run(nvcc, ['-std=c++17', '-c', join(sourceDir, 'verify.cu'), '-o', object], { timeout: 300_000 });
      expect((await stat(object)).size).toBeGreaterThan(0);
    }
  }, 300_000);
});
