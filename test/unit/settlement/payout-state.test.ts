import { describe, expect, it } from 'vitest';
import { newPayoutBatch, nextPayoutAction, type PayoutBatchRecord } from '../../../workers/settlement/payout-state.ts';

// The pure decision table: no chain here, every row is one situation the cron can find.

const sent: PayoutBatchRecord = {
  ...newPayoutBatch('b1'),
  state: 'sent',
  attempt: 1,
  signature: 'sig1',
  wireTransaction: 'AQID',
  blockhash: 'bh1',
  lastValidBlockHeight: 1_000,
};

describe('nextPayoutAction', () => {
  it('signs a queued batch and does nothing with a finished one', () => {
    expect(nextPayoutAction(newPayoutBatch('b'), null)).toEqual({ kind: 'sign' });
    expect(nextPayoutAction({ ...sent, state: 'paid' }, null)).toEqual({ kind: 'none' });
    expect(nextPayoutAction({ ...sent, state: 'failed' }, null)).toEqual({ kind: 'none' });
  });

  it('re-broadcasts the same bytes while the blockhash can still land, whether or not it was sent', () => {
    for (const state of ['signed', 'sent'] as const) {
      expect(
        nextPayoutAction({ ...sent, state }, { finalizedBlockHeight: 1_000, finalizedSlot: 1_000, statusContextSlot: 1_000, status: null }),
      ).toEqual({ kind: 'broadcast' });
    }
  });

  it('re-signs only when the finalized height is past lastValidBlockHeight and the signature is unknown', () => {
    expect(nextPayoutAction(sent, { finalizedBlockHeight: 1_001, finalizedSlot: 1_001, statusContextSlot: 1_001, status: null })).toEqual({
      kind: 're_sign',
      reason: 'expired_not_landed',
    });
    // Landed but not final: never re-sign, whatever the height.
    const landed = { slot: 990, err: null, confirmationStatus: 'confirmed' as const };
    expect(nextPayoutAction(sent, { finalizedBlockHeight: 5_000, finalizedSlot: 5_000, statusContextSlot: 5_000, status: landed })).toEqual(
      { kind: 'wait', reason: 'landed_not_finalized' },
    );
  });

  it('marks paid only at finalized, and failed when it finalized with an error', () => {
    expect(
      nextPayoutAction(sent, {
        finalizedBlockHeight: 995,
        finalizedSlot: 995,
        statusContextSlot: 995,
        status: { slot: 990, err: null, confirmationStatus: 'finalized' },
      }),
    ).toEqual({
      kind: 'mark_paid',
      slot: 990,
    });
    const err = { InstructionError: [0, { Custom: 1 }] };
    expect(
      nextPayoutAction(sent, {
        finalizedBlockHeight: 995,
        finalizedSlot: 995,
        statusContextSlot: 995,
        status: { slot: 990, err, confirmationStatus: 'finalized' },
      }),
    ).toEqual({
      kind: 'mark_failed',
      reason: 'failed_on_chain',
      slot: 990,
      err,
    });
    expect(
      nextPayoutAction(sent, {
        finalizedBlockHeight: 995,
        finalizedSlot: 995,
        statusContextSlot: 995,
        status: { slot: 990, err, confirmationStatus: 'confirmed' },
      }),
    ).toMatchObject({ kind: 'wait' });
  });

  it('never re-signs on an "unknown" status from a node behind the finalized block (a lagging backend)', () => {
    const dead = { finalizedBlockHeight: 1_001, finalizedSlot: 1_201 };
    expect(nextPayoutAction(sent, { ...dead, statusContextSlot: 1_200, status: null })).toEqual({ kind: 'wait', reason: 'status_behind' });
    expect(nextPayoutAction(sent, { ...dead, statusContextSlot: null, status: null })).toEqual({ kind: 'wait', reason: 'status_behind' });
    expect(nextPayoutAction(sent, { ...dead, statusContextSlot: 1_201, status: null })).toEqual({
      kind: 're_sign',
      reason: 'expired_not_landed',
    });
    // A status it does know is evidence whatever its slot: landed is landed.
    const landed = { slot: 990, err: null, confirmationStatus: 'finalized' as const };
    expect(nextPayoutAction(sent, { ...dead, statusContextSlot: 995, status: landed })).toEqual({ kind: 'mark_paid', slot: 990 });
  });

  it('fails, rather than re-signs, a dead transaction that the node refused in simulation', () => {
    const refused = { ...sent, failureReason: 'rejected_in_preflight' as const };
    const at = (h: number) => ({ finalizedBlockHeight: h, finalizedSlot: h, statusContextSlot: h, status: null });
    expect(nextPayoutAction(refused, at(1_000))).toEqual({ kind: 'broadcast' }); // still alive: it may land yet
    expect(nextPayoutAction(refused, at(1_001))).toEqual({ kind: 'mark_failed', reason: 'rejected_in_preflight' });
  });

  it('gives up after the last allowed attempt has provably expired', () => {
    const last = { ...sent, attempt: 3 };
    expect(
      nextPayoutAction(
        last,
        { finalizedBlockHeight: 1_001, finalizedSlot: 1_001, statusContextSlot: 1_001, status: null },
        { maxAttempts: 3 },
      ),
    ).toEqual({
      kind: 'mark_failed',
      reason: 'expired_not_landed',
    });
  });

  it('refuses a signed record without its transaction or without an observation', () => {
    expect(() =>
      nextPayoutAction(
        { ...sent, wireTransaction: null },
        { finalizedBlockHeight: 1, finalizedSlot: 1, statusContextSlot: 1, status: null },
      ),
    ).toThrow(/without its transaction/);
    expect(() => nextPayoutAction(sent, null)).toThrow(/observation/);
  });
});
