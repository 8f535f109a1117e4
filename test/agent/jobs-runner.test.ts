import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobRunner, type JobEvent, type ReportResult } from '../../edge-agent/src/jobs/job-runner.ts';
import { createProcessRuntime } from '../../edge-agent/src/jobs/process-runtime.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';

// The runner over the real process runtime (real child processes), reporting into an in-memory
// control plane that records events and can refuse or fail them.

const NODE = process.execPath;
const GPU = 'NVIDIA GeForce RTX 4090';

function setup(options: { failFirst?: number; gone?: (e: JobEvent) => boolean; gpus?: number } = {}) {
  const events: { jobId: string; event: JobEvent }[] = [];
  let failures = options.failFirst ?? 0;
  const controller = new AbortController();
  const runner = new JobRunner({
    runtime: createProcessRuntime({ stopGraceMs: 1000 }),
    report: async (jobId, event): Promise<ReportResult> => {
      if (failures > 0) {
        failures--;
        throw new Error('control plane unreachable');
      }
      events.push({ jobId, event });
      return options.gone?.(event) ? 'gone' : 'ok';
    },
    gpus: Array.from({ length: options.gpus ?? 2 }, (_, index) => ({ index, model: GPU })),
    log: createMemoryLogger(),
    signal: controller.signal,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
    logFlushMs: 20,
  });
  return { runner, events, kinds: (id: string) => events.filter((e) => e.jobId === id).map((e) => e.event.kind) };
}

const job = (id: string, command: string[], overrides: Record<string, unknown> = {}) => ({
  id,
  image: 'python:3.12-slim',
  command,
  env: { API_SECRET: 'sk-live-0123456789' },
  gpus: { count: 1, allocation: [[GPU, 1]] },
  durationS: 60,
  acceptBy: Date.now() + 30_000,
  assignedAt: Date.now(),
  ...overrides,
});

const finishedOf = (events: { jobId: string; event: JobEvent }[], id: string) =>
  events.find((e) => e.jobId === id && e.event.kind === 'finished')?.event as Extract<JobEvent, { kind: 'finished' }> | undefined;

