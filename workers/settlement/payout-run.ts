// Over 300 lines: one cron run of payouts, a crash-safe sequence whose steps must be read in order (the numbered list below); each step's logic is in payout-step.ts, payout-plan.ts and payout-state.ts.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { payoutBatches, payouts } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { cancelPayout, completePayout, type PayoutRow } from '../ledger/payouts.ts';
import { randomId } from '../lib/ids.ts';
import { advanceLookupTables } from './lookup-table-run.ts';
import {
  chooseLookupTable,
  markMissingRecipientAtas,
  planPayoutBatches,
  runPayoutStep,
  type PayoutBatchRecord,
  type PayoutRequest,
} from './payouts.ts';
import { base64ToBytes } from '../../protocol/signed-request.ts';
import { WrongClusterError } from './rpc-error.ts';
import type { Settlement } from './settlement-env.ts';

// Payouts, from ledger to chain, one cron run at a time:
//   1. finish what a crash may have left: a `paid` batch whose payouts are not settled in the
//      ledger yet, a `failed` batch whose payouts are not back in the queue;
//   2. plan queued payouts into new batches (a payout joins a batch by a compare-and-swap from
//      `queued`, so two overlapping runs cannot put one payout into two batches);
//   3. step the treasury's address lookup tables (lookup-table-run.ts): the active one is
//      extended until it holds every account the open v0 batches name;
//   4. advance each open batch by one `runPayoutStep`, whose `save` is a D1 compare-and-swap on
//      (id, attempt, state): of two overlapping runs only one can sign or re-sign a batch. A v0
//      batch is signed only once the table (finalized) holds all its accounts.
// Payouts are settled in the ledger (`completePayout`) only once their batch is `paid`, i.e.
// finalized on chain; a `failed` batch moved nothing on chain, so its payouts are queued again.
//
// One bad recipient (a token account that refuses transfers) must not hold the others hostage:
// a batch that failed because of what it contains (refused in simulation, or failed on chain —
// not merely expired in congestion) counts one failure against each of its payouts. A payout
// with a failure is planned alone from then on, so the good ones are paid without it; one that
// reaches PAYOUT_FAILURE_LIMIT failures is cancelled, i.e. refunded through the ledger, and its
// owner gets a `payout_refunded` alert (workers/alerts/record-pumps.ts).
//
// Token-account rent: a payout whose recipient has no token account is paid by creating it
// (the treasury pays ~0.00204 SOL) only if its withdrawal was charged the rent fee. One that
// was not (the account existed when it was quoted and has been closed since) is refunded: else
// closing and re-opening an account between withdrawals would drain the treasury's SOL.

/** Failed batches a payout may be in before it is refunded: one with others, then alone. */
export const PAYOUT_FAILURE_LIMIT = 3;

/** Why settlement refunded a payout; the refund's memo, and the alert's reason. */
export type PayoutCancelReason = 'invalid_recipient' | 'invalid_amount' | 'recipient_token_account_missing' | 'recipient_refused';

type BatchRow = typeof payoutBatches.$inferSelect;

export interface PayoutRunReport {
  batchesCreated: number;
  stepped: number;
  paid: number;
  failed: number;
  cancelled: number;
  errors: number;
}

