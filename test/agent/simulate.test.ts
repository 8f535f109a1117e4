import { describe, expect, it } from 'vitest';
import { AgentError } from '../../edge-agent/src/errors.ts';
import { createSimulatedSource, parseSimulateSpec, simulatedInventory, simulatedMetrics } from '../../edge-agent/src/simulate.ts';

const inventoryOf = (spec: string) => simulatedInventory(parseSimulateSpec(spec));

describe('--simulate-gpus', () => {
  it('declares two RTX 4090s, marked simulated', () => {
    expect(inventoryOf('RTX 4090x2')).toEqual([{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }]);
  });

  it('reads lists of models, with spaces in names', () => {
    expect(inventoryOf('H100x8,A100 80GBx1')).toEqual([
      { model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 8, simulated: true },
      { model: 'NVIDIA A100 80GB PCIe', vramMb: 81920, count: 1, simulated: true },
    ]);
  });

  it('knows the catalogue sizes', () => {
    const vram = (spec: string) => inventoryOf(spec)[0]!.vramMb;
    expect(vram('RTX 3090x1')).toBe(24576);
    expect(vram('A100 40GBx1')).toBe(40960);
    expect(vram('L40Sx1')).toBe(46068);
    expect(vram('A10x1')).toBe(23028);
    expect(vram('T4x4')).toBe(15360);
  });

  it('is lenient about case, spacing, vendor prefixes and a missing count', () => {
    expect(inventoryOf(' nvidia geforce rtx 4090 X 3 , t4')).toEqual([
      { model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 3, simulated: true },
      { model: 'Tesla T4', vramMb: 15360, count: 1, simulated: true },
    ]);
  });

  it('adds up repeated models', () => {
    expect(inventoryOf('RTX 4090x1,RTX 4090x2')).toEqual([{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 3, simulated: true }]);
  });

  it('rejects an unknown model and lists the known ones', () => {
    expect(() => parseSimulateSpec('GTX 1080x2')).toThrow(
      /unknown or ambiguous GPU model "GTX 1080".*known models: T4, A10, L4, RTX 3090, .*H100 80GB/,
    );
  });

  it.each([
    ['', /empty/],
    ['RTX 4090x0', /between 1 and 64/],
    ['RTX 4090x65', /between 1 and 64/],
    ['RTX 4090x2,,T4', /empty entry/],
    ['RTX 4090x', /unknown or ambiguous GPU model "RTX 4090x"/],
    ['A100x2', /ambiguous GPU model "A100"/],
  ])('rejects %j', (spec, message) => {
    expect(() => parseSimulateSpec(spec)).toThrow(AgentError);
    expect(() => parseSimulateSpec(spec)).toThrow(message);
  });

  it('generates plausible metrics for every declared GPU', () => {
    const groups = parseSimulateSpec('H100x8,T4x2');
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let round = 0; round < 200; round++) {
      const metrics = simulatedMetrics(groups, random);
      expect(metrics.map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      metrics.forEach((m, i) => {
        const vram = i < 8 ? 81559 : 15360;
        const maxW = i < 8 ? 700 : 70;
        expect(Number.isInteger(m.utilPct) && m.utilPct >= 0 && m.utilPct <= 100).toBe(true);
        expect(m.memUsedMb).toBeGreaterThanOrEqual(0);
        expect(m.memUsedMb).toBeLessThanOrEqual(vram);
        expect(m.tempC).toBeGreaterThanOrEqual(30);
        expect(m.tempC).toBeLessThanOrEqual(85);
        expect(m.powerW).toBeGreaterThan(0);
        expect(m.powerW!).toBeLessThanOrEqual(maxW);
        expect(m.simulated).toBe(true);
      });
    }
  });

  it('is a GPU source that says it is simulated', async () => {
    const source = createSimulatedSource('RTX 4090x2', () => 0.5);
    const snapshot = await source.read();
    expect(source.simulated).toBe(true);
    expect(source.describe(snapshot)).toMatch(/^SIMULATED 2x NVIDIA GeForce RTX 4090/);
    expect(snapshot.metrics).toEqual([
      { index: 0, utilPct: 50, memUsedMb: expect.any(Number), tempC: expect.any(Number), powerW: 235, simulated: true },
      { index: 1, utilPct: 50, memUsedMb: expect.any(Number), tempC: expect.any(Number), powerW: 235, simulated: true },
    ]);
  });
});
