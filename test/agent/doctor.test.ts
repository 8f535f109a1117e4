// Over 300 lines: each doctor check as a pure function, then the whole command over the same stand-in scripts; the two halves share the facts.
// `gridplane-agent doctor`: each check as a pure function over facts, then the whole command over
// stand-in nvidia-smi and docker scripts (the same kind the other agent tests use) and a control
// plane that is not there. Registration, eligibility and the clock against the real local control
// plane are in test/e2e/agent-node20.test.ts.
import { chmod, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../edge-agent/src/cli.ts';
import {
  checkClock,
  checkDocker,
  checkEligibility,
  checkGpus,
  checkKey,
  checkNode,
  checkNvidiaToolkit,
  compareDecimal,
  formatScaled,
  type CheckResult,
  type DoctorFacts,
} from '../../edge-agent/src/doctor/checks.ts';
import { fakeNvidiaSmi, initHome, tempDir } from './helpers/index.ts';

const facts = (over: Partial<DoctorFacts> = {}): DoctorFacts => ({
  nodeVersion: '20.20.2',
  home: '/home/op/.gridplane-agent',
  config: { ok: true, controlPlaneUrl: 'https://api.gridplane.example', simulateGpus: null, nvidiaSmiPath: 'nvidia-smi' },
  key: {
    path: '/home/op/.gridplane-agent/device-key.pem',
    exists: true,
    mode: 0o100600,
    ownerUid: 1000,
    processUid: 1000,
    nodeId: 'NodeId111',
    loadError: null,
  },
  gpus: { kind: 'read', inventory: [{ model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 8 }] },
  docker: { kind: 'ok', serverVersion: '28.2.2', runtimes: ['io.containerd.runc.v2', 'nvidia', 'runc'] },
  verifyImage: { image: 'ghcr.io/gridplane/verify-cuda:1', present: true },
  reach: {
    ok: true,
    url: 'https://api.gridplane.example',
    status: 200,
    sentAtMs: 1_000_000,
    receivedAtMs: 1_000_200,
    serverDate: new Date(1_000_000).toUTCString(),
  },
  node: {
    kind: 'found',
    view: {
      status: 'online',
      simulated: false,
      suspended: false,
      eligible: true,
      verifiedAt: '2026-11-21T10:00:00.000Z',
      stake: '1600.000000',
      gpuCount: 8,
    },
  },
  signedClock: { stale: false },
  minStakePerGpu: '200.000000',
  ...over,
});

/** Every problem names its fix. */
function expectFixed(result: CheckResult, status: 'warn' | 'fail', fix: RegExp) {
  expect(result.status).toBe(status);
  expect(result.fix).toMatch(fix);
}

describe('doctor checks', () => {
  it('Node.js: 20.20 or later', () => {
    expect(checkNode('20.20.2').status).toBe('ok');
    expect(checkNode('22.1.0').status).toBe('ok');
    expectFixed(checkNode('20.19.5'), 'fail', /Node\.js 20\.20 or later/);
    expectFixed(checkNode('18.20.0'), 'fail', /Node\.js 20\.20 or later/);
  });

  it('the key: mode 0600, owned by the agent user', () => {
    expect(checkKey(facts()).status).toBe('ok');
    expectFixed(
      checkKey(facts({ key: { ...(facts().key as any), mode: 0o100644 } })),
      'fail',
      /^chmod 600 \/home\/op\/\.gridplane-agent\/device-key\.pem$/,
    );
    expectFixed(checkKey(facts({ key: { ...(facts().key as any), ownerUid: 0 } })), 'fail', /chown/);
    expectFixed(checkKey(facts({ key: { path: '/x/device-key.pem', exists: false } })), 'fail', /gridplane-agent init/);
  });

  it('the GPUs: driver missing, driver not loaded, simulated', () => {
    expect(checkGpus(facts()).detail).toBe('nvidia-smi: 8× NVIDIA H100 80GB HBM3 (81559 MiB)');
    expectFixed(
      checkGpus(facts({ gpus: { kind: 'error', code: 'nvidia_smi_not_found', message: 'nvidia-smi not found' } })),
      'fail',
      /install the NVIDIA driver/,
    );
    expectFixed(
      checkGpus(
        facts({
          gpus: {
            kind: 'error',
            code: 'nvidia_smi_failed',
            message: "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
          },
        }),
      ),
      'fail',
      /reboot/,
    );
    expectFixed(checkGpus(facts({ gpus: { kind: 'simulated', spec: 'RTX 4090x1' } })), 'warn', /without --simulate-gpus/);
  });

  it('Docker and the NVIDIA container toolkit', () => {
    expect(checkDocker(facts()).status).toBe('ok');
    expect(checkNvidiaToolkit(facts()).status).toBe('ok');
    expectFixed(
      checkDocker(
        facts({
          docker: {
            kind: 'error',
            code: 'docker_failed',
            message: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock',
          },
        }),
      ),
      'fail',
      /usermod -aG docker/,
    );
    expectFixed(
      checkDocker(
        facts({
          docker: {
            kind: 'error',
            code: 'docker_failed',
            message: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
          },
        }),
      ),
      'fail',
      /systemctl enable --now docker/,
    );
    expectFixed(
      checkDocker(facts({ docker: { kind: 'error', code: 'docker_not_found', message: 'docker not found' } })),
      'fail',
      /install Docker Engine/,
    );
    expectFixed(
      checkNvidiaToolkit(facts({ docker: { kind: 'ok', serverVersion: '28.2.2', runtimes: ['runc'] } })),
      'fail',
      /nvidia-ctk runtime configure --runtime=docker/,
    );
  });

  it('the clock against the control plane: refused beyond 300 s, drifting beyond 60 s', () => {
    const at = (skewMs: number) =>
      facts({
        reach: {
          ok: true,
          url: 'u',
          status: 200,
          sentAtMs: 5_000_000,
          receivedAtMs: 5_000_100,
          serverDate: new Date(5_000_050 + skewMs).toUTCString(),
        },
      });
    expect(checkClock(at(0))).toMatchObject({ status: 'ok' });
    expect(checkClock(at(2_000)).status).toBe('ok');
    const drifting = checkClock(at(-120_000));
    expectFixed(drifting, 'warn', /timedatectl set-ntp true/);
    expect(drifting.detail).toMatch(/ahead of the control plane's/);
    const refused = checkClock(at(600_000));
    expectFixed(refused, 'fail', /timedatectl set-ntp true/);
    expect(refused.detail).toMatch(
      /^this clock is 600\.\d s ± 0\.6 s behind the control plane's: signed requests are refused beyond 300 s/,
    );
    // Without a Date header the signed request decides: accepted within the window, or stale.
    const noDate = { reach: { ok: true as const, url: 'u', status: 200, sentAtMs: 1, receivedAtMs: 2, serverDate: null } };
    expect(checkClock(facts(noDate))).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^within 300 s of the control plane's: it accepted a request signed/),
    });
    expectFixed(checkClock(facts({ ...noDate, signedClock: { stale: true } })), 'fail', /timedatectl set-ntp true/);
    expect(checkClock(facts({ ...noDate, signedClock: null })).status).toBe('skip');
    // A stale refusal outweighs a Date header that looks fine (a proxy's clock, say).
    expect(checkClock(facts({ ...at(0), signedClock: { stale: true } })).status).toBe('fail');
  });

  it('eligibility: verification and the minimum stake per GPU, with the shortfall', () => {
    expect(checkEligibility(facts()).status).toBe('ok');
    const short = checkEligibility(
      facts({ node: { kind: 'found', view: { ...(facts().node as any).view, eligible: false, stake: '1450.5' } } }),
    );
    expect(short.detail).toBe('not eligible for jobs: stake 1450.5 is below the minimum 1600.000000 (200.000000 per GPU × 8)');
    expectFixed(short, 'fail', /^bond 149\.500000 more to this node/);
    const unverified = checkEligibility(
      facts({ node: { kind: 'found', view: { ...(facts().node as any).view, eligible: false, verifiedAt: null } } }),
    );
    expect(unverified.detail).toBe('not eligible for jobs: not verified');
    expectFixed(unverified, 'fail', /hardware challenge on the GPU/);
  });

  it('decimal amounts compare as integers', () => {
    expect(compareDecimal('0.1', '0.10')).toEqual({ a: 10n, b: 10n, scale: 2 });
    expect(formatScaled(5n, 6)).toBe('0.000005');
    expect(formatScaled(1_600_000_000n, 6)).toBe('1600.000000');
    expect(() => compareDecimal('1e3', '1')).toThrow(/not a decimal/);
  });
});

