import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../edge-agent/src/errors.ts';
import {
  NVIDIA_SMI_ARGS,
  createNvidiaSmiSource,
  groupGpus,
  parseNvidiaSmiCsv,
  runNvidiaSmi,
  toMetrics,
} from '../../edge-agent/src/gpu-detect.ts';
import { EXPECTED_ARGS, fakeNvidiaSmi, fixturePath, tempDir } from './helpers/index.ts';

const fixture = (name: string) => readFileSync(fixturePath(name), 'utf8');

describe('parseNvidiaSmiCsv on recorded outputs', () => {
  it('reads one RTX 4090', () => {
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-rtx4090.csv'))).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 4090', memTotalMb: 24564, memUsedMb: 412, utilPct: 3, tempC: 38, powerW: 24.71 },
    ]);
  });

  it('reads one RTX 3090 under load', () => {
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-rtx3090.csv'))).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 3090', memTotalMb: 24576, memUsedMb: 18230, utilPct: 97, tempC: 71, powerW: 344.17 },
    ]);
  });

  it('reads one A100 80GB PCIe', () => {
    const [gpu] = parseNvidiaSmiCsv(fixture('nvidia-smi-a100-80gb-pcie.csv'));
    expect(gpu).toEqual({ index: 0, name: 'NVIDIA A100 80GB PCIe', memTotalMb: 81920, memUsedMb: 4, utilPct: 0, tempC: 36, powerW: 44.12 });
  });

  it('reads one H100 80GB HBM3', () => {
    const [gpu] = parseNvidiaSmiCsv(fixture('nvidia-smi-h100-80gb-hbm3.csv'));
    expect(gpu).toEqual({ index: 0, name: 'NVIDIA H100 80GB HBM3', memTotalMb: 81559, memUsedMb: 0, utilPct: 0, tempC: 31, powerW: 71.53 });
  });

  it('reads an 8x H100 host, one reading per index', () => {
    const gpus = parseNvidiaSmiCsv(fixture('nvidia-smi-h100-80gb-hbm3-x8.csv'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((g) => g.name))).toEqual(new Set(['NVIDIA H100 80GB HBM3']));
    expect(gpus[3]).toMatchObject({ utilPct: 100, memUsedMb: 74211, tempC: 67, powerW: 695.37 });
    expect(gpus[7]).toMatchObject({ utilPct: 0, memUsedMb: 3, tempC: 31, powerW: 69.47 });
  });

  it('turns a power draw of [N/A] into null, keeping the rest', () => {
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-vgpu-power-na.csv'))).toEqual([
      { index: 0, name: 'GRID A100D-40C', memTotalMb: 40960, memUsedMb: 2048, utilPct: 0, tempC: 35, powerW: null },
    ]);
    expect(parseNvidiaSmiCsv('0, Tesla K80, 11441, 0, 0, 30, [Not Supported]\n')[0]!.powerW).toBeNull();
  });

  it('accepts CRLF line endings', () => {
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi-mixed-rtx4090-rtx3090.csv').replace(/\n/g, '\r\n'))).toHaveLength(3);
  });
});