export async function runPayouts(db: Db, s: Settlement, nowMs: number): Promise<PayoutRunReport> {
  const report: PayoutRunReport = { batchesCreated: 0, stepped: 0, paid: 0, failed: 0, cancelled: 0, errors: 0 };
  await finishSettledBatches(db, nowMs);
  await planQueuedPayouts(db, s, nowMs, report);
  const lookupTable = await advanceLookupTables(db, s, nowMs);

  const open = await db
    .select()
    .from(payoutBatches)
    .where(inArray(payoutBatches.state, ['queued', 'signed', 'sent']))
    .orderBy(asc(payoutBatches.createdAt), asc(payoutBatches.id))
    .limit(s.config.payouts.batchesPerRun);
  for (const row of open) {
    try {
      const members = await batchPayouts(db, row.id);
      if (members.length === 0) continue; // nothing was assigned (lost every race): never signed
      const result = await runPayoutStep(
        {
          rpc: s.rpc,
          treasury: await s.treasury(),
          mint: s.config.mint,
          decimals: s.config.decimals,
          genesisHash: s.config.genesisHash,
          priorityFeeMicroLamports: s.config.payouts.priorityFeeMicroLamports,
          useLookupTable: row.usesLookupTable,
          lookupTable,
          save: (next, expected) => saveBatch(db, next, expected, Date.now()),
        },
        toRecord(row),
        members.map(toRequest),
      );
      report.stepped += 1;
      if (result.sendError) console.warn('settlement: payout broadcast unconfirmed', row.id, result.sendError.message);
      if (result.record.state === 'paid') {
        await settlePaid(db, row.id, nowMs);
        report.paid += 1;
      } else if (result.record.state === 'failed') {
        console.error('settlement: payout batch failed', row.id, result.record.failureReason, result.action);
        await requeueFailed(db, row.id, nowMs);
        report.failed += 1;
      }
    } catch (error) {
      if (error instanceof WrongClusterError) throw error;
      report.errors += 1;
      console.error('settlement: payout step failed', row.id, error);
    }
  }
  return report;
}

async function planQueuedPayouts(db: Db, s: Settlement, nowMs: number, report: PayoutRunReport): Promise<void> {
  const { maxPerTx, batchesPerRun, lookupTable, maxPerV0Tx } = s.config.payouts;
  const queued = await db
    .select()
    .from(payouts)
    .where(eq(payouts.status, 'queued'))
    .orderBy(asc(payouts.createdAt), asc(payouts.id))
    .limit(Math.max(maxPerTx, lookupTable ? maxPerV0Tx : 0) * batchesPerRun);
  if (queued.length === 0) return;
  const cancel = async (id: string, reason: PayoutCancelReason) => {
    // Unpayable as requested: the funds go back to the account, and its owner is told.
    try {
      await cancelPayout(db, id, reason, nowMs);
      report.cancelled += 1;
    } catch (error) {
      console.error('settlement: could not cancel unpayable payout', id, error);
    }
  };
  const exhausted = queued.filter((p) => p.failures >= PAYOUT_FAILURE_LIMIT);
  if (exhausted.length > 0) {
    // A treasury short of tokens fails every transfer: that is not the recipients' fault.
    const available = await treasuryTokens(s);
    for (const p of exhausted) {
      if (available >= BigInt(p.amount - p.fee)) await cancel(p.id, 'recipient_refused');
      else console.error('settlement: treasury holds too few tokens to pay', p.id, available.toString());
    }
  }
  const rest = queued.filter((p) => p.failures < PAYOUT_FAILURE_LIMIT);
  const byId = new Map(rest.map((p) => [p.id, p]));
  // Which recipients need their token account created decides how many fit in one transaction.
  const marked = await markMissingRecipientAtas(s.rpc, s.config.mint, rest.map(toRequest));
  const requests: PayoutRequest[] = [];
  for (const request of marked) {
    // Rent is the withdrawer's: no fee charged, no account created.
    if (request.createRecipientAta && byId.get(request.id)!.fee === 0) await cancel(request.id, 'recipient_token_account_missing');
    else requests.push(request);
  }
  const options = { priorityFee: s.config.payouts.priorityFeeMicroLamports !== undefined };
  // Payouts that were in a failed batch go alone, so one bad recipient fails only its own.
  const suspects = requests.filter((r) => byId.get(r.id)!.failures > 0);
  const clean = requests.filter((r) => byId.get(r.id)!.failures === 0);
  // Recipients with token accounts go in v0 transactions with the lookup table when that saves
  // transactions (more than one legacy transaction's worth); account creations stay legacy.
  const tableCandidates = clean.filter((r) => !r.createRecipientAta);
  const v0 = lookupTable && chooseLookupTable(tableCandidates, maxPerTx, maxPerV0Tx, options).use;
  const plan = planPayoutBatches(v0 ? clean.filter((r) => r.createRecipientAta) : clean, maxPerTx, options);
  const v0Plan = v0 ? planPayoutBatches(tableCandidates, maxPerV0Tx, { ...options, lookupTable: true }) : { batches: [], rejected: [] };
  plan.rejected.push(...v0Plan.rejected);
  for (const suspect of suspects) {
    const alone = planPayoutBatches([suspect], 1, options);
    plan.batches.push(...alone.batches);
    plan.rejected.push(...alone.rejected);
  }
  for (const { payout, reason } of plan.rejected) await cancel(payout.id, reason);
  for (const batch of plan.batches) {
    if (await createBatch(db, batch, nowMs, false)) report.batchesCreated += 1;
  }
  for (const batch of v0Plan.batches) {
    if (await createBatch(db, batch, nowMs, true)) report.batchesCreated += 1;
  }
}

