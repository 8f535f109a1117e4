import type { Commitment } from './rpc-schemas.ts';

// The payout batch state machine, as pure functions. The invariant it keeps: at any moment a
// batch has at most ONE transaction that could still land, so its payouts can be paid at most once.
//
//   queued ──sign──▶ signed ──broadcast──▶ sent ──(finalized, ok)──▶ paid
//                      ▲  │                  │
//                      │  └─── (landed, finalized with an error) ──▶ failed
//                      └── re_sign ◀── expired_not_landed ◀┘
//
// - `signed`: signature, wire bytes, blockhash and lastValidBlockHeight are stored BEFORE the
//   first broadcast, so a crash or a timeout after sending still leaves us knowing the signature.
// - Re-broadcasting the stored bytes is always safe: same bytes, same signature, and the runtime
//   refuses a signature it has already processed.
// - A new transaction (new blockhash, new signature) is made only when the old one provably can
//   never land: the FINALIZED block height is past its lastValidBlockHeight, and AFTER reading that
//   height, getSignatureStatuses (with history search) does not know the signature — answered by a
//   node that has reached the slot of that finalized block. Behind a load balancer the two reads
//   can hit different backends; a status from one still behind the block that holds the
//   transaction says "unknown" about a transaction that has landed. Re-signing on that would pay
//   twice, so a status from behind (or refused with -32016) is no evidence: wait.
// - A transaction the node's simulation refused with an instruction error (a recipient account
//   that refuses the transfer, say) is not re-signed once dead: the same transfers would fail the
//   same way. The batch fails, and settlement splits it to find the payout at fault.
// - `paid` only at `finalized`. A failed transaction moves no tokens, so a `failed` batch's
//   payouts may go back to the queue (in a new batch).

export type PayoutBatchState = 'queued' | 'signed' | 'sent' | 'paid' | 'failed';

/** One row per batch; the ledger stores it (see README.md, "Storage"). */
export interface PayoutBatchRecord {
  id: string;
  state: PayoutBatchState;
  /** How many transactions have been signed for this batch; the compare-and-swap version. */
  attempt: number;
  signature: string | null;
  wireTransaction: string | null;
  blockhash: string | null;
  lastValidBlockHeight: number | null;
  /** Slot of the finalized transaction, once paid (or failed on chain). */
  landedSlot: number | null;
  failureReason: PayoutFailure | null;
  /** The address lookup table the current transaction (v0) uses; null for legacy. */
  lookupTable: string | null;
}

/**
 * `rejected_in_preflight` is also kept on a `signed`/`sent` record: the current transaction was
 * refused by the node's simulation with an instruction error (not proof it cannot land: it may
 * still, if the state changes; it only decides what happens once it is provably dead).
 */
export type PayoutFailure = 'failed_on_chain' | 'expired_not_landed' | 'rejected_in_preflight';

export interface ChainObservation {
  /** Block height of the finalized bank (getEpochInfo), read BEFORE the status. */
  finalizedBlockHeight: number;
  /** Slot of that same bank. */
  finalizedSlot: number;
  /** Context slot of the node that answered the status; null when it refused for being behind (-32016). */
  statusContextSlot: number | null;
  /** getSignatureStatuses (searchTransactionHistory) for the record's signature. */
  status: { slot: number; err: unknown; confirmationStatus?: Commitment | null | undefined } | null;
}

export type PayoutAction =
  | { kind: 'sign' } // first transaction: fresh blockhash, store as `signed`, then broadcast
  | { kind: 'broadcast' } // send the stored bytes (again); the blockhash is still valid
  | { kind: 'wait'; reason: 'landed_not_finalized' | 'status_behind' | 'lookup_table_not_ready' }
  | { kind: 're_sign'; reason: 'expired_not_landed' } // the old transaction is dead: sign a new one
  | { kind: 'mark_paid'; slot: number }
  | { kind: 'mark_failed'; reason: PayoutFailure; slot?: number; err?: unknown }
  | { kind: 'none' }; // terminal

export interface PayoutPolicy {
  /** Transactions signed for one batch before giving up (every earlier one provably dead). */
  maxAttempts: number;
}

export const DEFAULT_PAYOUT_POLICY: PayoutPolicy = { maxAttempts: 8 };

export function newPayoutBatch(id: string): PayoutBatchRecord {
  return {
    id,
    state: 'queued',
    attempt: 0,
    signature: null,
    wireTransaction: null,
    blockhash: null,
    lastValidBlockHeight: null,
    landedSlot: null,
    failureReason: null,
    lookupTable: null,
  };
}

/** What to do next with a batch, given what the chain shows for its current signature. */
export function nextPayoutAction(
  record: PayoutBatchRecord,
  observation: ChainObservation | null,
  policy: PayoutPolicy = DEFAULT_PAYOUT_POLICY,
): PayoutAction {
  switch (record.state) {
    case 'paid':
    case 'failed':
      return { kind: 'none' };
    case 'queued':
      return { kind: 'sign' };
    case 'signed':
    case 'sent': {
      if (record.signature === null || record.wireTransaction === null || record.lastValidBlockHeight === null) {
        throw new Error(`payout batch ${record.id} is ${record.state} without its transaction`);
      }
      if (!observation) throw new Error(`payout batch ${record.id}: a ${record.state} batch needs a chain observation`);
      const { status } = observation;
      if (status) {
        // On chain in some block: never sign anything else for this batch again.
        if (status.confirmationStatus !== 'finalized') return { kind: 'wait', reason: 'landed_not_finalized' };
        if (status.err === null || status.err === undefined) return { kind: 'mark_paid', slot: status.slot };
        return { kind: 'mark_failed', reason: 'failed_on_chain', slot: status.slot, err: status.err };
      }
      if (observation.finalizedBlockHeight <= record.lastValidBlockHeight) return { kind: 'broadcast' };
      // "Unknown" from a node that has not reached the finalized block is no proof of anything.
      if (observation.statusContextSlot === null || observation.statusContextSlot < observation.finalizedSlot) {
        return { kind: 'wait', reason: 'status_behind' };
      }
      // Provably dead: it is in no block up to a finalized height at which it can no longer be included.
      if (record.failureReason === 'rejected_in_preflight') return { kind: 'mark_failed', reason: 'rejected_in_preflight' };
      if (record.attempt >= policy.maxAttempts) return { kind: 'mark_failed', reason: 'expired_not_landed' };
      return { kind: 're_sign', reason: 'expired_not_landed' };
    }
  }
}