describe('parseNvidiaSmiCsv rejects malformed output', () => {
  const good = '0, NVIDIA GeForce RTX 4090, 24564, 412, 3, 38, 24.71';
  const cases: [string, string, RegExp][] = [
    ['empty output', '', /printed no GPUs/],
    ['only blank lines', '\n\n', /printed no GPUs/],
    ['too few fields', '0, NVIDIA GeForce RTX 4090, 24564, 412, 3, 38', /line 1 .*expected 7 fields.*got 6/],
    ['too many fields', `${good}, 1`, /expected 7 fields.*got 8/],
    [
      'the header line (csv without noheader)',
      'index, name, memory.total [MiB], memory.used [MiB], utilization.gpu [%], temperature.gpu, power.draw [W]',
      /index "index" is not a whole number/,
    ],
    ['units left in (without nounits)', '0, NVIDIA GeForce RTX 4090, 24564 MiB, 412 MiB, 3 %, 38, 24.71 W', /memory.total "24564 MiB"/],
    ['a fractional memory size', '0, NVIDIA GeForce RTX 4090, 24564.5, 412, 3, 38, 24.71', /memory.total "24564.5"/],
    ['utilisation over 100', '0, NVIDIA GeForce RTX 4090, 24564, 412, 130, 38, 24.71', /utilization.gpu 130 is outside 0..100/],
    ['[N/A] where a number is required', '0, NVIDIA GeForce RTX 4090, 24564, [N/A], 3, 38, 24.71', /memory.used "\[N\/A\]"/],
    [
      'a power value that is not a number',
      '0, NVIDIA GeForce RTX 4090, 24564, 412, 3, 38, [Unknown Error]',
      /power.draw "\[Unknown Error\]"/,
    ],
    ['memory used above total', '0, NVIDIA GeForce RTX 4090, 24564, 30000, 3, 38, 24.71', /memory.used 30000 exceeds memory.total 24564/],
    ['an empty name', '0, , 24564, 412, 3, 38, 24.71', /name "" is not a GPU model/],
    ['a duplicated index', `${good}\n${good}`, /line 2 .*index 0 appears twice/],
    ['a bad second line', `${good}\ngarbage`, /line 2 is malformed/],
  ];
  it.each(cases)('%s', (_what, input, message) => {
    let caught: unknown;
    try {
      parseNvidiaSmiCsv(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AgentError);
    expect((caught as AgentError).code).toBe('nvidia_smi_malformed');
    expect((caught as AgentError).message).toMatch(message);
  });
});

describe('grouping and metrics', () => {
  it('groups identical GPUs into registration entries, in index order', () => {
    expect(groupGpus(parseNvidiaSmiCsv(fixture('nvidia-smi-h100-80gb-hbm3-x8.csv')))).toEqual([
      { model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 8 },
    ]);
    expect(groupGpus(parseNvidiaSmiCsv(fixture('nvidia-smi-mixed-rtx4090-rtx3090.csv')))).toEqual([
      { model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 },
      { model: 'NVIDIA GeForce RTX 3090', vramMb: 24576, count: 1 },
    ]);
  });

  it('lists a model once, with the smallest memory its boards report (ECC on one, off on another)', () => {
    const readings = parseNvidiaSmiCsv('0, NVIDIA A100-SXM4-80GB, 81920, 0, 0, 30, 50\n1, NVIDIA A100-SXM4-80GB, 81251, 0, 0, 30, 50\n');
    expect(groupGpus(readings)).toEqual([{ model: 'NVIDIA A100-SXM4-80GB', vramMb: 81251, count: 2 }]);
  });

  it('gives one heartbeat metric per index', () => {
    expect(toMetrics(parseNvidiaSmiCsv(fixture('nvidia-smi-mixed-rtx4090-rtx3090.csv')))).toEqual([
      { index: 0, utilPct: 12, memUsedMb: 1021, tempC: 44, powerW: 61.3 },
      { index: 1, utilPct: 0, memUsedMb: 8, tempC: 35, powerW: 29.84 },
      { index: 2, utilPct: 0, memUsedMb: 8, tempC: 40, powerW: 18.02 },
    ]);
  });
});

describe('running nvidia-smi', () => {
  it('asks for exactly the fields the parser reads', () => {
    expect(NVIDIA_SMI_ARGS.join(' ')).toBe(EXPECTED_ARGS);
  });

  it('runs the executable it is given and parses what it prints', async () => {
    const source = createNvidiaSmiSource(await fakeNvidiaSmi('nvidia-smi-h100-80gb-hbm3-x8.csv'));
    const snapshot = await source.read();
    expect(source.simulated).toBe(false);
    expect(snapshot.inventory).toEqual([{ model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 8 }]);
    expect(snapshot.metrics).toHaveLength(8);
    expect(snapshot.inventory[0]).not.toHaveProperty('simulated');
  });

  it('reports a driver that is not loaded (exit 9) with what nvidia-smi said', async () => {
    const path = await fakeNvidiaSmi('nvidia-smi-driver-failure.txt', 9);
    await expect(runNvidiaSmi({ path })).rejects.toMatchObject({
      code: 'nvidia_smi_failed',
      message: expect.stringMatching(/exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/),
    });
  });

  it('reports a missing nvidia-smi (ENOENT) and points at --simulate-gpus', async () => {
    const path = join(await tempDir(), 'no-such-nvidia-smi');
    await expect(runNvidiaSmi({ path })).rejects.toMatchObject({
      code: 'nvidia_smi_not_found',
      message: expect.stringMatching(/not found.*--simulate-gpus/),
    });
  });

  it('rejects malformed output from the executable', async () => {
    const path = await fakeNvidiaSmi('README.md');
    await expect(runNvidiaSmi({ path })).rejects.toMatchObject({ code: 'nvidia_smi_malformed' });
  });
});
