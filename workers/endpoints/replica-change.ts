import { and, eq, isNull, sql } from 'drizzle-orm';
import { accounts, endpointReplicas, endpoints, nodes, type ReplicaRowState } from '../../db/schema.ts';
import { findOrCreateWalletAccount } from '../accounts/accounts.repo.ts';
import { getParams } from '../governance/params.repo.ts';
import { runBatch } from '../ledger/d1-batch.ts';
import { escrowAccount, SYSTEM_ACCOUNTS } from '../ledger/ledger-accounts.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';
import { assertChanged, assertionFailed } from '../staking/sql-assert.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import { nextBill, observedReadyMs, type Bill } from './replica-billing.ts';

// Every change of a replica row goes through `changeReplica`: the new state and, when ready time
// became billable, the bill up to that instant, as ONE D1 batch. The batch compare-and-swaps on
// every field the change was computed from, so two writers (the tunnel object and the cron) never
// both apply a change computed from the same row: the loser reads again and recomputes. The bill's
// ledger key names the replica and the billed_ms it reaches, so a replayed batch takes nothing twice.

export type ReplicaRow = typeof endpointReplicas.$inferSelect;

export interface ReplicaPatch {
  state?: ReplicaRowState;
  reason?: string | null;
  /** true opens a ready period (if none is open), false closes it into ready_ms. */
  ready?: boolean;
  receipt?: { readyMs: number; at: number; signature: string };
  stop?: boolean;
  requestsSeen?: number;
}

const MAX_TRIES = 4;

interface Loaded {
  row: ReplicaRow;
  accountId: string;
  owner: string | null;
  hold: number;
}

async function load(ctx: EndpointsContext, replicaId: string): Promise<Loaded | null> {
  const found = await ctx.db
    .select({ row: endpointReplicas, accountId: endpoints.accountId, owner: nodes.owner, hold: accounts.balance })
    .from(endpointReplicas)
    .innerJoin(endpoints, eq(endpoints.id, endpointReplicas.endpointId))
    .leftJoin(nodes, eq(nodes.id, endpointReplicas.nodeId))
    .leftJoin(accounts, eq(accounts.id, sql`'escrow:' || ${endpointReplicas.endpointId}`))
    .where(eq(endpointReplicas.id, replicaId))
    .get();
  return found ? { row: found.row, accountId: found.accountId, owner: found.owner, hold: found.hold ?? 0 } : null;
}

/** The row after `patch` at `nowMs` (billing fields untouched). */
export function applyPatch(row: ReplicaRow, patch: ReplicaPatch, nowMs: number): ReplicaRow {
  const next = { ...row, updatedAt: nowMs };
  if (patch.ready === true && next.readySince === null) next.readySince = nowMs;
  if (patch.ready === false && next.readySince !== null) {
    next.readyMs = observedReadyMs(row, nowMs);
    next.readySince = null;
  }
  if (patch.state !== undefined) next.state = patch.state;
  if (patch.reason !== undefined) next.reason = patch.reason;
  if (patch.receipt && patch.receipt.readyMs > next.receiptReadyMs) {
    next.receiptReadyMs = patch.receipt.readyMs;
    next.receiptAt = patch.receipt.at;
    next.receiptSignature = patch.receipt.signature;
  }
  if (patch.stop && next.stoppedAt === null) {
    if (next.readySince !== null) {
      next.readyMs = observedReadyMs(next, nowMs);
      next.readySince = null;
    }
    next.stoppedAt = nowMs;
    next.state = 'stopped';
  }
  if (patch.requestsSeen !== undefined) next.requestsSeen = patch.requestsSeen;
  if (next.state !== row.state) next.stateSince = nowMs;
  return next;
}

function samePatch(a: ReplicaRow, b: ReplicaRow): boolean {
  return (
    a.state === b.state &&
    a.reason === b.reason &&
    a.readySince === b.readySince &&
    a.readyMs === b.readyMs &&
    a.receiptReadyMs === b.receiptReadyMs &&
    a.stoppedAt === b.stoppedAt &&
    a.requestsSeen === b.requestsSeen
  );
}

async function operatorAccount(ctx: EndpointsContext, owner: string, nowMs: number): Promise<string> {
  const hit = ctx.operatorAccounts.get(owner);
  if (hit) return hit;
  const account = await findOrCreateWalletAccount(ctx.db, owner, nowMs);
  ctx.operatorAccounts.set(owner, account.id);
  return account.id;
}

export interface ChangeOutcome {
  row: ReplicaRow;
  changed: boolean;
  bill: Bill | null;
}

/**
 * Applies `makePatch(row)` to a replica and bills its ready time up to `nowMs`, in one batch
 * (`{}`: only bill; null: leave the row alone, not even billing). Returns null when the replica
 * does not exist.
 */
