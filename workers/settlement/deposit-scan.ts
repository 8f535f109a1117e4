import { and, asc, eq, sql } from 'drizzle-orm';
import { depositReferences, deposits } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { creditDeposit, decidedAmong, recordIgnoredDeposit } from '../ledger/deposits.ts';
import { isFinalDecision, scanReference, type DepositDecision } from './deposits.ts';
import { WrongClusterError } from './rpc-error.ts';
import type { Settlement } from './settlement-env.ts';

// Deposits, from chain to ledger: scan one reference (deposits.ts decides each transaction), then
// record every final decision. Crediting is once per signature whatever overlaps (two cron runs,
// a cron run and a user's "check now", two checks): the ledger's idempotency key and the primary
// key of `deposits` both hold the signature. A scan is therefore always safe to repeat.

export type DepositReferenceRow = typeof depositReferences.$inferSelect;

/**
 * Signatures listed per scan: a reference spammed with dust cannot stall a cron run. More than
 * this leaves a gap that the next scans close by paging back (`gap_before`), never relisting.
 */
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

/**
 * One scan of one reference. Its `scanned_at` is written whatever happens (an RPC failure, a
 * decision that cannot be recorded): the cron takes the least recently scanned first, so a
 * reference that failed without it would sort first in every pass and, a pass's worth of them,
 * stop all crediting.
 */
export async function scanAndRecord(db: Db, s: Settlement, ref: DepositReferenceRow, nowMs = Date.now()): Promise<ReferenceScan> {
  try {
    return await scanOnce(db, s, ref, nowMs);
  } catch (error) {
    try {
      await db.update(depositReferences).set({ scannedAt: nowMs }).where(eq(depositReferences.reference, ref.reference));
    } catch (writeError) {
      console.error('settlement: could not write scanned_at', ref.reference, writeError);
    }
    throw error;
  }
}

