import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { api, heartbeat, registeredAgent, type TestAgent } from './helpers/agent.ts';

// GET /v1/network/summary against real D1 and real shards: totals, GPUs by model with the median
// price over GPUs, nodes by country and map dots, with offline nodes left out.

const summary = async () => {
  const res = await api('/v1/network/summary');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  return (await res.json()) as any;
};

describe('network summary', () => {
  it('is all zeros on an empty network', async () => {
    expect(await summary()).toMatchObject({
      nodes: { online: 0, offline: 0, simulatedOnline: 0 },
      gpus: { online: 0, simulatedOnline: 0 },
      models: [],
      countries: [],
      dots: [],
    });
  });

  describe('with nodes', () => {
    const agents: Record<string, TestAgent> = {};
    beforeAll(async () => {
      // Tokyo and Yokohama fall in one 1° cell, so they share a dot.
      agents.tokyo = await registeredAgent({
        name: 'tokyo',
        pricePerGpuHour: '1.25',
        location: { lat: 35.68, lon: 139.69, country: 'JP' },
      });
      agents.yokohama = await registeredAgent({
        name: 'yokohama',
        pricePerGpuHour: '2',
        location: { lat: 35.2, lon: 139.1, country: 'JP' },
        gpus: [
          { model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 },
          { model: 'NVIDIA A100-SXM4-80GB', vramMb: 81920, count: 1 },
        ],
      });
      agents.berlin = await registeredAgent({
        name: 'berlin-sim',
        pricePerGpuHour: '0.5',
        location: { lat: 52.52, lon: 13.4, country: 'DE' },
        gpus: [{ model: 'NVIDIA GeForce RTX 3090', vramMb: 24576, count: 4, simulated: true }],
      });
      agents.oregon = await registeredAgent({
        name: 'oregon',
        pricePerGpuHour: '3',
        location: { lat: 45.6, lon: -121.2, country: 'US' },
        gpus: [{ model: 'A100 80GB', vramMb: 81920, count: 1 }],
      });
      agents.quebec = await registeredAgent({
        name: 'quebec',
        pricePerGpuHour: '1',
        location: { lat: 46.8, lon: -71.2, country: 'CA' },
        gpus: [{ model: 'RTX 4090', vramMb: 24564, count: 1 }],
      });
    });

    it('counts online nodes and GPUs, real and simulated apart', async () => {
      const s = await summary();
      expect(s.nodes).toEqual({ online: 5, offline: 0, simulatedOnline: 1 });
      expect(s.gpus).toEqual({ online: 2 + 2 + 4 + 1 + 1, simulatedOnline: 4 });
    });

    it('gives GPUs by model, real GPUs first, with the median price over GPUs', async () => {
      const s = await summary();
      // RTX 4090 GPUs at 1.00, 1.25, 1.25, 2.00: both middle GPUs cost 1.25.
      // A100 80GB GPUs at 2.00 and 3.00: the median lies between them.
      expect(s.models).toEqual([
        { model: 'RTX 4090', gpus: 4, simulatedGpus: 0, nodes: 3, medianPricePerGpuHour: '1.250000' },
        { model: 'A100 80GB', gpus: 2, simulatedGpus: 0, nodes: 2, medianPricePerGpuHour: '2.500000' },
        { model: 'RTX 3090', gpus: 4, simulatedGpus: 4, nodes: 1, medianPricePerGpuHour: '0.500000' },
      ]);
    });

    it('groups nodes by country and into one dot per 1° cell at their mean position', async () => {
      const s = await summary();
      expect(s.countries).toEqual([
        { country: 'JP', nodes: 2, gpus: 4, simulatedNodes: 0 },
        { country: 'DE', nodes: 1, gpus: 4, simulatedNodes: 1 },
        { country: 'CA', nodes: 1, gpus: 1, simulatedNodes: 0 },
        { country: 'US', nodes: 1, gpus: 1, simulatedNodes: 0 },
      ]);
      expect(s.dots).toHaveLength(4);
      expect(s.dots).toContainEqual([35.4, 139.4, 4, 0, 2]);
      expect(s.dots).toContainEqual([52.5, 13.4, 4, 1, 1]);
      // Simulated dots come first so real ones are drawn over them.
      expect(s.dots[0][3]).toBe(1);
    });

    it('leaves offline nodes out of everything but the offline count', async () => {
      // A sweep 31 s from now (3 missed 10 s heartbeats) takes every node offline...
      await (exports.default as unknown as { scheduled(c: object): Promise<void> }).scheduled({
        cron: '* * * * *',
        scheduledTime: Date.now() + 31_000,
      });
      expect((await summary()).nodes).toEqual({ online: 0, offline: 5, simulatedOnline: 0 });
      // ...and all but Oregon come back with a heartbeat; the shards flush within about a second.
      for (const name of ['tokyo', 'yokohama', 'berlin', 'quebec']) {
        const res = await agents[name]!.send('POST', `/v1/nodes/${agents[name]!.nodeId}/heartbeat`, heartbeat());
        expect(res.status).toBe(200);
      }
      // The flush is a shard alarm about a second out; a full suite on two cores has delayed it past
      // 10 s, so the wait is generous (it ends as soon as the four are counted).
      await vi.waitFor(async () => expect((await summary()).nodes.online).toBe(4), { timeout: 30_000, interval: 200 });
      const s = await summary();
      expect(s.nodes).toEqual({ online: 4, offline: 1, simulatedOnline: 1 });
      expect(s.countries.map((c: any) => c.country)).not.toContain('US');
      expect(s.models.find((m: any) => m.model === 'A100 80GB')).toMatchObject({ gpus: 1, medianPricePerGpuHour: '2.000000' });
    });
  });
});
