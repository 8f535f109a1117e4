// The bodies the agent sends must pass the Worker's own input schemas (workers/nodes/
// node-input.schema.ts). If either side changes its shape, this fails before the e2e suite does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAgentSignature } from '../../workers/auth/agent-signature.ts';
import { heartbeatSchema, registerNodeSchema } from '../../workers/nodes/node-input.schema.ts';
import { initIdentity } from '../../edge-agent/src/identity.ts';
import { createSignedFetch } from '../../edge-agent/src/signed-fetch.ts';
import { parseConfig } from '../../edge-agent/src/config.ts';
import { groupGpus, parseNvidiaSmiCsv, toMetrics } from '../../edge-agent/src/gpu-detect.ts';
import { registrationBody } from '../../edge-agent/src/registration.ts';
import { parseSimulateSpec, simulatedInventory, simulatedMetrics } from '../../edge-agent/src/simulate.ts';
import { FakeControlPlane, OWNER, fixturePath, tempDir } from './helpers/index.ts';

const config = parseConfig(
  { nodeName: 'rig-1', owner: OWNER, location: { lat: 35.68, lon: 139.69, country: 'JP' }, pricePerGpuHour: '1.250000' },
  'test',
);

const FIXTURES = [
  'nvidia-smi-rtx4090.csv',
  'nvidia-smi-rtx3090.csv',
  'nvidia-smi-a100-80gb-pcie.csv',
  'nvidia-smi-h100-80gb-hbm3.csv',
  'nvidia-smi-h100-80gb-hbm3-x8.csv',
  'nvidia-smi-mixed-rtx4090-rtx3090.csv',
  'nvidia-smi-vgpu-power-na.csv',
];

describe("agent bodies against the Worker's input schemas", () => {
  it.each(FIXTURES)('registration and heartbeat from %s are accepted', (name) => {
    const readings = parseNvidiaSmiCsv(readFileSync(fixturePath(name), 'utf8'));
    const registration = registerNodeSchema.safeParse(registrationBody(config, groupGpus(readings)));
    expect(registration.error).toBeUndefined();
    const heartbeat = heartbeatSchema.safeParse({ gpus: toMetrics(readings), probes: [{ target: 'NRT', rttMs: 3.2 }], runningJobs: [] });
    expect(heartbeat.error).toBeUndefined();
  });

  it('simulated registration and heartbeat are accepted and stay marked simulated', () => {
    const groups = parseSimulateSpec('H100x8,A100 80GBx1,RTX 4090x2');
    const registration = registerNodeSchema.parse(registrationBody(config, simulatedInventory(groups)));
    expect(registration.gpus.every((g) => g.simulated === true)).toBe(true);
    const heartbeat = heartbeatSchema.parse({ gpus: simulatedMetrics(groups), probes: [], runningJobs: [] });
    expect(heartbeat.gpus).toHaveLength(11);
    expect(heartbeat.gpus.every((g) => g.simulated === true)).toBe(true);
  });
});

describe("agent signatures against the Worker's verifier", () => {
  it('a request as the agent sends it passes verifyAgentSignature, and a tampered one does not', async () => {
    const cp = new FakeControlPlane();
    await cp.listen();
    try {
      const { identity } = await initIdentity(await tempDir());
      await createSignedFetch(
        identity,
        cp.url,
      )({ method: 'POST', path: `/v1/nodes/${identity.nodeId}/heartbeat?x=1`, body: { gpus: [], probes: [], runningJobs: [] } });
      const sent = cp.requests[0]!;
      const headers = new Headers(Object.entries(sent.headers).map(([k, v]) => [k, String(v)] as [string, string]));
      const check = (over: Partial<{ pathWithQuery: string; body: Uint8Array<ArrayBuffer> }>) =>
        verifyAgentSignature({
          method: sent.method,
          pathWithQuery: sent.url,
          headers,
          body: new Uint8Array(sent.rawBody),
          nowMs: Date.now(),
          ...over,
        });
      await expect(check({})).resolves.toMatchObject({ ok: true, nodeId: identity.nodeId });
      await expect(check({ pathWithQuery: sent.url.replace('?x=1', '?x=2') })).resolves.toEqual({ ok: false, reason: 'bad_signature' });
      await expect(check({ body: new TextEncoder().encode('{}') })).resolves.toEqual({ ok: false, reason: 'bad_signature' });
    } finally {
      await cp.close();
    }
  });
});
