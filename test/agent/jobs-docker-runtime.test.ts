import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDockerRuntime, dockerRunArgs } from '../../edge-agent/src/jobs/docker-runtime.ts';
import type { JobSpec } from '../../edge-agent/src/jobs/runtime.ts';

// No Docker engine runs here, so a stand-in `docker` on PATH records every call: its argv one
// argument per line, and what the job's secret looked like in its environment. The assertions are
// on the exact commands the runtime would run on a real host.

const STAND_IN = `#!/bin/sh
dir="$(dirname "$0")"
{ for a in "$@"; do printf '%s\\n' "$a"; done; echo '---'; } >> "$dir/calls.log"
case "$1" in
  run)
    printf 'env HF_TOKEN=%s\\n' "$HF_TOKEN" >> "$dir/env.log"
    echo "hello from the container"
    while [ ! -f "$dir/stopped" ] && [ -z "$FAKE_DOCKER_QUICK" ]; do sleep 0.05; done
    exit "\${FAKE_DOCKER_EXIT:-0}" ;;
  stop) touch "$dir/stopped" ;;
esac
exit 0
`;

let dir: string;
let savedPath: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  writeFileSync(join(dir, 'docker'), STAND_IN);
  chmodSync(join(dir, 'docker'), 0o755);
  savedPath = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
});

afterEach(() => {
  process.env.PATH = savedPath;
  delete process.env.FAKE_DOCKER_QUICK;
  rmSync(dir, { recursive: true, force: true });
});

const spec = (overrides: Partial<JobSpec> = {}): JobSpec => ({
  id: 'job_abc123',
  image: 'ghcr.io/acme/train:1.2',
  command: ['python', 'train.py', '--epochs', '3'],
  env: { HF_TOKEN: 'hf_topsecret_value', WANDB_KEY: 'wandb-secret-2' },
  gpus: { count: 2, allocation: [['NVIDIA GeForce RTX 4090', 2]] },
  durationS: 600,
  acceptBy: Date.now() + 30_000,
  assignedAt: Date.now(),
  ...overrides,
});

function calls(): string[][] {
  const text = existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8') : '';
  return text
    .split('---\n')
    .filter((c) => c.length > 0)
    .map((c) => c.split('\n').filter((l, i, all) => i < all.length - 1 || l !== ''));
}

describe('docker runtime', () => {
  it('builds the docker run argv: name, label, GPUs, limits, env names only, image, command', () => {
    expect(dockerRunArgs({ spec: spec(), gpuIndexes: [0, 1] }, { cpus: '8', memory: '32g' })).toEqual([
      'run', '--name', 'gridplane-job_abc123', '--label', 'gridplane.job=job_abc123', '--gpus', '"device=0,1"',
      '--init', '--pull', 'missing', '--security-opt', 'no-new-privileges', '--pids-limit', '4096',
      '--cpus', '8', '--memory', '32g', '--env', 'HF_TOKEN', '--env', 'WANDB_KEY',
      'ghcr.io/acme/train:1.2', 'python', 'train.py', '--epochs', '3',
    ]);
  });

  it('runs through the docker on PATH, keeps secrets off the argv, stops and cleans up', async () => {
    const runtime = createDockerRuntime({ stopTimeoutS: 3 });
    const output: string[] = [];
    const job = await runtime.start({ spec: spec(), gpuIndexes: [1, 3], onOutput: (_s, c) => output.push(c) });
    await expect.poll(() => output.join(''), { timeout: 5000 }).toContain('hello from the container');
    await job.stop();
    const status = await job.exited;
    expect(status).toEqual({ exitCode: 0 });

    const all = calls();
    expect(all.map((c) => c[0])).toEqual(['rm', 'run', 'stop', 'rm']);
    expect(all[0]).toEqual(['rm', '-f', 'gridplane-job_abc123']);
    expect(all[1]).toContain('"device=1,3"');
    expect(all[2]).toEqual(['stop', '--time', '3', 'gridplane-job_abc123']);
    expect(all[3]).toEqual(['rm', '-f', 'gridplane-job_abc123']);
    // The value reached the docker process's environment, and no argv, label or name holds it.
    expect(readFileSync(join(dir, 'env.log'), 'utf8')).toBe('env HF_TOKEN=hf_topsecret_value\n');
    const argvText = all.flat().join('\n');
    expect(argvText).not.toContain('hf_topsecret_value');
    expect(argvText).not.toContain('wandb-secret-2');
    expect(all[1]!.filter((a) => a.startsWith('gridplane.job='))).toEqual(['gridplane.job=job_abc123']);
  });

  it('reports the container exit code, and docker failures as errors', async () => {
    process.env.FAKE_DOCKER_QUICK = '1';
    process.env.FAKE_DOCKER_EXIT = '3';
    try {
      const runtime = createDockerRuntime();
      const failed = await runtime.start({ spec: spec(), gpuIndexes: [0], onOutput: () => undefined });
      expect(await failed.exited).toEqual({ exitCode: 3 });
      process.env.FAKE_DOCKER_EXIT = '125';
      const broken = await runtime.start({ spec: spec(), gpuIndexes: [0], onOutput: () => undefined });
      expect(await broken.exited).toEqual({ exitCode: 125, error: 'docker run failed with 125' });
      // Cleanup ran after each exit.
      expect(calls().filter((c) => c[0] === 'rm')).toHaveLength(4);
    } finally {
      delete process.env.FAKE_DOCKER_EXIT;
    }
  });
});