/** Base units of our mint in the treasury's token account (classic token layout: u64 at byte 64). */
async function treasuryTokens(s: Settlement): Promise<bigint> {
  const [account] = await s.rpc.getMultipleAccounts([s.treasuryTokenAccount]);
  if (!account) return 0n;
  const data = base64ToBytes(account.data[0]);
  if (!data || data.length < 72) return 0n;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(64, true);
}

/**
 * One D1 batch: the batch row, the payouts that are still `queued` moved into it (with their
 * account-creation flag), and the row deleted again if another run took all of them first.
 */
async function createBatch(db: Db, members: PayoutRequest[], nowMs: number, usesLookupTable: boolean): Promise<boolean> {
  const id = randomId('pb');
  const plan = JSON.stringify(members.map((p) => ({ id: p.id, create: p.createRecipientAta ? 1 : 0 })));
  const d1 = db.$client;
  const [, moved] = await d1.batch([
    d1
      .prepare(
        `INSERT INTO payout_batches (id, state, attempt, uses_lookup_table, created_at, updated_at) VALUES (?1, 'queued', 0, ?3, ?2, ?2)`,
      )
      .bind(id, nowMs, usesLookupTable ? 1 : 0),
    d1
      .prepare(
        `UPDATE payouts SET status = 'batched', batch_id = ?1, updated_at = ?2,
           create_recipient_ata = (SELECT json_extract(j.value, '$.create') FROM json_each(?3) j WHERE json_extract(j.value, '$.id') = payouts.id)
         WHERE status = 'queued' AND id IN (SELECT json_extract(value, '$.id') FROM json_each(?3))`,
      )
      .bind(id, nowMs, plan),
    d1.prepare(`DELETE FROM payout_batches WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM payouts WHERE batch_id = ?1)`).bind(id),
  ]);
  return (moved?.meta.changes ?? 0) > 0;
}

/**
 * The compare-and-swap `runPayoutStep` needs: the row changes only if it still has the expected
 * attempt and state. A newly signed transaction is also written to the audit table, in the same
 * D1 batch and only if the swap happened.
 */
export async function saveBatch(
  db: Db,
  next: PayoutBatchRecord,
  expected: Pick<PayoutBatchRecord, 'attempt' | 'state'>,
  nowMs: number,
): Promise<boolean> {
  const d1 = db.$client;
  const statements = [
    d1
      .prepare(
        `UPDATE payout_batches SET state = ?1, attempt = ?2, signature = ?3, wire_transaction = ?4, blockhash = ?5,
           last_valid_block_height = ?6, landed_slot = ?7, failure_reason = ?8, updated_at = ?9, lookup_table = ?13
         WHERE id = ?10 AND attempt = ?11 AND state = ?12`,
      )
      .bind(
        next.state,
        next.attempt,
        next.signature,
        next.wireTransaction,
        next.blockhash,
        next.lastValidBlockHeight,
        next.landedSlot,
        next.failureReason,
        nowMs,
        next.id,
        expected.attempt,
        expected.state,
        next.lookupTable,
      ),
  ];
  if (next.attempt !== expected.attempt) {
    statements.push(
      d1
        .prepare(
          `INSERT INTO payout_batch_attempts (batch_id, attempt, signature, blockhash, last_valid_block_height, created_at)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE changes() = 1`,
        )
        .bind(next.id, next.attempt, next.signature, next.blockhash, next.lastValidBlockHeight, nowMs),
    );
  }
  const [update] = await d1.batch(statements);
  return update?.meta.changes === 1;
}