describe('gridplane-agent doctor', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  /** A stand-in docker first on PATH: a daemon of version 28.2.2 with the given runtimes, or a refusal. */
  async function dockerOnPath(behaviour: { runtimes: string[] } | { fail: string }) {
    const dir = await tempDir('fake-docker-');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const body =
      'fail' in behaviour
        ? [`echo ${q(behaviour.fail)} >&2`, 'exit 1']
        : [
            'case "$1" in',
            '  version) echo 28.2.2 ;;',
            `  info) echo ${q(JSON.stringify(Object.fromEntries(behaviour.runtimes.map((r) => [r, { path: r }]))))} ;;`,
            '  image) echo "Error: No such image: $5" >&2; exit 1 ;;',
            '  *) echo "stand-in docker: unexpected $*" >&2; exit 2 ;;',
            'esac',
          ];
    await writeFile(join(dir, 'docker'), ['#!/bin/sh', ...body, ''].join('\n'));
    await chmod(join(dir, 'docker'), 0o755);
    process.env.PATH = `${dir}:${savedPath}`;
  }

  /** A loopback port nothing listens on: connections to it are refused. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }

  async function doctor(home: string) {
    const out: string[] = [];
    const code = await main(['doctor', '--home', home, '--json'], { out: (l) => out.push(l), err: (l) => out.push(l) });
    const lines = out.map((l) => JSON.parse(l) as CheckResult & { summary?: unknown });
    return {
      code,
      checks: Object.fromEntries(lines.filter((l) => l.id).map((l) => [l.id, l])) as Record<string, CheckResult>,
      summary: lines.at(-1)!.summary,
    };
  }

  it('a host with GPUs but no toolkit and no control plane: each problem with its fix', async () => {
    const nvidiaSmiPath = await fakeNvidiaSmi('nvidia-smi-mixed-rtx4090-rtx3090.csv');
    const port = await closedPort();
    const { home } = await initHome({ controlPlaneUrl: `http://127.0.0.1:${port}`, simulateGpus: null, nvidiaSmiPath });
    await dockerOnPath({ runtimes: ['io.containerd.runc.v2', 'runc'] });
    const { code, checks, summary } = await doctor(home);
    expect(code).toBe(1);
    expect(checks.gpus).toMatchObject({
      status: 'ok',
      detail: 'nvidia-smi: 2× NVIDIA GeForce RTX 4090 (24564 MiB), 1× NVIDIA GeForce RTX 3090 (24576 MiB)',
    });
    expect(checks.docker).toMatchObject({ status: 'ok', detail: 'Docker Engine 28.2.2' });
    expect(checks['nvidia-toolkit']).toMatchObject({ status: 'fail', fix: expect.stringContaining('nvidia-ctk runtime configure') });
    expect(checks['verify-image']).toMatchObject({ status: 'warn', fix: 'pull it now: docker pull ghcr.io/gridplane/verify-cuda:1' });
    expect(checks.key).toMatchObject({ status: 'ok' });
    expect(checks.reach).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:${port}: fetch failed: .*ECONNREFUSED`)),
    });
    expect(checks.clock).toMatchObject({ status: 'skip' });
    expect(checks.registration).toMatchObject({ status: 'skip' });
    expect(summary).toEqual({ failed: 2, warnings: 1, ok: false });
  });

  it('a driver that does not answer, a docker the user may not use, a readable key', async () => {
    const nvidiaSmiPath = await fakeNvidiaSmi('nvidia-smi-driver-failure.txt', 9);
    const { home } = await initHome({ controlPlaneUrl: 'http://127.0.0.1:9', simulateGpus: null, nvidiaSmiPath });
    await chmod(join(home, 'device-key.pem'), 0o644);
    await dockerOnPath({
      fail: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.50/version": dial unix /var/run/docker.sock: connect: permission denied',
    });
    const { checks } = await doctor(home);
    expect(checks.gpus).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('exited with code 9'),
      fix: expect.stringContaining('reboot'),
    });
    expect(checks.docker).toMatchObject({ status: 'fail', fix: expect.stringContaining('usermod -aG docker') });
    expect(checks['nvidia-toolkit']).toMatchObject({ status: 'skip' });
    expect(checks.key).toMatchObject({ status: 'fail', fix: `chmod 600 ${join(home, 'device-key.pem')}` });
  });

  it('an uninitialised home says to run init', async () => {
    const { checks, code } = await doctor(join(await tempDir(), 'nothing-here'));
    expect(code).toBe(1);
    expect(checks.config).toMatchObject({ status: 'fail', fix: expect.stringContaining('gridplane-agent init') });
    expect(checks.key).toMatchObject({ status: 'fail' });
  });
});
