import { describe, expect, it } from 'vitest';
import { billableGpuSeconds, escrowFor, settle } from '../../../workers/jobs/billing.ts';

describe('billing', () => {
  it('holds price × GPUs × duration, rounded up to the base unit', () => {
    expect(escrowFor(1_250_000n, 1, 600)).toBe(208_334n); // 208 333.33…
    expect(escrowFor(1_800_000n, 2, 3600)).toBe(3_600_000n);
    expect(escrowFor(1n, 1, 1)).toBe(1n);
  });

  it('captures per second rounded down, never above the escrow; fee and operator sum to the capture exactly', () => {
    const s = settle(208_334n, 1_250_000n, 1, 1000);
    expect(s).toEqual({ escrow: 208_334n, captured: 347n, fee: 34n, operator: 313n, refund: 207_987n });
    const capped = settle(100n, 1_250_000n, 10_000, 1000);
    expect(capped.captured).toBe(100n);
    expect(capped.refund).toBe(0n);
    for (let seconds = 0; seconds < 2000; seconds += 37) {
      for (const bps of [0, 1, 999, 1000, 3333, 10_000]) {
        const r = settle(escrowFor(777_777n, 3, 600), 777_777n, seconds, bps);
        expect(r.fee + r.operator).toBe(r.captured);
        expect(r.captured + r.refund).toBe(r.escrow);
        expect(r.captured <= r.escrow && r.fee >= 0n && r.operator >= 0n && r.refund >= 0n).toBe(true);
      }
    }
  });

  it('bills the least of the receipt, what the server saw, and what was bought', () => {
    const base = { gpuCount: 2, durationS: 60, startedAtMs: 1_000, graceS: 2 };
    expect(billableGpuSeconds({ ...base, receiptGpuSeconds: 20, endedAtMs: 11_000 })).toBe(20);
    expect(billableGpuSeconds({ ...base, receiptGpuSeconds: 500, endedAtMs: 11_000 })).toBe(24); // 2 × (10 + 2)
    expect(billableGpuSeconds({ ...base, receiptGpuSeconds: 500, endedAtMs: 1_000_000 })).toBe(120);
    expect(billableGpuSeconds({ ...base, endedAtMs: 5_500, graceS: 0 })).toBe(10); // no receipt: 2 × ceil(4.5)
    expect(billableGpuSeconds({ ...base, startedAtMs: null, receiptGpuSeconds: 50, endedAtMs: 9_000 })).toBe(0);
  });

  it('refuses impossible inputs', () => {
    expect(() => settle(-1n, 1n, 1, 1000)).toThrow(RangeError);
    expect(() => settle(1n, 1n, 1, 10_001)).toThrow(RangeError);
  });
});
