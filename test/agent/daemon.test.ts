import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonOptions } from '../../edge-agent/src/daemon.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import { AGENT_VERSION } from '../../edge-agent/src/version.ts';
import {
  FakeControlPlane,
  OWNER,
  fakeNvidiaSmi,
  initHome,
  recordingSleep,
  tempDir,
  waitFor,
  type FakeControlPlaneOptions,
} from './helpers/index.ts';

const UNAVAILABLE = { status: 503, body: { error: { code: 'unavailable', message: 'Down for maintenance.' } } };
const running: { controller: AbortController; done: Promise<unknown> }[] = [];
const servers: FakeControlPlane[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.controller.abort();
    await r.done.catch(() => {});
  }
  for (const s of servers.splice(0)) await s.close();
});

async function setup(
  cpOptions: FakeControlPlaneOptions = {},
  config: Parameters<typeof initHome>[0] extends infer C ? Partial<C> : never = {},
) {
  const cp = new FakeControlPlane(cpOptions);
  servers.push(cp);
  await cp.listen();
  const agent = await initHome({ controlPlaneUrl: cp.url, ...config });
  cp.publicKey = agent.publicKey;
  return { cp, ...agent };
}

function start(options: Omit<DaemonOptions, 'signal'>) {
  const controller = new AbortController();
  const logger = createMemoryLogger();
  const done = startDaemon({ random: () => 0.5, logger, ...options, signal: controller.signal });
  running.push({ controller, done });
  return { controller, logger, done };
}

const probesAt = (base: string) => [
  { id: 'LOCAL', lat: 35.7, lon: 139.7, url: `${base}/probe` },
  { id: 'NOURL', lat: 1.35, lon: 103.99 },
  { id: 'DEAD', lat: 50.03, lon: 8.57, url: 'http://127.0.0.1:1/' },
];

