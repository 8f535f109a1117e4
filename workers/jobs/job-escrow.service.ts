import type { Db } from '../app-env.ts';
import { escrowAccount, SYSTEM_ACCOUNTS } from '../ledger/ledger-accounts.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';
import type { BatchStatement } from '../ledger/d1-batch.ts';
import type { Allocation } from './allocation.ts';
import type { Settlement } from './billing.ts';
import {
  changeStatements,
  commitStatements,
  failureOf,
  insertJobStatement,
  releaseStatement,
  type ChangeResult,
  type JobRow,
  type NewJob,
  type StatusChange,
} from './jobs.repo.ts';

// A job's money: the escrow hold that creates and places it, and the settlement that closes it.
// Each is one ledger transaction with the job's statements (jobs.repo.ts) in the same D1 batch.

export interface HoldInput {
  job: NewJob & { id: string; accountId: string; escrowAmount: number };
  /** The status change that places it (queued → assigned), version 0 → 1. */
  place: StatusChange;
  nodeId: string;
  allocation: Allocation;
}

/**
 * Creates a job, holds its escrow and places it, in one batch: the escrow hold's ledger
 * transaction, the job row (queued), the CAS to assigned and the GPU commitments. A node that
 * filled up meanwhile aborts it all (`capacity`), and the caller tries the next candidate.
 */
export async function createPlacedJob(db: Db, input: HoldInput, nowMs: number): Promise<ChangeResult> {
  const { job } = input;
  try {
    await postTransaction(
      db,
      {
        kind: 'escrow_hold',
        idempotencyKey: `job:${job.id}:hold`,
        entries: [
          { account: job.accountId, amount: -job.escrowAmount },
          { account: escrowAccount(job.id), amount: job.escrowAmount },
        ],
        ref: `job:${job.id}`,
      },
      {
        now: nowMs,
        with: () => [
          insertJobStatement(db, job),
          ...changeStatements(db, input.place, nowMs),
          ...commitStatements(db, job.id, input.nodeId, input.allocation),
        ],
      },
    );
    return { ok: true };
  } catch (error) {
    const failure = failureOf(error);
    if (failure === null) throw error;
    return { ok: false, failure };
  }
}

export interface SettleInput {
  change: StatusChange;
  job: JobRow;
  settlement: Settlement;
  /** The operator's ledger account; required when anything is captured. */
  operatorAccount: string | null;
  billedGpuSeconds: number;
  also?: BatchStatement[];
}

/** `{"NAME":"value",…}` → `{"NAME":"",…}`. */
export function withoutValues(envJson: string): string {
  return JSON.stringify(Object.fromEntries(Object.keys(JSON.parse(envJson) as Record<string, string>).map((name) => [name, ''])));
}

/**
 * Closes a job: its terminal status, the release of its GPUs and the settlement of its escrow
 * (capture to the operator and fees, refund of the rest to the renter) in one batch. The ledger
 * key `job:<id>:settle` makes settling twice impossible: a second settle aborts on it, and the
 * job change in its batch goes with it.
 */
export async function settleJob(db: Db, input: SettleInput, nowMs: number): Promise<ChangeResult> {
  const { job, settlement: s } = input;
  const entries = [
    { account: escrowAccount(job.id), amount: -s.escrow },
    { account: input.operatorAccount ?? '', amount: s.operator },
    { account: SYSTEM_ACCOUNTS.fees, amount: s.fee },
    { account: job.accountId, amount: s.refund },
  ].filter((e) => e.amount !== 0n);
  const patch: Partial<NewJob> = {
    ...input.change.patch,
    billedGpuSeconds: input.billedGpuSeconds,
    captured: Number(s.captured),
    fee: Number(s.fee),
    refunded: Number(s.refund),
    finishedAt: input.change.patch?.finishedAt ?? nowMs,
    // The renter's secrets are needed only to start the job: a closed job keeps the names (the
    // renter's view lists them) and loses the values, in the closing batch itself.
    env: withoutValues(job.env),
  };
  try {
    const tx = await postTransaction(
      db,
      {
        kind: s.captured > 0n ? 'capture' : 'refund',
        idempotencyKey: `job:${job.id}:settle`,
        entries,
        ref: `job:${job.id}`,
        meta: { status: input.change.to, billedGpuSeconds: input.billedGpuSeconds, nodeId: job.nodeId },
      },
      {
        now: nowMs,
        with: (txId) => [
          ...changeStatements(db, { ...input.change, patch: { ...patch, settlementTxId: txId } }, nowMs),
          releaseStatement(db, job.id),
          ...(input.also ?? []),
        ],
      },
    );
    // A replay means an earlier settle won: this change did not happen.
    return tx.replayed ? { ok: false, failure: 'conflict' } : { ok: true };
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error as { code?: string }).code === 'idempotency_conflict') {
      return { ok: false, failure: 'conflict' };
    }
    const failure = failureOf(error);
    if (failure === null) throw error;
    return { ok: false, failure };
  }
}
