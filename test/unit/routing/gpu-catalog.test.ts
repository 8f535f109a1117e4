import { describe, expect, it } from 'vitest';
import { canonicalGpuModel, GPU_CATALOG, matchingModels } from '../../../protocol/gpu-catalog.ts';

describe('canonicalGpuModel', () => {
  it.each([
    ['4090', 'RTX 4090'],
    ['rtx4090', 'RTX 4090'],
    ['RTX 4090', 'RTX 4090'],
    ['NVIDIA GeForce RTX 4090', 'RTX 4090'],
    ['geforce rtx 4090 24gb', 'RTX 4090'],
    ['3090', 'RTX 3090'],
    ['NVIDIA GeForce RTX 3090 Ti', 'RTX 3090 Ti'],
    ['rtx 3090ti', 'RTX 3090 Ti'],
    ['RTX 5090', 'RTX 5090'],
    ['h100 80gb', 'H100 80GB'],
    ['NVIDIA H100 80GB HBM3', 'H100 80GB'],
    ['H100 SXM', 'H100 80GB'],
    ['NVIDIA H100 PCIe', 'H100 80GB'],
    ['H100-SXM5-80GB', 'H100 80GB'],
    ['NVIDIA A100-SXM4-80GB', 'A100 80GB'],
    ['NVIDIA A100-PCIE-40GB', 'A100 40GB'],
    ['a100 80 GB', 'A100 80GB'],
    ['NVIDIA H200', 'H200'],
    ['B200', 'B200'],
    ['NVIDIA L4', 'L4'],
    ['NVIDIA L40S', 'L40S'],
    ['NVIDIA A10', 'A10'],
    ['Tesla T4', 'T4'],
    ['NVIDIA RTX A6000', 'RTX A6000'],
    ['AMD Instinct MI300X', 'MI300X'],
  ])('%s -> %s', (input, name) => {
    expect(canonicalGpuModel(input)?.name).toBe(name);
  });

  it.each([
    ['RTX 4090 D'], // a different card sold in China
    ['RTX 4080'],
    ['L40'], // not the L40S
    ['A10G'],
    ['H100 94GB'], // wrong memory for the catalogued H100
    ['a100 48gb'],
    ['mi300'],
    ['Tesla V100'],
    ['4090 laptop'],
    ['NVIDIA'],
    [''],
    ['   '],
    ['40900'],
  ])('%s -> nothing', (input) => {
    expect(canonicalGpuModel(input)).toBeNull();
  });

  it('does not let a plain model match its Ti', () => {
    expect(matchingModels('3090').map((m) => m.name)).toEqual(['RTX 3090']);
    expect(matchingModels('3090 ti').map((m) => m.name)).toEqual(['RTX 3090 Ti']);
  });

  it('matches both A100 variants for a size-less "a100" and names neither as the one model', () => {
    expect(matchingModels('a100').map((m) => m.name)).toEqual(['A100 40GB', 'A100 80GB']);
    expect(matchingModels('NVIDIA A100').map((m) => m.name)).toEqual(['A100 40GB', 'A100 80GB']);
    expect(canonicalGpuModel('a100')).toBeNull();
  });

  it('has unique names, sane memory, tiers 1..5 and positive reward weights', () => {
    expect(new Set(GPU_CATALOG.map((m) => m.name)).size).toBe(GPU_CATALOG.length);
    for (const model of GPU_CATALOG) {
      expect(model.vramMb).toBeGreaterThanOrEqual(16 * 1024);
      expect(model.tier).toBeGreaterThanOrEqual(1);
      expect(model.tier).toBeLessThanOrEqual(5);
      expect(model.rewardWeight).toBeGreaterThan(0);
      // Every catalogue name matches itself and only itself.
      expect(canonicalGpuModel(model.name)?.name).toBe(model.name);
    }
  });
});