/** A crash between a batch's `paid` and its ledger postings, or between `failed` and the requeue, is finished here. */
async function finishSettledBatches(db: Db, nowMs: number): Promise<void> {
  const leftovers = await db
    .selectDistinct({ id: payoutBatches.id, state: payoutBatches.state })
    .from(payoutBatches)
    .innerJoin(payouts, eq(payouts.batchId, payoutBatches.id))
    .where(and(inArray(payoutBatches.state, ['paid', 'failed']), eq(payouts.status, 'batched')))
    .limit(50);
  for (const batch of leftovers) {
    try {
      if (batch.state === 'paid') await settlePaid(db, batch.id, nowMs);
      else await requeueFailed(db, batch.id, nowMs);
    } catch (error) {
      console.error('settlement: finishing payout batch failed', batch.id, error);
    }
  }
}

/** Each payout of a finalized batch leaves the ledger once: system:payouts_pending → system:treasury. */
async function settlePaid(db: Db, batchId: string, nowMs: number): Promise<void> {
  const members = await db
    .select({ id: payouts.id })
    .from(payouts)
    .where(and(eq(payouts.batchId, batchId), eq(payouts.status, 'batched')));
  for (const p of members) await completePayout(db, p.id, nowMs);
}

/**
 * Nothing moved on chain: the payouts go back to the queue, to be planned into a new batch. A
 * failure caused by the contents (refused in simulation, failed on chain) counts against each
 * of them; one that only expired unseen (congestion, dropped packets) does not.
 */
async function requeueFailed(db: Db, batchId: string, nowMs: number): Promise<void> {
  await db
    .update(payouts)
    .set({
      status: 'queued',
      batchId: null,
      createRecipientAta: false,
      updatedAt: nowMs,
      failures: sql`${payouts.failures} + (SELECT count(*) FROM payout_batches WHERE id = ${batchId} AND failure_reason IN ('rejected_in_preflight', 'failed_on_chain'))`,
    })
    .where(
      and(
        eq(payouts.batchId, batchId),
        eq(payouts.status, 'batched'),
        sql`EXISTS (SELECT 1 FROM payout_batches WHERE id = ${batchId} AND state = 'failed')`,
      ),
    );
}

/** The batch's payouts in a fixed order: a re-signed transaction pays exactly the same transfers. */
function batchPayouts(db: Db, batchId: string): Promise<PayoutRow[]> {
  return db.select().from(payouts).where(eq(payouts.batchId, batchId)).orderBy(asc(payouts.createdAt), asc(payouts.id));
}

/** What goes on chain: the withdrawal less the rent fee it was charged. */
function toRequest(p: PayoutRow): PayoutRequest {
  return { id: p.id, recipientOwner: p.destination, amount: BigInt(p.amount - p.fee), createRecipientAta: p.createRecipientAta };
}

function toRecord(row: BatchRow): PayoutBatchRecord {
  return {
    id: row.id,
    state: row.state,
    attempt: row.attempt,
    signature: row.signature,
    wireTransaction: row.wireTransaction,
    blockhash: row.blockhash,
    lastValidBlockHeight: row.lastValidBlockHeight,
    landedSlot: row.landedSlot,
    failureReason: row.failureReason as PayoutBatchRecord['failureReason'],
    lookupTable: row.lookupTable,
  };
}
