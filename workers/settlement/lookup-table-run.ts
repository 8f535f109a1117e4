import { and, asc, eq, inArray } from 'drizzle-orm';
import { payoutBatches, payoutLookupTables, payouts } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { stepActiveTable, stepRetiredTable, type LookupTableDeps, type LookupTableRecord } from './lookup-table-step.ts';
import { payoutTableAddresses } from './payout-step.ts';
import type { PayoutLookupTable } from './payout-transaction.ts';
import { WrongClusterError } from './rpc-error.ts';
import type { Settlement } from './settlement-env.ts';

// The D1 side of the treasury's lookup tables (lookup-table-step.ts has the reasoning), one step
// per table per cron run, between planning payouts and stepping batches:
// - the active table is extended until it holds every account the open v0 batches name; the
//   batches are signed (in the same run) once it does;
// - retired tables are deactivated once no signed/sent batch's transaction uses them, then closed.
// Nothing here runs (no RPC call) while no open batch is v0 and no table transaction is pending.

type TableRow = typeof payoutLookupTables.$inferSelect;

/** Retired tables stepped per run (each is a few RPC calls; they wait ~512 slots anyway). */
const RETIRED_TABLES_PER_RUN = 3;

/** Steps the tables; returns the active table's finalized contents when nothing is pending for it. */
export async function advanceLookupTables(db: Db, s: Settlement, nowMs: number): Promise<PayoutLookupTable | null> {
  const deps: LookupTableDeps = {
    rpc: s.rpc,
    treasury: await s.treasury(),
    genesisHash: s.config.genesisHash,
    save: (next, expected) => saveTable(db, next, expected, Date.now()),
    insert: (record) => insertTable(db, record, nowMs),
  };
  let table: PayoutLookupTable | null = null;
  try {
    const needed = await neededAddresses(db, s, deps);
    const [active] = await db.select().from(payoutLookupTables).where(eq(payoutLookupTables.status, 'active')).limit(1);
    if (needed.length > 0 || active?.pending) {
      const step = await stepActiveTable(deps, active ? toRecord(active) : null, needed);
      table = step.table;
      if (step.outcome !== 'ready') console.log('settlement: payout lookup table', step.outcome, step.record?.address ?? '');
    }
  } catch (error) {
    if (error instanceof WrongClusterError) throw error;
    console.error('settlement: payout lookup table step failed', error);
  }
  const retired = await db
    .select()
    .from(payoutLookupTables)
    .where(eq(payoutLookupTables.status, 'retired'))
    .orderBy(asc(payoutLookupTables.updatedAt))
    .limit(RETIRED_TABLES_PER_RUN);
  for (const row of retired) {
    try {
      const [user] = await db
        .select({ id: payoutBatches.id })
        .from(payoutBatches)
        .where(and(eq(payoutBatches.lookupTable, row.address), inArray(payoutBatches.state, ['signed', 'sent'])))
        .limit(1);
      await stepRetiredTable(deps, toRecord(row), user !== undefined);
    } catch (error) {
      if (error instanceof WrongClusterError) throw error;
      console.error('settlement: retired lookup table step failed', row.address, error);
    }
  }
  return table;
}

/** What the open v0 batches look up: our mint, the treasury's token account, each recipient's token account. */
async function neededAddresses(db: Db, s: Settlement, deps: LookupTableDeps): Promise<string[]> {
  const rows = await db
    .selectDistinct({ destination: payouts.destination })
    .from(payouts)
    .innerJoin(payoutBatches, eq(payouts.batchId, payoutBatches.id))
    .where(and(eq(payoutBatches.usesLookupTable, true), inArray(payoutBatches.state, ['queued', 'signed', 'sent'])))
    .orderBy(asc(payouts.destination));
  if (rows.length === 0) return [];
  const requests = rows.map((r, i) => ({ id: String(i), recipientOwner: r.destination, amount: 1n }));
  return payoutTableAddresses(deps.treasury.address, s.config.mint, requests);
}

/** Compare-and-swap on the version; one row changed or nothing. */
async function saveTable(db: Db, next: LookupTableRecord, expectedVersion: number, nowMs: number): Promise<boolean> {
  const result = await db.$client
    .prepare(`UPDATE payout_lookup_tables SET status = ?1, version = ?2, pending = ?3, updated_at = ?4 WHERE id = ?5 AND version = ?6`)
    .bind(next.status, next.version, next.pending ? JSON.stringify(next.pending) : null, nowMs, next.id, expectedVersion)
    .run();
  return result.meta.changes === 1;
}

/** The unique index on the active status keeps a second active table out (an overlapping run's). */
async function insertTable(db: Db, record: LookupTableRecord, nowMs: number): Promise<boolean> {
  const result = await db.$client
    .prepare(
      `INSERT INTO payout_lookup_tables (id, address, recent_slot, status, version, pending, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT DO NOTHING`,
    )
    .bind(
      record.id,
      record.address,
      record.recentSlot,
      record.status,
      record.version,
      record.pending ? JSON.stringify(record.pending) : null,
      nowMs,
    )
    .run();
  return result.meta.changes === 1;
}

function toRecord(row: TableRow): LookupTableRecord {
  return {
    id: row.id,
    address: row.address,
    recentSlot: row.recentSlot,
    status: row.status,
    version: row.version,
    pending: row.pending ? (JSON.parse(row.pending) as LookupTableRecord['pending']) : null,
  };
}