export async function changeReplica(
  ctx: EndpointsContext,
  replicaId: string,
  makePatch: (row: ReplicaRow) => ReplicaPatch | null,
  nowMs: number,
): Promise<ChangeOutcome | null> {
  for (let attempt = 0; ; attempt++) {
    const loaded = await load(ctx, replicaId);
    if (!loaded) return null;
    const { row } = loaded;
    const patch = makePatch(row);
    if (patch === null) return { row, changed: false, bill: null };
    const next = applyPatch(row, patch, nowMs);
    const feeBps = (await getParams(ctx.db, ctx.config, nowMs)).protocol_fee_bps;
    const bill = nextBill(next, nowMs, feeBps, BigInt(loaded.hold));
    if (samePatch(row, next) && bill === null) return { row, changed: false, bill: null };
    if (bill) {
      next.billedMs = bill.billedMs;
      next.billedAmount = row.billedAmount + Number(bill.amount);
      next.billedFee = row.billedFee + Number(bill.fee);
    }
    const statements = [updateStatement(ctx, row, next), assertChanged(ctx.db.$client, 'replica_moved')];
    // A stopped replica gives its node's GPUs back in the same batch (they were committed like a job's).
    if (row.stoppedAt === null && next.stoppedAt !== null)
      statements.push(ctx.db.$client.prepare('DELETE FROM gpu_commitments WHERE job_id = ?1').bind(row.id));
    try {
      if (bill && bill.amount > 0n) {
        if (!loaded.owner) throw new Error(`replica ${row.id}: node ${row.nodeId} is not registered`);
        const operator = bill.operator > 0n ? await operatorAccount(ctx, loaded.owner, nowMs) : '';
        const tx = await postTransaction(
          ctx.db,
          {
            kind: 'capture',
            idempotencyKey: `endpoint:${row.endpointId}:bill:${row.id}:${bill.billedMs}`,
            entries: [
              { account: escrowAccount(row.endpointId), amount: -bill.amount },
              { account: operator, amount: bill.operator },
              { account: SYSTEM_ACCOUNTS.fees, amount: bill.fee },
            ].filter((e) => e.amount !== 0n),
            ref: `endpoint:${row.endpointId}`,
            memo: 'endpoint replica time',
            meta: { replicaId: row.id, nodeId: row.nodeId, billedMs: bill.billedMs },
          },
          { now: nowMs, with: () => statements },
        );
        // A replay: an earlier batch with this very bill ran; this row moved with it.
        if (tx.replayed) throw new RetryableChange();
      } else {
        await runBatch(ctx.db, statements);
      }
      return { row: next, changed: true, bill };
    } catch (error) {
      const retry =
        error instanceof RetryableChange ||
        assertionFailed(error) === 'replica_moved' ||
        codeOf(error) === 'idempotency_conflict' ||
        codeOf(error) === 'insufficient_funds';
      if (!retry || attempt + 1 >= MAX_TRIES) throw error;
    }
  }
}

class RetryableChange extends Error {}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String((error as { code?: unknown }).code) : undefined;
}

/** The row's new values, applied only if it still holds every value they were computed from. */
function updateStatement(ctx: EndpointsContext, row: ReplicaRow, next: ReplicaRow) {
  return ctx.db
    .update(endpointReplicas)
    .set({
      state: next.state,
      reason: next.reason,
      stateSince: next.stateSince,
      readySince: next.readySince,
      readyMs: next.readyMs,
      receiptReadyMs: next.receiptReadyMs,
      receiptAt: next.receiptAt,
      receiptSignature: next.receiptSignature,
      billedMs: next.billedMs,
      billedAmount: next.billedAmount,
      billedFee: next.billedFee,
      requestsSeen: next.requestsSeen,
      stoppedAt: next.stoppedAt,
      updatedAt: next.updatedAt,
    })
    .where(
      and(
        eq(endpointReplicas.id, row.id),
        eq(endpointReplicas.state, row.state),
        row.readySince === null ? isNull(endpointReplicas.readySince) : eq(endpointReplicas.readySince, row.readySince),
        eq(endpointReplicas.readyMs, row.readyMs),
        eq(endpointReplicas.receiptReadyMs, row.receiptReadyMs),
        eq(endpointReplicas.billedMs, row.billedMs),
        eq(endpointReplicas.billedAmount, row.billedAmount),
        eq(endpointReplicas.requestsSeen, row.requestsSeen),
        row.stoppedAt === null ? isNull(endpointReplicas.stoppedAt) : eq(endpointReplicas.stoppedAt, row.stoppedAt),
      ),
    );
}
