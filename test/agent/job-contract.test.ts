// A job the API takes is a job the agent runs, and a job the agent would refuse never gets past
// the API: the control plane's job request schema and the agent's offer check share their rules
// (protocol/job-rules.ts). Each case goes through both real schemas.
import { describe, expect, it } from 'vitest';
import { checkJobSpec } from '../../edge-agent/src/jobs/job-spec.ts';
import { jobRequestSchema } from '../../workers/jobs/job-input.schema.ts';
import type { AgentJob } from '../../protocol/job-offer.ts';

const request = (overrides: Record<string, unknown>) => ({
  gpu: { model: 'RTX 4090', count: 1 },
  durationS: 600,
  image: 'python:3.12-slim',
  command: ['python', '-c', 'print(1)'],
  env: { HF_TOKEN: 'hf_x' },
  ...overrides,
});

/** The offer the Worker builds from an accepted request (shard-jobs.ts's AgentJob). */
function offerFrom(parsed: ReturnType<typeof jobRequestSchema.parse>): AgentJob {
  return {
    id: 'job_0123456789abcdef0123456789abcdef',
    image: parsed.image,
    command: parsed.command,
    env: parsed.env,
    gpus: { count: parsed.gpu.count, allocation: [['NVIDIA GeForce RTX 4090', parsed.gpu.count]] },
    durationS: parsed.durationS,
    acceptBy: Date.now() + 30_000,
    assignedAt: Date.now(),
  };
}

const ACCEPTED = [
  request({}),
  request({ image: 'ghcr.io/org/model-server:1.2.3' }),
  request({ image: 'nvidia/cuda:12.4.1-base-ubuntu22.04' }),
  request({ image: `python@sha256:${'a'.repeat(64)}` }),
  request({ command: ['sh', '-c', 'echo $HOME; rm -rf / && `id` | tee >(cat) "$(whoami)"'] }),
  request({ env: { A: '1', _B: 'x=y; $(z)', LONG_NAME_9: 'é ✓ 漢字' } }),
];

const REFUSED: [string, Record<string, unknown>][] = [
  ['an image that is a flag', request({ image: '--privileged' })],
  ['a volume flag as image', request({ image: '-v=/:/host' })],
  ['an image with a space', request({ image: 'ubuntu --privileged' })],
  ['an upper-case image name', request({ image: 'Ubuntu' })],
  ['a registry on localhost', request({ image: 'localhost:5000/x' })],
  ['a registry by address', request({ image: '169.254.169.254/latest' })],
  ['a lower-case env name', request({ env: { path: '/x' } })],
  ['an env name with =', request({ env: { 'A=B': '1' } })],
  ['an env value with a line break', request({ env: { A: 'x\nB=y' } })],
  ['an env value with NUL', request({ env: { A: 'x\0' } })],
  ['a lone surrogate in an env value', request({ env: { A: '\uD800' } })],
  ['NUL in an argument', request({ command: ['a\0b'] })],
  ['too many env variables', request({ env: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, '1'])) })],
];

describe('the API and the agent agree on what a job may carry', () => {
  it.each(ACCEPTED.map((r) => [JSON.stringify(r).slice(0, 80), r]))('accepted by both: %s', (_label, body) => {
    const parsed = jobRequestSchema.safeParse(body);
    expect(parsed.error).toBeUndefined();
    const check = checkJobSpec(offerFrom(parsed.data!));
    expect(check).toMatchObject({ ok: true });
  });

  it.each(REFUSED)('refused by the API, and by the agent if it ever arrived: %s', (_label, body) => {
    expect(jobRequestSchema.safeParse(body).success).toBe(false);
    const offer = {
      ...offerFrom(jobRequestSchema.parse(request({}))),
      ...(({ gpu, durationS, ...rest }) => rest)(body as Record<string, unknown>),
    };
    expect(checkJobSpec(offer)).toMatchObject({ ok: false });
  });
});
