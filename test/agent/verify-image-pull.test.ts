import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon } from '../../edge-agent/src/daemon.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import { PullProgress, createImagePuller, ensureImage } from '../../edge-agent/src/verification/image-pull.ts';
import { FakeControlPlane, fakeNvidiaSmi, initHome, tempDir, waitFor } from './helpers/index.ts';

// The verification image is pulled before the first challenge, with progress in the log. A
// stand-in `docker` records its calls; `image inspect` succeeds once a pull has finished, and a
// pull prints what a real `docker pull` prints without a terminal (no byte counts), optionally
// holding until the test opens a gate file.

const IMAGE = 'ghcr.io/gridplane/verify-cuda:1';

/** Recorded from `docker pull` into a pipe, layer ids shortened to 12 hex digits as docker does. */
const PULL_OUTPUT = [
  '1: Pulling from gridplane/verify-cuda',
  'aece8493d397: Already exists',
  '9fe5ccccae45: Pulling fs layer',
  '8ab0a2dd3bbd: Pulling fs layer',
  '2f1d5e0bd3cb: Pulling fs layer',
  '8ab0a2dd3bbd: Waiting',
  '9fe5ccccae45: Verifying Checksum',
  '9fe5ccccae45: Download complete',
  '2f1d5e0bd3cb: Download complete',
  '9fe5ccccae45: Pull complete',
  '8ab0a2dd3bbd: Verifying Checksum',
  '8ab0a2dd3bbd: Download complete',
  '8ab0a2dd3bbd: Pull complete',
  '2f1d5e0bd3cb: Pull complete',
  'Digest: sha256:7b4c2f0e5a33b1f1c1b3e0c9a0f2d6a4c9f5f0a8e2b1d7c6e5f4a3b2c1d0e9f8',
  `Status: Downloaded newer image for ${IMAGE}`,
  IMAGE,
];

async function standInDocker(options: { pullExit?: number; gate?: string } = {}) {
  const dir = await tempDir('fake-docker-');
  const calls = join(dir, 'calls');
  const present = join(dir, 'present');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    '#!/bin/sh',
    `echo "$*" >> ${q(calls)}`,
    'case "$1" in',
    `  image) if [ -f ${q(present)} ]; then echo sha256:abc; exit 0; fi; echo "Error response from daemon: No such image: $5" >&2; exit 1 ;;`,
    '  pull)',
    ...PULL_OUTPUT.slice(0, 5).map((l) => `    echo ${q(l)}`),
    ...(options.gate ? [`    while [ ! -f ${q(options.gate)} ]; do sleep 0.05; done`] : []),
    ...(options.pullExit
      ? [
          '    echo "Error response from daemon: Get \\"https://ghcr.io/v2/\\": net/http: TLS handshake timeout" >&2',
          `    exit ${options.pullExit}`,
        ]
      : [...PULL_OUTPUT.slice(5).map((l) => `    echo ${q(l)}`), `    touch ${q(present)}`, '    exit 0']),
    '    ;;',
    '  *) echo "stand-in docker: unexpected $*" >&2; exit 2 ;;',
    'esac',
    '',
  ].join('\n');
  await writeFile(join(dir, 'docker'), script);
  await chmod(join(dir, 'docker'), 0o755);
  return {
    path: join(dir, 'docker'),
    calls: async () => (existsSync(calls) ? (await readFile(calls, 'utf8')).trim().split('\n') : []),
    markPresent: () => writeFile(present, ''),
  };
}

describe('pull progress', () => {
  it('counts layers downloaded and extracted from docker pull output', () => {
    const progress = new PullProgress();
    const moved = PULL_OUTPUT.filter((l) => progress.line(l));
    expect(progress.total).toBe(4);
    expect(progress.downloaded).toBe(4);
    expect(progress.done).toBe(4);
    // Already exists (counts twice at once), three downloads, three extractions.
    expect(moved).toHaveLength(7);
  });
});

describe('ensureImage', () => {
  it('does nothing when the image is there', async () => {
    const docker = await standInDocker();
    await docker.markPresent();
    const log = createMemoryLogger();
    expect(await ensureImage({ image: IMAGE, log, signal: new AbortController().signal, dockerPath: docker.path })).toBe('present');
    expect(await docker.calls()).toEqual([`image inspect --format {{.Id}} ${IMAGE}`]);
    expect(log.records).toEqual([]);
  });

  it('pulls a missing image and logs each step of progress', async () => {
    const docker = await standInDocker();
    const log = createMemoryLogger();
    expect(await ensureImage({ image: IMAGE, log, signal: new AbortController().signal, dockerPath: docker.path })).toBe('pulled');
    expect(await docker.calls()).toEqual([`image inspect --format {{.Id}} ${IMAGE}`, `pull ${IMAGE}`]);
    expect(log.records[0]).toMatchObject({ event: 'verify_image_pull' });
    const steps = log.records.filter((r) => r.event === 'verify_image_progress').map((r) => r.message);
    expect(steps.at(-1)).toBe('verification image: 4/4 layers downloaded, 4/4 extracted');
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expect(log.records.at(-1)).toMatchObject({ event: 'verify_image_pulled' });
  });

  it('a failed pull rejects with what docker said, and the next ensure() tries again', async () => {
    const docker = await standInDocker({ pullExit: 1 });
    const log = createMemoryLogger();
    const puller = createImagePuller({ image: IMAGE, log, signal: new AbortController().signal, dockerPath: docker.path });
    await expect(puller.ensure()).rejects.toThrow(/TLS handshake timeout/);
    expect(log.records.some((r) => r.event === 'verify_image_failed')).toBe(true);
    await expect(puller.ensure()).rejects.toThrow(/exited with code 1/);
    expect((await docker.calls()).filter((c) => c.startsWith('pull'))).toHaveLength(2);
  });
});

describe('the daemon on a real host', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('pulls the image at start and polls for challenges only once it is there', async () => {
    const gate = join(await tempDir(), 'gate');
    const docker = await standInDocker({ gate });
    const cp = new FakeControlPlane({ nextHeartbeatS: 1 });
    await cp.listen();
    const nvidiaSmiPath = await fakeNvidiaSmi('nvidia-smi-rtx4090.csv');
    const { home, publicKey } = await initHome({ controlPlaneUrl: cp.url, simulateGpus: null, nvidiaSmiPath });
    cp.publicKey = publicKey;
    const controller = new AbortController();
    const logger = createMemoryLogger();
    const done = startDaemon({ home, signal: controller.signal, logger, intervalMs: 50, dockerPath: docker.path, noJobStream: true });
    stops.push(async () => {
      controller.abort();
      await done.catch(() => undefined);
      await cp.close();
    });
    const challengePolls = () => cp.requests.filter((r) => r.method === 'GET' && r.url.endsWith('/challenges'));

    // Heartbeats go on while the pull holds; each one would have polled for challenges.
    await waitFor(() => cp.heartbeats().length >= 3, 'three heartbeats during the pull');
    expect(logger.records.some((r) => r.event === 'verify_image_pull')).toBe(true);
    expect(challengePolls()).toHaveLength(0);

    await writeFile(gate, '');
    await waitFor(() => challengePolls().length >= 1, 'the first challenge poll');
    const events = logger.records.map((r) => r.event);
    expect(events.indexOf('verify_image_pulled')).toBeGreaterThan(events.indexOf('verify_image_progress'));
    expect(events.indexOf('verify_image_pulled')).toBeGreaterThan(-1);
    expect((await docker.calls()).filter((c) => c.startsWith('pull'))).toEqual([`pull ${IMAGE}`]);
  });
});
