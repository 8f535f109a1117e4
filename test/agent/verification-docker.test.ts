import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VERIFY_IMAGE, dockerArgs, solveWithDocker } from '../../edge-agent/src/verification/docker-solver.ts';
import { checkAnswer, solveChallenge } from '../../protocol/matmul-challenge.ts';

// A stand-in `docker` first on PATH: it records its arguments and prints what the real image
// would print (computed here by the reference solver), or fails like a host without GPUs.

const challenge = { seed: 'ab'.repeat(32), n: 32, products: 2 };

async function standInDocker(output: string, exitCode = 0): Promise<{ dir: string; argsFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-docker-'));
  const argsFile = join(dir, 'args');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(
    join(dir, 'docker'),
    [
      '#!/bin/sh',
      `printf '%s\\n' "$@" > ${quote(argsFile)}`,
      exitCode === 0 ? `printf '%s\\n' ${quote(output)}` : `echo ${quote(output)} >&2`,
      `exit ${exitCode}`,
      '',
    ].join('\n'),
  );
  await chmod(join(dir, 'docker'), 0o755);
  return { dir, argsFile };
}

describe('docker challenge solver', () => {
  it('runs exactly the documented command and returns digests the control plane accepts', async () => {
    const digests = await solveChallenge(challenge);
    const fake = await standInDocker(JSON.stringify({ kind: 'matmul-int8-v1', digests: Buffer.from(digests).toString('base64') }));
    const answer = await solveWithDocker(challenge, { dockerPath: join(fake.dir, 'docker') });
    const args = (await readFile(fake.argsFile, 'utf8')).trim().split('\n');
    expect(args).toEqual([
      'run',
      '--rm',
      '--gpus',
      'all',
      '--network',
      'none',
      '--read-only',
      DEFAULT_VERIFY_IMAGE,
      'solve',
      '--kind',
      'matmul-int8-v1',
      '--seed',
      challenge.seed,
      '--n',
      '32',
      '--products',
      '2',
    ]);
    expect(args).toEqual(dockerArgs(challenge));
    expect(await checkAnswer(challenge, [0, 7, 31], answer)).toEqual({ ok: true });
  });

  it('finds docker on PATH like the daemon does', async () => {
    const digests = await solveChallenge(challenge);
    const fake = await standInDocker(JSON.stringify({ kind: 'matmul-int8-v1', digests: Buffer.from(digests).toString('base64') }));
    const path = process.env.PATH;
    process.env.PATH = `${fake.dir}:${path}`;
    try {
      expect(await solveWithDocker(challenge)).toEqual(digests);
    } finally {
      process.env.PATH = path;
    }
  });

  it('reports a host without GPUs and refuses a malformed answer', async () => {
    const broken = await standInDocker('could not select device driver "" with capabilities: [[gpu]]', 125);
    await expect(solveWithDocker(challenge, { dockerPath: join(broken.dir, 'docker') })).rejects.toThrow(/could not select device driver/);
    const short = await standInDocker(JSON.stringify({ kind: 'matmul-int8-v1', digests: Buffer.alloc(8).toString('base64') }));
    await expect(solveWithDocker(challenge, { dockerPath: join(short.dir, 'docker') })).rejects.toThrow(/expected 256/);
  });
});
