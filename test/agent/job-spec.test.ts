import { describe, expect, it } from 'vitest';
import { checkJobSpec, isImageReference } from '../../edge-agent/src/jobs/job-spec.ts';

// The agent's own check of a job offer: what it runs on the operator's host must pass it, however
// the offer got here (a control-plane bug, a compromised control plane, a future field).

const GPU = 'NVIDIA GeForce RTX 4090';

const offer = (overrides: Record<string, unknown> = {}) => ({
  id: 'job_abc123',
  image: 'ghcr.io/acme/train:1.2',
  command: ['python', 'train.py', '--epochs', '3'],
  env: { HF_TOKEN: 'hf_topsecret_value', _UNDERSCORE_1: 'x' },
  gpus: { count: 2, allocation: [[GPU, 2]] },
  durationS: 600,
  acceptBy: 1_700_000_030_000,
  assignedAt: 1_700_000_000_000,
  ...overrides,
});

/** The refusal's reason, or "ok" for an accepted offer. */
const verdict = (raw: unknown) => {
  const checked = checkJobSpec(raw);
  return checked.ok ? 'ok' : checked.reason;
};

describe('job spec check', () => {
  it('accepts an ordinary offer and gives back exactly its fields', () => {
    const checked = checkJobSpec(offer({ unknownFutureField: true }));
    expect(checked).toEqual({ ok: true, spec: offer() });
  });

  it('accepts image references in the grammar docker uses', () => {
    for (const image of [
      'ubuntu',
      'python:3.12-slim',
      'library/ubuntu:22.04',
      'ghcr.io/acme/train:1.2',
      'registry.example.com:443/team/model_v2:latest',
      'registry.example.com:443/a/b/c__d--e.f:TAG_1.0-rc',
      '2130706433/not-a-registry',
      `nvcr.io/nvidia/pytorch@sha256:${'ab'.repeat(32)}`,
      `python:3.12@sha256:${'0f'.repeat(32)}`,
    ]) {
      expect(isImageReference(image), image).toBe(true);
    }
  });

  it('refuses registries on this host or at an address: the docker daemon pulls from the host’s own network', () => {
    for (const image of [
      'localhost:5000/x',
      'localhost/x',
      'registry.localhost/x',
      '127.0.0.1:5000/x',
      '127.1/x',
      '2130706433:80/x',
      '0x7f000001:80/x',
      '10.0.0.5:5000/team/x:1',
      '169.254.169.254/latest/meta-data',
      '[::1]:5000/x',
      '[fd00:ec2::254]/x',
    ]) {
      expect(verdict(offer({ image })), image).toBe(
        'image: the registry must be a DNS name (not localhost or an IP address): docker pulls it from the host’s own network',
      );
    }
  });

  it('refuses images that docker would read as flags or that are not references', () => {
    for (const image of [
      '--privileged',
      '-v=/:/host',
      '-v',
      '--network=host',
      ' ubuntu',
      'ubuntu ',
      'ubuntu\n',
      'ubuntu;rm -rf /',
      'ubuntu --privileged',
      '$(id)',
      '`id`',
      'Ubuntu',
      'ubuntu:',
      'ubuntu:-x',
      'ubuntu@sha256:abc',
      'a//b',
      '/ubuntu',
      'ubuntu/',
      '..',
      'a'.repeat(256),
      '',
    ]) {
      expect(isImageReference(image), JSON.stringify(image)).toBe(false);
      expect(verdict(offer({ image })), JSON.stringify(image)).toMatch(/^image: must be a container image reference/);
    }
  });

  it('refuses env names outside [A-Z_][A-Z0-9_]*, and values that cannot pass as one line', () => {
    expect(verdict(offer({ env: { 'A=B': 'x' } }))).toMatch(/^env\.A=B: names are/);
    expect(verdict(offer({ env: { lower: 'x' } }))).toMatch(/^env\.lower: names are/);
    expect(verdict(offer({ env: { '1ABC': 'x' } }))).toMatch(/^env\.1ABC: names are/);
    expect(verdict(offer({ env: { '': 'x' } }))).toMatch(/^env\.: names are/);
    expect(verdict(offer({ env: { 'A B': 'x' } }))).toMatch(/^env\.A B: names are/);
    expect(verdict(offer({ env: { ['A'.repeat(129)]: 'x' } }))).toMatch(/names are/);
    expect(verdict(offer({ env: { ['A'.repeat(128)]: 'x' } }))).toBe('ok');
    expect(verdict(offer({ env: { TOKEN: 'a\nLD_PRELOAD=/evil.so' } }))).toBe(
      'env.TOKEN: values are one line without NUL (no \\n, \\r or \\0)',
    );
    expect(verdict(offer({ env: { TOKEN: 'a\rb' } }))).toMatch(/^env\.TOKEN: values are one line/);
    expect(verdict(offer({ env: { TOKEN: 'a\0b' } }))).toMatch(/^env\.TOKEN: values are one line/);
    expect(verdict(offer({ env: { TOKEN: 'lone \ud800 surrogate' } }))).toMatch(/^env\.TOKEN: values are one line/);
    expect(verdict(offer({ env: { TOKEN: 'x'.repeat(4097) } }))).toMatch(/^env\.TOKEN: /);
    expect(verdict(offer({ env: { TOKEN: ' spaces and = signs and "quotes" stay ' } }))).toBe('ok');
    const vars = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, 'x']));
    expect(verdict(offer({ env: vars(65) }))).toBe('env: at most 64 variables');
    expect(verdict(offer({ env: vars(64) }))).toBe('ok');
  });

  it('never puts an env value into the reason', () => {
    const reason = verdict(offer({ env: { TOKEN: 'sk-live-secret\nX=1' } }));
    expect(reason).not.toBe('ok');
    expect(reason).not.toContain('sk-live-secret');
  });

  it('refuses commands, GPU allocations and durations outside the bounds', () => {
    expect(verdict(offer({ command: Array.from({ length: 65 }, () => 'x') }))).toMatch(/^command: /);
    expect(verdict(offer({ command: ['x'.repeat(4097)] }))).toMatch(/^command\.0: /);
    expect(verdict(offer({ command: ['echo', 'a\0b'] }))).toBe('command.1: arguments cannot hold NUL');
    expect(verdict(offer({ command: 'echo hi' }))).toMatch(/^command: /);
    expect(verdict(offer({ gpus: { count: 2, allocation: [[GPU, 1]] } }))).toBe('gpus: the allocation adds up to 1 GPU, not 2');
    expect(verdict(offer({ gpus: { count: 0, allocation: [] } }))).toMatch(/^gpus\.count: /);
    expect(verdict(offer({ gpus: { count: 65, allocation: [[GPU, 65]] } }))).toMatch(/^gpus\.count: /);
    expect(verdict(offer({ durationS: 0 }))).toMatch(/^durationS: /);
    expect(verdict(offer({ durationS: 30 * 24 * 3600 + 1 }))).toMatch(/^durationS: /);
    expect(verdict(offer({ durationS: 1.5 }))).toMatch(/^durationS: /);
  });

  it('names the job when it can, so the refusal reaches the control plane; otherwise none', () => {
    expect(checkJobSpec(offer({ image: '--privileged' }))).toMatchObject({ ok: false, jobId: 'job_abc123' });
    expect(checkJobSpec(offer({ id: '../../etc' }))).toMatchObject({ ok: false, jobId: null });
    expect(checkJobSpec('not an object')).toMatchObject({ ok: false, jobId: null });
    expect(checkJobSpec(null)).toMatchObject({ ok: false, jobId: null });
  });

  it('keeps a long reason short enough for the failure event', () => {
    const reason = verdict(offer({ env: { ['a'.repeat(4000)]: 'x' } }));
    expect(reason.length).toBeLessThanOrEqual(300);
    expect(reason.startsWith('env.aaaa')).toBe(true);
  });
});