describe('daemon against a stand-in control plane', () => {
  it('registers, then sends signed heartbeats at the interval the server returns', async () => {
    const { cp, home, nodeId } = await setup({ nextHeartbeatS: 7, probes: probesAt });
    const { sleep, delays } = recordingSleep((n) => {
      if (n === 2) cp.nextHeartbeatS = 11;
    });
    const { controller, logger, done } = start({ home, sleep });
    await waitFor(() => delays.length >= 4, '4 heartbeats and the sleeps after them');
    controller.abort();
    const summary = await done;

    expect(summary).toMatchObject({ nodeId, registrations: 1 });
    expect(delays.slice(0, 4)).toEqual([7000, 7000, 11000, 11000]);

    const [registration] = cp.registrations();
    expect(registration!.json).toEqual({
      owner: OWNER,
      name: 'rig-1',
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }],
      location: { lat: 35.68, lon: 139.69, country: 'JP' },
      pricePerGpuHour: '1.250000',
      agentVersion: AGENT_VERSION,
    });

    const signed = cp.requests.filter((r) => r.url.startsWith('/v1/'));
    expect(signed.map((r) => `${r.method} ${r.url}`).slice(0, 3)).toEqual([
      'POST /v1/nodes',
      'GET /v1/probes',
      `POST /v1/nodes/${nodeId}/heartbeat`,
    ]);
    for (const r of signed) {
      expect(r.signatureValid).toBe(true);
      expect(r.headers['x-gridplane-node']).toBe(nodeId);
    }
    expect(new Set(signed.map((r) => r.headers['x-gridplane-nonce'])).size).toBe(signed.length);

    for (const hb of cp.heartbeats()) {
      const body = hb.json as { gpus: { index: number }[]; probes: { target: string; rttMs: number }[]; runningJobs: unknown[] };
      expect(body.gpus.map((g) => g.index)).toEqual([0, 1]);
      expect(body.gpus[0]).toEqual({
        index: 0,
        utilPct: expect.any(Number),
        memUsedMb: expect.any(Number),
        tempC: expect.any(Number),
        powerW: expect.any(Number),
        simulated: true,
      });
      expect(body.probes).toEqual([{ target: 'LOCAL', rttMs: expect.any(Number) }]);
      expect(body.probes[0]!.rttMs).toBeGreaterThanOrEqual(0);
      expect(body.runningJobs).toEqual([]);
    }
    // Probe list fetched once (refresh is every 10 minutes), each probe URL timed 3 times a round.
    expect(cp.requests.filter((r) => r.url === '/v1/probes')).toHaveLength(1);
    const rounds = cp.heartbeats().length;
    expect(cp.requests.filter((r) => r.method === 'HEAD' && r.url === '/probe').length).toBeGreaterThanOrEqual(3 * rounds);

    expect(logger.records.find((r) => r.event === 'simulated')!.message).toMatch(/^SIMULATED GPUs: 2x NVIDIA GeForce RTX 4090/);
    expect(logger.records.filter((r) => r.event === 'heartbeat').every((r) => r.message.includes('SIMULATED'))).toBe(true);
    expect(logger.records.at(-1)).toMatchObject({ event: 'stopped', message: 'stopped' });
  });

  it('backs off exponentially with full jitter while the server answers 503, then recovers', async () => {
    const { cp, home } = await setup({ onHeartbeat: (n) => (n >= 3 && n <= 5 ? UNAVAILABLE : undefined) });
    const { sleep, delays } = recordingSleep();
    const { logger } = start({ home, sleep, backoffCapMs: 10_000 });
    await waitFor(() => delays.length >= 6, '6 sleeps');

    // base = the 7 s interval; random = 0.5; ceilings 7 s, 14 s → capped at 10 s, 28 s → 10 s.
    expect(delays.slice(0, 6)).toEqual([7000, 7000, 3500, 5000, 5000, 7000]);
    const backoffs = logger.records.filter((r) => r.event === 'backoff');
    expect(backoffs).toHaveLength(3);
    expect(backoffs[0]!.fields.cause).toContain('503 unavailable: Down for maintenance.');
    expect(logger.records.find((r) => r.event === 'recovered')!.message).toBe('control plane is back after 3 failed attempts');
    expect(cp.registrations()).toHaveLength(1);
  });

  it('backs off while the server is down and recovers by itself when it is back', async () => {
    const { cp, home } = await setup({ probes: probesAt });
    const { sleep, delays } = recordingSleep(async (n) => {
      if (n === 2) await cp.close();
      if (n === 5) await cp.listen();
    });
    const { logger } = start({ home, sleep });
    await waitFor(() => delays.length >= 7, '7 sleeps');

    expect(delays.slice(0, 7)).toEqual([7000, 7000, 3500, 7000, 14000, 7000, 7000]);
    const backoffs = logger.records.filter((r) => r.event === 'backoff');
    expect(backoffs.map((r) => r.message)).toEqual([
      'control plane unreachable; retry 1 in 3.5s',
      'control plane unreachable; retry 2 in 7.0s',
      'control plane unreachable; retry 3 in 14.0s',
    ]);
    expect(logger.records.some((r) => r.event === 'recovered')).toBe(true);
    expect(cp.heartbeats().length).toBeGreaterThanOrEqual(4);
  });

  it('waits and retries when the control plane is not up yet at start', async () => {
    const { cp, home } = await setup();
    await cp.close();
    const { sleep, delays } = recordingSleep(async (n) => {
      if (n === 1) await cp.listen();
    });
    start({ home, sleep });
    await waitFor(() => cp.heartbeats().length >= 1, 'a heartbeat');
    // Before the server names an interval the base is the 30 s default: 0.5 × 30 s.
    expect(delays[0]).toBe(15_000);
    expect(cp.registrations()).toHaveLength(1);
  });

  it('registers again when the server answers 404 node_not_found', async () => {
    const { cp, home } = await setup();
    const { sleep, delays } = recordingSleep((n) => {
      if (n === 2) cp.forgetNodes();
    });
    const { logger } = start({ home, sleep });
    await waitFor(() => delays.length >= 3, '3 sleeps');

    expect(cp.registrations()).toHaveLength(2);
    expect(delays.slice(0, 3)).toEqual([7000, 7000, 7000]);
    expect(logger.records.find((r) => r.event === 'node_not_found')!.message).toContain(
      '404 node_not_found: No node with this id is registered.',
    );
    const order = cp.requests.filter((r) => r.method === 'POST').map((r) => (r.url === '/v1/nodes' ? 'register' : 'heartbeat'));
    expect(order.slice(0, 5)).toEqual(['register', 'heartbeat', 'heartbeat', 'heartbeat', 'register']);
  });

  it('backs off instead of looping when the node keeps vanishing', async () => {
    const notFound = { status: 404, body: { error: { code: 'node_not_found', message: 'No node with this id is registered.' } } };
    const { cp, home } = await setup({ onHeartbeat: (n) => (n >= 2 ? notFound : undefined) });
    const { sleep, delays } = recordingSleep();
    start({ home, sleep });
    await waitFor(() => delays.length >= 4, '4 sleeps');
    // 1st 404: register at once; 2nd: backoff 3.5 s; then 7 s, 14 s.
    expect(delays.slice(0, 4)).toEqual([7000, 3500, 7000, 14000]);
    expect(cp.registrations().length).toBeGreaterThanOrEqual(3);
  });

  it('prints the error body of a rejected heartbeat and keeps going', async () => {
    const stale = {
      status: 401,
      body: { error: { code: 'stale_request', message: 'Timestamp is more than 300 s from the server clock.' } },
    };
    const { home } = await setup({ onHeartbeat: (n) => (n === 2 ? stale : undefined) });
    const { sleep, delays } = recordingSleep();
    const { logger } = start({ home, sleep });
    await waitFor(() => delays.length >= 3, '3 sleeps');
    expect(delays.slice(0, 3)).toEqual([7000, 3500, 7000]);
    const rejected = logger.records.find((r) => r.event === 'heartbeat_rejected')!;
    expect(rejected.level).toBe('error');
    expect(rejected.message).toContain('401 stale_request: Timestamp is more than 300 s from the server clock.');
  });

  it('stops when a registration is refused for a reason retrying cannot fix', async () => {
    const invalid = { status: 400, body: { error: { code: 'validation_failed', message: 'owner is not a wallet we accept.' } } };
    const { home } = await setup({ onRegister: () => invalid });
    const { done, logger } = start({ home, sleep: recordingSleep().sleep });
    await expect(done).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('400 validation_failed: owner is not a wallet we accept.'),
    });
    expect(logger.records.some((r) => r.event === 'register_rejected')).toBe(true);
  });

  it('aborts an in-flight request when stopped', async () => {
    const { cp, home } = await setup({ onHeartbeat: (n) => (n === 2 ? { status: 0, hang: true } : undefined) });
    const { controller, done, logger } = start({ home, sleep: recordingSleep().sleep });
    await waitFor(() => cp.heartbeats().length >= 2, 'the hanging heartbeat');
    const t0 = Date.now();
    controller.abort();
    await expect(done).resolves.toMatchObject({ heartbeats: 1 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(logger.records.at(-1)!.event).toBe('stopped');
  });

  it('reports real GPUs read by nvidia-smi (stand-in printing a recorded output)', async () => {
    const nvidiaSmiPath = await fakeNvidiaSmi('nvidia-smi-mixed-rtx4090-rtx3090.csv');
    const { cp, home } = await setup({}, { simulateGpus: null, nvidiaSmiPath });
    const { sleep } = recordingSleep();
    // A real host pulls the verification image at start: a stand-in docker that has it already.
    const docker = join(await tempDir(), 'docker');
    await writeFile(docker, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const { logger } = start({ home, sleep, dockerPath: docker });
    await waitFor(() => cp.heartbeats().length >= 1, 'a heartbeat');
    expect((cp.registrations()[0]!.json as { gpus: unknown }).gpus).toEqual([
      { model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 },
      { model: 'NVIDIA GeForce RTX 3090', vramMb: 24576, count: 1 },
    ]);
    expect((cp.heartbeats()[0]!.json as { gpus: unknown }).gpus).toEqual([
      { index: 0, utilPct: 12, memUsedMb: 1021, tempC: 44, powerW: 61.3 },
      { index: 1, utilPct: 0, memUsedMb: 8, tempC: 35, powerW: 29.84 },
      { index: 2, utilPct: 0, memUsedMb: 8, tempC: 40, powerW: 18.02 },
    ]);
    expect(logger.records.some((r) => r.message.includes('SIMULATED'))).toBe(false);
  });

  it('refuses to start when there are no GPUs to read', async () => {
    const { cp, home } = await setup({}, { simulateGpus: null, nvidiaSmiPath: join(await tempDir(), 'missing-nvidia-smi') });
    const { done } = start({ home, sleep: recordingSleep().sleep });
    await expect(done).rejects.toMatchObject({ code: 'nvidia_smi_not_found' });
    expect(cp.requests).toHaveLength(0);
  });
});
