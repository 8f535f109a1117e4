import type { Db } from '../app-env.ts';
import { getBalance } from './ledger.repo.ts';

// Ledger reads offered to the routes and the chat bots.

/** An account's available balance in base units; 0 for an account that has never held any. */
export async function balanceOf(db: Db, accountId: string): Promise<number> {
  return (await getBalance(db, accountId)) ?? 0;
}
