import { and, asc, eq, sql } from 'drizzle-orm';
import { depositReferences, deposits } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { creditDeposit, decidedSignatures, recordIgnoredDeposit } from '../ledger/deposits.ts';
import { isFinalDecision, scanReference, type DepositDecision } from './deposits.ts';
import { WrongClusterError } from './rpc-error.ts';
import type { Settlement } from './settlement-env.ts';

// Deposits, from chain to ledger: scan one reference (deposits.ts decides each transaction), then
// record every final decision. Crediting is once per signature whatever overlaps (two cron runs,
// a cron run and a user's "check now", two checks): the ledger's idempotency key and the primary
// key of `deposits` both hold the signature. A scan is therefore always safe to repeat.

export type DepositReferenceRow = typeof depositReferences.$inferSelect;

/** Signatures listed per scan: a reference spammed with dust cannot stall a cron run. */
const MAX_SIGNATURES_PER_SCAN = 100;

export interface RecordedDecision {
  signature: string;
  /** `credited`: this scan credited it; `already_decided`: another scan got there first; `ignored`: recorded, not creditable; `pending`: look again later. */
  outcome: 'credited' | 'already_decided' | 'ignored' | 'pending';
  reason?: string;
  /** Base units, when known. */
  amount?: bigint;
}

export interface ReferenceScan {
  reference: string;
  decisions: RecordedDecision[];
  /** Base units this scan credited (0 when another scan credited them). */
  creditedNow: bigint;
  /** Every signature up to the newest one is decided for good; the cursor moved. */
  complete: boolean;
}

export async function scanAndRecord(db: Db, s: Settlement, ref: DepositReferenceRow, nowMs = Date.now()): Promise<ReferenceScan> {
  const skip = await decidedSignatures(db, ref.reference);
  const scan = await scanReference(
    s.rpc,
    ref.reference,
    {
      mint: s.config.mint,
      treasuryTokenAccount: s.treasuryTokenAccount,
      decimals: s.config.decimals,
      expectedAmount: ref.expectedAmount === null ? undefined : BigInt(ref.expectedAmount),
    },
    { genesisHash: s.config.genesisHash, skip, until: ref.scannedUntil ?? undefined, maxSignatures: MAX_SIGNATURES_PER_SCAN },
  );
  const decisions: RecordedDecision[] = [];
  let creditedNow = 0n;
  for (const decision of scan.decisions) {
    const recorded = await record(db, ref, decision, nowMs);
    if (recorded.outcome === 'credited') creditedNow += recorded.amount ?? 0n;
    decisions.push(recorded);
  }
  const complete = scan.complete && decisions.every((d) => d.outcome !== 'pending');
  await db
    .update(depositReferences)
    .set({
      scannedAt: nowMs,
      // Only a complete scan may move the cursor: every signature up to it is decided for good.
      ...(complete && scan.newestSignature ? { scannedUntil: scan.newestSignature } : {}),
      status: sql`CASE
        WHEN ${depositReferences.status} <> 'open' THEN ${depositReferences.status}
        WHEN ${depositReferences.expectedAmount} IS NOT NULL AND EXISTS (
          SELECT 1 FROM ${deposits} WHERE ${deposits.reference} = ${ref.reference} AND ${deposits.status} = 'credited'
        ) THEN 'used'
        WHEN ${complete ? 1 : 0} = 1 AND ${depositReferences.expiresAt} IS NOT NULL AND ${depositReferences.expiresAt} <= ${nowMs} THEN 'expired'
        ELSE 'open' END`,
    })
    .where(eq(depositReferences.reference, ref.reference));
  return { reference: ref.reference, decisions, creditedNow, complete };
}

async function record(db: Db, ref: DepositReferenceRow, decision: DepositDecision, nowMs: number): Promise<RecordedDecision> {
  const { signature } = decision;
  if (!isFinalDecision(decision)) {
    return { signature, outcome: 'pending', reason: decision.ok ? undefined : decision.reason };
  }
  if (!decision.ok) {
    await recordIgnoredDeposit(
      db,
      { signature, reference: ref.reference, accountId: ref.accountId, reason: decision.reason, detail: decision.detail, amount: decision.amount, slot: decision.slot },
      nowMs,
    );
    return { signature, outcome: 'ignored', reason: decision.reason, amount: decision.amount };
  }
  if (decision.amount > BigInt(Number.MAX_SAFE_INTEGER)) {
    // The ledger keeps safe integers; a deposit this large is for an operator to handle by hand.
    await recordIgnoredDeposit(
      db,
      { signature, reference: ref.reference, accountId: ref.accountId, reason: 'amount_out_of_range', detail: `${decision.amount} base units`, slot: decision.slot },
      nowMs,
    );
    return { signature, outcome: 'ignored', reason: 'amount_out_of_range', amount: decision.amount };
  }
  try {
    const result = await creditDeposit(
      db,
      {
        signature,
        accountId: ref.accountId,
        amount: decision.amount,
        reference: ref.reference,
        slot: decision.slot,
        payer: decision.payer,
        sourceOwner: decision.sourceOwner,
        blockTime: decision.blockTime,
      },
      nowMs,
    );
    return { signature, outcome: result.credited ? 'credited' : 'already_decided', amount: decision.amount };
  } catch (error) {
    // Decided as not creditable by an earlier scan (the decision is deterministic, so this is rare).
    if (error instanceof AppError && error.code === 'deposit_already_decided') return { signature, outcome: 'already_decided' };
    throw error;
  }
}

export interface ScanPassReport {
  scanned: number;
  credited: number;
  ignored: number;
  failed: number;
}

/**
 * The cron's deposit pass: open references, least recently scanned first, `limit` of them. One
 * reference's RPC failure is logged and the pass goes on; a wrong cluster stops it at once.
 */
export async function scanOutstandingReferences(db: Db, s: Settlement, nowMs: number, limit: number): Promise<ScanPassReport> {
  const refs = await db
    .select()
    .from(depositReferences)
    .where(eq(depositReferences.status, 'open'))
    .orderBy(asc(sql`coalesce(${depositReferences.scannedAt}, 0)`), asc(depositReferences.createdAt))
    .limit(limit);
  const report: ScanPassReport = { scanned: 0, credited: 0, ignored: 0, failed: 0 };
  for (const ref of refs) {
    try {
      const scan = await scanAndRecord(db, s, ref, nowMs);
      report.scanned += 1;
      report.credited += scan.decisions.filter((d) => d.outcome === 'credited').length;
      report.ignored += scan.decisions.filter((d) => d.outcome === 'ignored').length;
    } catch (error) {
      if (error instanceof WrongClusterError) throw error;
      report.failed += 1;
      console.error('settlement: deposit scan failed', ref.reference, error);
    }
  }
  return report;
}

/** A reference handed to `accountId`, or undefined. */
export async function findReference(db: Db, accountId: string, reference: string): Promise<DepositReferenceRow | undefined> {
  return db
    .select()
    .from(depositReferences)
    .where(and(eq(depositReferences.reference, reference), eq(depositReferences.accountId, accountId)))
    .get();
}