describe('job runner', () => {
  it('accepts, starts, streams redacted logs in order and finishes with a receipt', async () => {
    const { runner, events, kinds } = setup();
    runner.offer(
      job('job_ok', [
        NODE,
        '-e',
        'console.log("hello"); console.error("key=" + process.env.API_SECRET); console.log("GPU " + process.env.CUDA_VISIBLE_DEVICES)',
      ]),
    );
    runner.offer(job('job_ok', [NODE, '-e', '0'])); // a duplicate offer (stream and heartbeat both deliver)
    await expect.poll(() => finishedOf(events, 'job_ok'), { timeout: 10_000 }).toBeDefined();
    const k = kinds('job_ok');
    expect(k[0]).toBe('accepted');
    expect(k.at(-1)).toBe('finished');
    expect(k.indexOf('started')).toBeGreaterThan(0);
    const logs = events.filter((e) => e.event.kind === 'log').map((e) => e.event as Extract<JobEvent, { kind: 'log' }>);
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i));
    const text = logs.map((l) => l.data).join('');
    expect(text).toContain('SIMULATED');
    expect(text).toContain('hello');
    expect(text).toContain('key=[redacted]');
    expect(text).toContain('GPU 0');
    expect(JSON.stringify(events)).not.toContain('sk-live-0123456789');
    expect(finishedOf(events, 'job_ok')).toMatchObject({
      exitCode: 0,
      reason: 'exited',
      eventId: 'job_ok:finished',
      receipt: { gpuSeconds: 1 },
    });
    expect(runner.runningJobs()).toEqual([]);
  });

  it('stops a job at its duration and reports it as a timeout', async () => {
    const { runner, events } = setup();
    runner.offer(job('job_long', [NODE, '-e', 'setInterval(() => {}, 1000)'], { durationS: 1 }));
    await expect.poll(() => finishedOf(events, 'job_long'), { timeout: 10_000 }).toBeDefined();
    expect(finishedOf(events, 'job_long')).toMatchObject({ reason: 'timeout', receipt: { gpuSeconds: expect.any(Number) } });
    expect(finishedOf(events, 'job_long')!.receipt.runSeconds).toBeGreaterThanOrEqual(0.9);
  });

  it('stops on the control plane’s word and refuses what its GPUs cannot hold', async () => {
    const { runner, events, kinds } = setup({ gpus: 1 });
    runner.offer(job('job_a', [NODE, '-e', 'setInterval(() => {}, 1000)']));
    runner.offer(job('job_b', [NODE, '-e', '0']));
    await expect.poll(() => kinds('job_b'), { timeout: 5000 }).toEqual(['rejected']);
    await expect.poll(() => kinds('job_a'), { timeout: 5000 }).toContain('started');
    expect(runner.runningJobs()).toEqual(['job_a']);
    runner.stop('job_a', 'cancelled');
    await expect.poll(() => finishedOf(events, 'job_a')?.reason, { timeout: 5000 }).toBe('stopped');
  });

  it('refuses an offer it would not run: the failure event carries the reason, nothing starts, nothing is billed', async () => {
    const { runner, events, kinds } = setup();
    const marker = join(mkdtempSync(join(tmpdir(), 'refused-')), 'ran');
    const hostile = [
      ['job_flag_image', { image: '--privileged' }, 'image: must be a container image reference'],
      ['job_volume_image', { image: '-v=/:/host' }, 'image: must be a container image reference'],
      ['job_env_name', { env: { 'A=B': 'x' } }, 'env.A=B: names are'],
      ['job_env_line', { env: { TOKEN: 'sk-live-0123456789\nLD_PRELOAD=/x.so' } }, 'env.TOKEN: values are one line'],
    ] as const;
    for (const [id, overrides] of hostile)
      runner.offer(job(id, [NODE, '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`], overrides));
    for (const [id, , reason] of hostile) {
      await expect.poll(() => finishedOf(events, id), { timeout: 5000 }).toBeDefined();
      expect(kinds(id)).toEqual(['accepted', 'finished']);
      const finished = finishedOf(events, id)!;
      expect(finished).toMatchObject({
        eventId: `${id}:finished`,
        exitCode: null,
        reason: 'error',
        receipt: { gpuSeconds: 0, runSeconds: 0 },
      });
      expect(finished.message).toMatch(new RegExp(`^refused by the agent: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    expect(existsSync(marker)).toBe(false);
    expect(JSON.stringify(events)).not.toContain('sk-live-0123456789');
    expect(runner.runningJobs()).toEqual([]);
    // The GPUs stayed free: a good job runs at once on both.
    runner.offer(job('job_fine', [NODE, '-e', '0'], { gpus: { count: 2, allocation: [[GPU, 2]] } }));
    await expect.poll(() => finishedOf(events, 'job_fine')?.reason, { timeout: 10_000 }).toBe('exited');
  });

  it('retries events until the control plane has them, and stops a job the control plane disowns', async () => {
    const retried = setup({ failFirst: 3 });
    retried.runner.offer(job('job_retry', [NODE, '-e', 'console.log(1)']));
    await expect.poll(() => finishedOf(retried.events, 'job_retry'), { timeout: 10_000 }).toBeDefined();
    expect(retried.kinds('job_retry')[0]).toBe('accepted');

    const disowned = setup({ gone: (e) => e.kind === 'started' });
    disowned.runner.offer(job('job_gone', [NODE, '-e', 'setInterval(() => {}, 1000)']));
    await expect.poll(() => disowned.runner.runningJobs(), { timeout: 10_000 }).toEqual([]);
    expect(disowned.kinds('job_gone')).toEqual(['accepted', 'log', 'started']);
  });
});
