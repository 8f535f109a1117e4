import { and, eq } from 'drizzle-orm';
import { accountLinks, accounts } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { randomId } from '../lib/ids.ts';

export interface UserAccount {
  id: string;
  wallet: string;
  createdAt: number;
}

/**
 * The account of a wallet, created on first sign-in. Race-safe: two first sign-ins of one
 * wallet insert under the UNIQUE wallet column and both read back the one row that won.
 */
export async function findOrCreateWalletAccount(db: Db, wallet: string, nowMs = Date.now()): Promise<UserAccount & { created: boolean }> {
  const id = randomId('acc');
  const [, rows] = await db.batch([
    db
      .insert(accounts)
      .values({ id, kind: 'user', wallet, balance: 0, createdAt: nowMs, updatedAt: nowMs })
      .onConflictDoNothing({ target: accounts.wallet }),
    db
      .select({ id: accounts.id, wallet: accounts.wallet, createdAt: accounts.createdAt })
      .from(accounts)
      .where(eq(accounts.wallet, wallet)),
  ]);
  const row = rows[0]!;
  return { id: row.id, wallet: row.wallet!, createdAt: row.createdAt, created: row.id === id };
}

export async function getUserAccount(db: Db, id: string): Promise<UserAccount | undefined> {
  const row = await db
    .select({ id: accounts.id, wallet: accounts.wallet, createdAt: accounts.createdAt })
    .from(accounts)
    .where(and(eq(accounts.id, id), eq(accounts.kind, 'user')))
    .get();
  return row ? { id: row.id, wallet: row.wallet!, createdAt: row.createdAt } : undefined;
}

export async function linksOf(db: Db, accountId: string) {
  return db
    .select({ platform: accountLinks.platform, platformUserId: accountLinks.platformUserId, linkedAt: accountLinks.linkedAt })
    .from(accountLinks)
    .where(eq(accountLinks.accountId, accountId))
    .orderBy(accountLinks.linkedAt);
}