async function scanOnce(db: Db, s: Settlement, ref: DepositReferenceRow, nowMs: number): Promise<ReferenceScan> {
  // A gap is open when an earlier scan was cut short: close it first, paging back from where that
  // scan stopped; only then list from the top again. Each scan thus moves at least one listing's
  // worth of signatures, and dust newer than a deposit cannot hide it.
  const gap = ref.gapNewest !== null && ref.gapBefore !== null ? { newest: ref.gapNewest, before: ref.gapBefore } : null;
  let listed: readonly string[] = [];
  const elsewhere = new Set<string>();
  const scan = await scanReference(
    s.rpc,
    ref.reference,
    {
      mint: s.config.mint,
      treasuryTokenAccount: s.treasuryTokenAccount,
      decimals: s.config.decimals,
      expectedAmount: ref.expectedAmount === null ? undefined : BigInt(ref.expectedAmount),
    },
    {
      genesisHash: s.config.genesisHash,
      until: ref.scannedUntil ?? undefined,
      before: gap?.before,
      maxSignatures: MAX_SIGNATURES_PER_SCAN,
      // Decided anywhere counts: a transaction naming several references is decided once, under
      // the first that found it. Looked up for the listed signatures only.
      skip: async (signatures) => {
        listed = signatures;
        const decided = await decidedAmong(db, signatures);
        for (const [signature, reference] of decided) if (reference !== ref.reference) elsewhere.add(signature);
        return new Set(decided.keys());
      },
    },
  );
  const bySignature = new Map(scan.decisions.map((d) => [d.signature, d]));
  const decisions: RecordedDecision[] = [];
  let creditedNow = 0n;
  // Chain order (the listing is newest first). Decided under this reference: nothing to say again.
  for (const signature of [...listed].reverse()) {
    if (elsewhere.has(signature)) {
      decisions.push({ signature, outcome: 'already_decided', reason: DECIDED_ELSEWHERE });
      continue;
    }
    const decision = bySignature.get(signature);
    if (!decision) continue;
    const recorded = await record(db, ref, decision, nowMs);
    if (recorded.outcome === 'credited') creditedNow += recorded.amount ?? 0n;
    decisions.push(recorded);
  }
  const final = decisions.every((d) => d.outcome !== 'pending');
  const complete = scan.complete && final;
  // Every signature in (gap_before, gap_newest] and at or below scanned_until is decided for good;
  // the cursor moves only when this scan's listing is all final (a pending one is listed again).
  const newest = gap ? gap.newest : scan.newestSignature;
  const cursor = !final
    ? null
    : scan.complete
      ? { scannedUntil: newest ?? ref.scannedUntil, gapNewest: null, gapBefore: null }
      : { gapNewest: newest, gapBefore: scan.oldestSignature };
  const stamp = db
    .update(depositReferences)
    .set({
      scannedAt: nowMs,
      status: sql`CASE
      WHEN ${depositReferences.status} <> 'open' THEN ${depositReferences.status}
      WHEN ${depositReferences.expectedAmount} IS NOT NULL AND EXISTS (
        SELECT 1 FROM ${deposits} WHERE ${deposits.reference} = ${ref.reference} AND ${deposits.status} = 'credited'
      ) THEN 'used'
      WHEN ${complete ? 1 : 0} = 1 AND ${depositReferences.expiresAt} IS NOT NULL AND ${depositReferences.expiresAt} <= ${nowMs} THEN 'expired'
      ELSE 'open' END`,
    })
    .where(eq(depositReferences.reference, ref.reference));
  if (!cursor) {
    await stamp;
  } else {
    await db.batch([
      // Compare-and-swap on the cursor this scan started from: when a concurrent scan (the cron
      // and a check) moved it first, that one wins and this one's older view is dropped.
      db
        .update(depositReferences)
        .set(cursor)
        .where(
          and(
            eq(depositReferences.reference, ref.reference),
            sql`${depositReferences.scannedUntil} IS ${ref.scannedUntil}`,
            sql`${depositReferences.gapBefore} IS ${ref.gapBefore}`,
          ),
        ),
      stamp,
    ]);
  }
  return { reference: ref.reference, decisions, creditedNow, complete };
}

/** `reason` of an `already_decided` signature that was decided under another reference. */
const DECIDED_ELSEWHERE = 'decided_under_another_reference';

async function record(db: Db, ref: DepositReferenceRow, decision: DepositDecision, nowMs: number): Promise<RecordedDecision> {
  const { signature } = decision;
  if (!isFinalDecision(decision)) {
    return { signature, outcome: 'pending', reason: decision.ok ? undefined : decision.reason };
  }
  if (!decision.ok) {
    const inserted = await recordIgnoredDeposit(
      db,
      {
        signature,
        reference: ref.reference,
        accountId: ref.accountId,
        reason: decision.reason,
        detail: decision.detail,
        amount: decision.amount,
        slot: decision.slot,
      },
      nowMs,
    );
    // Not inserted: a concurrent scan (of this or another reference it names) decided it first.
    if (!inserted) return { signature, outcome: 'already_decided' };
    return { signature, outcome: 'ignored', reason: decision.reason, amount: decision.amount };
  }
  if (decision.amount > BigInt(Number.MAX_SAFE_INTEGER)) {
    // The ledger keeps safe integers; a deposit this large is for an operator to handle by hand.
    await recordIgnoredDeposit(
      db,
      {
        signature,
        reference: ref.reference,
        accountId: ref.accountId,
        reason: 'amount_out_of_range',
        detail: `${decision.amount} base units`,
        slot: decision.slot,
      },
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
    // `deposit:<signature>` credited with other parameters: a concurrent scan of another reference
    // the same transaction names credited it (to that reference's account). Decided, not an error:
    // thrown, it would fail this reference's every scan.
    if (error instanceof AppError && error.code === 'idempotency_conflict')
      return { signature, outcome: 'already_decided', reason: DECIDED_ELSEWHERE };
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
