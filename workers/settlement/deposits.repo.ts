import { desc, eq } from 'drizzle-orm';
import { depositReferences, deposits } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

// The deposit routes' reads (deposits.app.ts); the writes are the scan's (deposit-scan.ts).

export function referencesOfAccount(db: Db, accountId: string, limit: number) {
  return db
    .select()
    .from(depositReferences)
    .where(eq(depositReferences.accountId, accountId))
    .orderBy(desc(depositReferences.createdAt))
    .limit(limit);
}

export function depositsOfAccount(db: Db, accountId: string, limit: number) {
  return db.select().from(deposits).where(eq(deposits.accountId, accountId)).orderBy(desc(deposits.decidedAt)).limit(limit);
}

export function depositsOfReference(db: Db, reference: string, limit: number) {
  return db.select().from(deposits).where(eq(deposits.reference, reference)).orderBy(desc(deposits.decidedAt)).limit(limit);
}
