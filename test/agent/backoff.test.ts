import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs } from '../../edge-agent/src/backoff.ts';

const policy = { baseMs: 30_000, capMs: 300_000 };

describe('exponential backoff with full jitter', () => {
  it('doubles the ceiling each attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => backoffCeilingMs(a, policy))).toEqual([
      30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('draws the delay uniformly below the ceiling', () => {
    const schedule = (random: () => number) => [0, 1, 2, 3, 4].map((a) => backoffDelayMs(a, policy, random));
    expect(schedule(() => 0.5)).toEqual([15_000, 30_000, 60_000, 120_000, 150_000]);
    expect(schedule(() => 0)).toEqual([0, 0, 0, 0, 0]);
    expect(schedule(() => 0.999999)).toEqual([29_999, 59_999, 119_999, 239_999, 299_999]);
  });

  it('follows the random source draw by draw', () => {
    const draws = [0.1, 0.9, 0.25, 0.75];
    let i = 0;
    const random = () => draws[i++]!;
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, { baseMs: 1000, capMs: 5000 }, random))).toEqual([100, 1800, 1000, 3750]);
  });
});
