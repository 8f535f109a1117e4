import { describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '../../../db/schema/jobs.ts';
import { allocate } from '../../../workers/jobs/allocation.ts';
import { decideFault, reputationAfter } from '../../../workers/jobs/fault-policy.ts';
import { checkTransition, isTerminal, JOB_EDGES, statusAfterAgentEvent } from '../../../workers/jobs/job-state.ts';

describe('job state machine', () => {
  it('never leaves a terminal state and only goes back to queued before anything ran', () => {
    for (const from of JOB_STATUSES.filter(isTerminal)) {
      for (const to of JOB_STATUSES) expect(checkTransition(from, to, 'system')).toEqual({ ok: false, reason: 'terminal' });
    }
    expect(
      JOB_EDGES.filter((e) => e.to === 'queued')
        .map((e) => e.from)
        .sort(),
    ).toEqual(['assigned', 'starting']);
  });

  it('lets each actor take only its own edges', () => {
    expect(checkTransition('queued', 'assigned', 'system')).toEqual({ ok: true });
    expect(checkTransition('queued', 'assigned', 'agent')).toEqual({ ok: false, reason: 'not_allowed_for_actor' });
    expect(checkTransition('running', 'succeeded', 'renter')).toEqual({ ok: false, reason: 'not_allowed_for_actor' });
    expect(checkTransition('running', 'cancelled', 'renter')).toEqual({ ok: true });
    expect(checkTransition('queued', 'running', 'agent')).toEqual({ ok: false, reason: 'no_such_edge' });
  });

  it('maps agent events onto edges and ignores the ones the job moved past', () => {
    expect(statusAfterAgentEvent('assigned', { kind: 'accepted' })).toBe('starting');
    expect(statusAfterAgentEvent('starting', { kind: 'accepted' })).toBeNull();
    expect(statusAfterAgentEvent('starting', { kind: 'started' })).toBe('running');
    expect(statusAfterAgentEvent('running', { kind: 'finished', exitCode: 0, reason: 'exited' })).toBe('succeeded');
    expect(statusAfterAgentEvent('running', { kind: 'finished', exitCode: 1, reason: 'exited' })).toBe('failed');
    expect(statusAfterAgentEvent('running', { kind: 'finished', exitCode: 137, reason: 'timeout' })).toBe('expired');
    expect(statusAfterAgentEvent('starting', { kind: 'finished', exitCode: null as unknown as number, reason: 'error' })).toBe('failed');
    expect(statusAfterAgentEvent('cancelled', { kind: 'finished', exitCode: 0, reason: 'exited' })).toBeNull();
    for (const event of [{ kind: 'accepted' }, { kind: 'started' }, { kind: 'finished', exitCode: 0, reason: 'exited' }] as const) {
      for (const from of JOB_STATUSES) {
        const to = statusAfterAgentEvent(from, event);
        if (to !== null) expect(checkTransition(from, to, 'agent')).toEqual({ ok: true });
      }
    }
  });
});

describe('fault policy', () => {
  it('requeues before anything ran, fails a running job, gives up after the last attempt', () => {
    expect(decideFault('assigned', 'accept_timeout', 1, 3)).toMatchObject({ action: 'requeue' });
    expect(decideFault('starting', 'node_offline', 1, 3)).toMatchObject({ action: 'requeue' });
    expect(decideFault('running', 'node_offline', 1, 3)).toMatchObject({ action: 'fail' });
    expect(decideFault('assigned', 'accept_timeout', 3, 3)).toMatchObject({ action: 'expire' });
    expect(decideFault('running', 'overdue', 1, 3)).toMatchObject({ action: 'expire' });
    expect(decideFault('running', 'accept_timeout', 1, 3)).toEqual({ action: 'none' });
    // An admin's suspension: not yet running → another node; running → failed (refunded by the caller).
    expect(decideFault('assigned', 'node_suspended', 1, 3)).toMatchObject({ action: 'requeue' });
    expect(decideFault('starting', 'node_suspended', 3, 3)).toMatchObject({ action: 'expire' });
    expect(decideFault('running', 'node_suspended', 1, 3)).toEqual({ action: 'fail', reason: 'the node was suspended while the job ran' });
    expect(decideFault('succeeded', 'node_suspended', 1, 3)).toEqual({ action: 'none' });
  });

  it('moves reputation within 0..1: success creeps up, silence costs more than a refusal', () => {
    expect(reputationAfter(0.5, 'succeeded')).toBeCloseTo(0.525);
    expect(reputationAfter(1, 'succeeded')).toBe(1);
    expect(reputationAfter(1, 'rejected')).toBeGreaterThan(reputationAfter(1, 'accept_timeout'));
    expect(reputationAfter(1, 'node_offline')).toBeCloseTo(0.8);
    expect(reputationAfter(0.7, 'node_suspended')).toBeCloseTo(0.7);
    expect(reputationAfter(Number.NaN, 'node_offline')).toBe(0);
  });
});

describe('GPU allocation', () => {
  const g = (model: string, vramMb: number, count: number, committed = 0) => ({ model, canonical: model, vramMb, count, committed });
  it('takes free GPUs from the smallest fitting groups first', () => {
    expect(allocate([g('A100 80GB', 81920, 2), g('A100 40GB', 40960, 2, 1)], 2, 0)).toEqual([
      ['A100 40GB', 1],
      ['A100 80GB', 1],
    ]);
    expect(allocate([g('A100 80GB', 81920, 2), g('A100 40GB', 40960, 2)], 2, 50_000)).toEqual([['A100 80GB', 2]]);
    expect(allocate([g('RTX 4090', 24564, 2, 2)], 1, 0)).toBeNull();
  });
});
